//! The `tavle` command: parse the command line and configuration, start logging,
//! and hand over to `tavle::cli`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tavle::cli::Cli::parse();
    let config = match tavle::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    tavle::cli::init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tavle::cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, never a backtrace or a dump.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
