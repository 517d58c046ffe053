//! The command line: `tavle demo`, `serve`, `migrate`, `idp`, `import hr`, `import timetable`,
//! `import subjects`, `import pas`, `import folkeregister`, `import districts`, `import krr`, `export`, `audit verify`, `mail deliver`, `mail weekly-summary`, `sms deliver`, `backup`, `restore`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand, ValueEnum};

use crate::app::build_router;
use crate::config::{Config, ConfigError, LogFormat};
use crate::db::{self, embedded};
use crate::demo::{self, DemoSize};
use crate::hr;
use crate::state::{AppState, Mode};

#[derive(Debug, Parser)]
#[command(name = "tavle", version, about = "Tavle: the school administration portal of a Norwegian municipality")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Size {
    /// Fjordvik (about 1,500 pupils in three schools) and the small Småøy.
    Standard,
    /// Also Storby, an Oslo-size municipality (about 90,000 pupils, 180 schools), for benchmarks.
    Large,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Tavle with its own embedded PostgreSQL and the demo municipalities, with a
    /// demo sign-in page. Nothing to configure: everything lives in --data-dir.
    Demo {
        /// Where the embedded database lives.
        #[arg(long, default_value = ".tavle")]
        data_dir: PathBuf,
        /// Address to serve on (overrides TAVLE_LISTEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Delete the demo database first and start over.
        #[arg(long)]
        reset: bool,
        /// Which demo municipalities to create.
        #[arg(long, value_enum, default_value = "standard")]
        size: Size,
        /// With `--size large`: how many Oslo-size municipalities (2 adds Storvik, for
        /// the two-municipality benchmark).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
        municipalities: u8,
        /// Build the database and exit without serving (e.g. to time the large demo).
        #[arg(long)]
        no_serve: bool,
        /// Build the demo in the database of TAVLE_MIGRATION_DATABASE_URL (its schema
        /// owner) and serve it through DATABASE_URL (a member of tavle_app), instead of
        /// the embedded PostgreSQL: e.g. a local Citus cluster (scripts/citus-local).
        #[arg(long)]
        external: bool,
        /// Also sign in through the local identity provider (dev/idp) at this base URL,
        /// e.g. http://127.0.0.1:4000: Feide and ID-porten for both demo municipalities.
        #[arg(long, value_name = "URL")]
        dev_idp: Option<url::Url>,
        /// Print the demo persons as dev/idp accounts (JSON) and exit.
        #[arg(long)]
        print_idp_accounts: bool,
        /// Print the demo's calendar around today (TAVLE_TODAY, if set) as JSON and exit:
        /// the school years, their terms, days off and school days, and the days to run
        /// the date-dependent tests on (`scripts/test-dates`).
        #[arg(long)]
        print_calendar: bool,
    },
    /// Run in production against DATABASE_URL: migrations applied, sign-in only
    /// through the identity providers, never demo data.
    Serve,
    /// Apply pending database migrations (TAVLE_MIGRATION_DATABASE_URL or DATABASE_URL) and exit.
    Migrate,
    /// On Citus, distribute every table by municipality (tenant_id, co-located) and make
    /// the others reference tables; on plain PostgreSQL, say so and do nothing. `migrate`
    /// does this too; this prints the plan.
    Distribute,
    /// Configure the identity providers (Feide, ID-porten) of a municipality.
    Idp {
        #[command(subcommand)]
        action: IdpAction,
    },
    /// Import data from the municipality's other systems into DATABASE_URL.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Export the municipality's roster (DATABASE_URL) for Feide or a learning platform,
    /// as the system administrator's page does: for the school owner's daily provisioning.
    ///
    /// Each run is one audit row with the purpose and every person in the file. No
    /// address is ever in it; national id numbers only in the PIFU file (Feide needs them).
    Export {
        /// `pifu` (PIFU-IMS 1.3 XML, for Feide) or `oneroster` (OneRoster 1.2 CSV zip).
        #[arg(value_enum)]
        format: crate::exchanges::Format,
        /// The file to write (replaced only when it is complete).
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
    },
    /// Work with the audit log (as the schema owner: TAVLE_MIGRATION_DATABASE_URL or DATABASE_URL).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// E-mail to guardians (DATABASE_URL; `tavle serve` also does both on its own).
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// SMS (DATABASE_URL; `tavle serve` also delivers on its own).
    Sms {
        #[command(subcommand)]
        command: SmsCommand,
    },
    /// Write the whole database to FILE (pg_dump's custom format): every table's rows,
    /// the schema, row-level security, grants. As TAVLE_MIGRATION_DATABASE_URL or
    /// DATABASE_URL, which must be a role that reads every municipality (a superuser
    /// or BYPASSRLS).
    Backup {
        /// The file to write (replaced when the backup is complete).
        file: PathBuf,
    },
    /// Restore a backup into the database of TAVLE_MIGRATION_DATABASE_URL (or
    /// DATABASE_URL), as its owner, in one transaction. The database must have no
    /// tables, unless --replace. The roles (tavle_app and its logins) must exist.
    Restore {
        /// A file written by `tavle backup`.
        file: PathBuf,
        /// Drop what the backup holds from the database first, and restore it.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Hand every due SMS in the outbox to the gateway of TAVLE_SMS_URL once, and exit.
    Deliver,
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send every due message in the outbox once over TAVLE_SMTP_URL, and exit.
    Deliver,
    /// Put the weekly absence summaries of a week in the outbox (idempotent: one per
    /// guardian, school and week). Delivery is by the worker or `tavle mail deliver`.
    WeeklySummary {
        /// The ISO week, e.g. 2026-W47 (default: the last week whose Friday 15:00 has passed).
        #[arg(long)]
        week: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdpAction {
    /// Add or replace a municipality's provider of one kind. The provider's discovery
    /// document is fetched first, so a wrong issuer is caught now. The client secret is
    /// not stored: set TAVLE_OIDC_SECRET_<SLUG>_<KIND> where Tavle runs.
    Set {
        /// The municipality (tenant slug), e.g. fjordvik.
        #[arg(long)]
        tenant: String,
        /// feide (staff and pupils) or idporten (guardians).
        #[arg(long, value_parser = ["feide", "idporten"])]
        kind: String,
        /// The issuer URL; discovery is at <issuer>/.well-known/openid-configuration.
        #[arg(long)]
        issuer: String,
        /// The client id registered with the provider.
        #[arg(long)]
        client_id: String,
        /// Scopes to ask for (default: "openid userid-feide profile" for Feide, "openid profile" for ID-porten).
        #[arg(long)]
        scopes: Option<String>,
        /// Accepted acr values, repeatable (default: Feide's multi-factor level for staff;
        /// idporten-loa-substantial and idporten-loa-high for guardians).
        #[arg(long = "acr")]
        acr: Vec<String>,
        /// Skip fetching the discovery document.
        #[arg(long)]
        no_check: bool,
    },
    /// List the configured providers of every municipality.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Staff from the HR system's CSV file into persons, staff and employments.
    ///
    /// The format is in README.md ("HR import file format"). Every line is checked first:
    /// one bad line and nothing is applied, and every problem is reported with its line
    /// number. Running the same file twice changes nothing.
    Hr {
        /// The CSV file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long)]
        tenant: String,
        /// The file lists every employment: end each current employment it does not contain
        /// (on today's date; nothing is deleted that has begun).
        #[arg(long)]
        full: bool,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// A school's weekly lessons from a CSV file (group, subject, teacher, room,
    /// weekday, start, end, from, to).
    ///
    /// The format is in README.md ("Timetable import file format"). The file replaces the
    /// school's timetable for the school year from its earliest `from` date. Every line is
    /// checked first: one bad line and nothing is applied, and every problem is reported
    /// with its line number. Running the same file twice changes nothing.
    Timetable {
        /// The CSV file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long)]
        tenant: String,
        /// The school, by its organisation number (9 digits).
        #[arg(long)]
        school: String,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// The directorate's subject codes (fagkoder) from Grep's JSON into the
    /// municipality's subjects.
    ///
    /// The format is in README.md ("Subject import file format (Grep)"): the JSON that
    /// https://data.udir.no/kl06/v201906/fagkoder gives, or a part of it. Every entry is
    /// checked first: one bad entry and nothing is applied, and every problem is reported
    /// with the entry's position in the file. Subjects the file does not name are left
    /// alone, grade scales are never changed, and running the same file twice changes
    /// nothing.
    Subjects {
        /// The JSON file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// A file PAS (the directorate's exam system) sent back: the candidates with their
    /// numbers (PameldteKandidater) or the results (Karakteroversikt).
    ///
    /// Every candidate must be one the school drew in Tavle (its exam page). Every
    /// problem is reported with its line; one problem and nothing is applied. Running
    /// the same file twice changes nothing. See README.md, "Exams through PAS".
    Pas {
        /// The XML file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
        /// The school's organisation number: needed for PameldteKandidater; for
        /// Karakteroversikt it must be the file's.
        #[arg(long)]
        school: Option<String>,
        /// The exam period (V-2027) of a Karakteroversikt file (default: the current
        /// school year's spring).
        #[arg(long)]
        period: Option<String>,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Persons from the population register (Folkeregisteret): names, birth date,
    /// address and its protection, parents and parental responsibility, death, moves out.
    ///
    /// The format is in README.md ("Population register file format"): JSON Lines, one
    /// person per line. Every line is checked first: one problem and nothing is applied,
    /// each reported with its line. What cannot be matched safely goes to the office's
    /// queue instead. Running the same file twice changes nothing.
    Folkeregister {
        /// The JSON Lines file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// School districts (skolekretser) for the first-grade intake: the school of a
    /// street in a postal code, or of a whole postal code.
    ///
    /// The format is in README.md ("School district file format"). The file is the
    /// municipality's whole list and replaces it; one problem and nothing is changed.
    /// Running the same file twice changes nothing.
    Districts {
        /// The file: `postnummer;gate;skole` lines after that header.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
        /// Check the file and report what it holds, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Phone, e-mail and the reservation against digital communication from the
    /// contact and reservation register (KRR).
    ///
    /// The format is in README.md ("KRR file format"): the JSON KRR's REST API returns.
    /// A reserved person gets no e-mail from Tavle; fresh details (verified within 18
    /// months) replace Tavle's. One problem and nothing is applied. Running the same
    /// file twice changes nothing.
    Krr {
        /// The JSON file.
        file: PathBuf,
        /// The municipality, by slug (e.g. fjordvik).
        #[arg(long, visible_alias = "municipality")]
        tenant: String,
        /// Check the file and report what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute a municipality's hash chain and check it against every event and the
    /// head. Prints OK with the number of events and the head hash; exits non-zero
    /// naming the first broken seq and why.
    Verify {
        /// The municipality's slug (e.g. fjordvik).
        #[arg(long)]
        tenant: String,
    },
}

pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    // TAVLE_TODAY (demo and tests): every command but `serve` runs as on that date.
    if let (Some(today), false) = (config.today, matches!(cli.command, Command::Serve)) {
        db::fix_today(today)?;
    }
    match cli.command {
        Command::Demo {
            data_dir,
            listen,
            reset,
            size,
            municipalities,
            no_serve,
            external,
            dev_idp,
            print_idp_accounts,
            print_calendar,
        } => {
            if print_idp_accounts {
                println!("{}", serde_json::to_string_pretty(&demo::idp_accounts())?);
                return Ok(());
            }
            if print_calendar {
                println!("{}", serde_json::to_string_pretty(&demo::calendar_json(db::today()))?);
                return Ok(());
            }
            let had_public_url = std::env::var_os("TAVLE_PUBLIC_URL").is_some();
            let config = match listen {
                Some(l) => config.with_listen(l, had_public_url),
                None => config,
            };
            let size = match (size, municipalities) {
                (Size::Standard, 1) => DemoSize::Standard,
                (Size::Large, 1) => DemoSize::Large,
                (Size::Large, _) => DemoSize::TwoLarge,
                (Size::Standard, _) => return Err(anyhow!("--municipalities is for --size large")),
            };
            let place = if external { Place::External } else { Place::Embedded { data_dir, reset } };
            run_demo(config, place, size, no_serve, dev_idp).await
        }
        Command::Serve => run_serve(config).await,
        Command::Idp { action } => run_idp(&config, action).await,
        Command::Migrate => {
            let url = migration_url(&config)?;
            let owner = db::connect(&url, 2).await?;
            let migrated = db::migrate(&owner).await;
            db::close(owner).await;
            migrated?;
            println!("migrations applied");
            Ok(())
        }
        Command::Distribute => {
            let url = migration_url(&config)?;
            let owner = db::connect(&url, 2).await?;
            let outcome = db::distribute::distribute(&owner).await;
            db::close(owner).await;
            match outcome? {
                db::distribute::Outcome::NoCitus => {
                    println!("the citus extension is not installed in this database: nothing to distribute");
                }
                db::distribute::Outcome::Distributed { plan, newly } => {
                    println!(
                        "reference tables: {}\ndistributed by tenant_id, co-located: {}\nnewly distributed: {}",
                        plan.reference.join(", "),
                        plan.distributed.join(", "),
                        if newly.is_empty() { "none".to_owned() } else { newly.join(", ") }
                    );
                }
            }
            Ok(())
        }
        Command::Backup { file } => {
            db::backup::backup(&migration_url(&config)?, &file).await?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Restore { file, replace } => {
            db::backup::restore(&migration_url(&config)?, &file, replace).await?;
            println!("restored {}", file.display());
            Ok(())
        }
        Command::Import { source: ImportSource::Hr { file, tenant, full, dry_run } } => {
            run_import_hr(&config, &file, &tenant, hr::ImportOptions { full, dry_run, today: None }).await
        }
        Command::Import { source: ImportSource::Timetable { file, tenant, school, dry_run } } => {
            run_import_timetable(&config, &file, &tenant, &school, dry_run).await
        }
        Command::Import { source: ImportSource::Subjects { file, tenant, dry_run } } => {
            run_import_subjects(&config, &file, &tenant, dry_run).await
        }
        Command::Import { source: ImportSource::Pas { file, tenant, school, period, dry_run } } => {
            let options = crate::assessment::exams::import::ImportOptions { school, period, dry_run };
            run_import_pas(&config, &file, &tenant, &options).await
        }
        Command::Import { source: ImportSource::Folkeregister { file, tenant, dry_run } } => {
            run_import_folkeregister(&config, &file, &tenant, dry_run).await
        }
        Command::Import { source: ImportSource::Districts { file, tenant, dry_run } } => {
            use crate::districts::{self, ImportError, ImportOptions};
            let (pool, input) = import_input(&config, &file).await?;
            let result = districts::import(&pool, &tenant, &input, ImportOptions { dry_run }).await;
            db::close(pool).await;
            import_outcome(result, |e| match e {
                ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
                _ => Vec::new(),
            })
        }
        Command::Import { source: ImportSource::Krr { file, tenant, dry_run } } => {
            use crate::krr::{self, ImportError, ImportOptions};
            let (pool, input) = import_input(&config, &file).await?;
            let result = krr::import(&pool, &tenant, &input, ImportOptions { dry_run }).await;
            db::close(pool).await;
            import_outcome(result, |e| match e {
                ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
                _ => Vec::new(),
            })
        }
        Command::Export { format, file, tenant } => run_export(&config, format, &file, &tenant).await,
        Command::Audit { command: AuditCommand::Verify { tenant } } => audit_verify(&config, &tenant).await,
        Command::Mail { command } => run_mail(&config, command).await,
        Command::Sms { command: SmsCommand::Deliver } => {
            let gateway = crate::sms::gateway::HttpGateway::from_config(&config)?.ok_or_else(|| {
                anyhow!(ConfigError { name: "TAVLE_SMS_URL", problem: "required by `tavle sms deliver`".into() })
            })?;
            let pool = db::connect(&app_url(&config, "sms")?, 2).await?;
            let now = time::OffsetDateTime::now_utc();
            let report = crate::sms::delivery::deliver_due(&pool, &std::sync::Arc::new(gateway), &config, now).await;
            db::close(pool).await;
            println!("{}", report?);
            Ok(())
        }
    }
}

/// `tavle mail …`: as the application's login, so row-level security holds each
/// municipality's messages apart exactly as in `serve`.
async fn run_mail(config: &Config, command: MailCommand) -> anyhow::Result<()> {
    use crate::mail::{delivery, weekly};
    let url = app_url(config, "mail")?;
    match command {
        MailCommand::Deliver => {
            let mailer = delivery::Mailer::from_config(config)?.ok_or_else(|| {
                anyhow!(ConfigError { name: "TAVLE_SMTP_URL", problem: "required by `tavle mail deliver`".into() })
            })?;
            let pool = db::connect(&url, 2).await?;
            let report = delivery::deliver_due(&pool, &mailer, time::OffsetDateTime::now_utc()).await;
            db::close(pool).await;
            println!("{}", report?);
        }
        MailCommand::WeeklySummary { week } => {
            let pool = db::connect(&url, 2).await?;
            let week = match week {
                Some(w) => weekly::IsoWeek::parse(&w)
                    .ok_or_else(|| anyhow!("--week: expected an ISO week such as 2026-W47"))?,
                None => weekly::IsoWeek::last_due(weekly::oslo_now(&pool).await?),
            };
            let report = weekly::enqueue_week(&pool, &config.public_url, week).await;
            db::close(pool).await;
            println!("{week}: {}", report?);
        }
    }
    Ok(())
}

/// An import's file and a pool as the application's login, not the owner's: row-level
/// security then holds the import to its one municipality, whatever the file says.
async fn import_input(config: &Config, file: &std::path::Path) -> anyhow::Result<(sqlx::PgPool, Vec<u8>)> {
    let url = app_url(config, "import")?;
    let input = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok((db::connect(&url, 2).await?, input))
}

/// An import's outcome: the report on stdout; for a refused file each of its problems
/// (`problems`, which never hold a full national id) on its own line on stderr, then the
/// one-line error `main` prints.
fn import_outcome<R, E>(result: Result<R, E>, problems: impl FnOnce(&E) -> Vec<String>) -> anyhow::Result<()>
where
    R: std::fmt::Display,
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(report) => {
            println!("{report}");
            Ok(())
        }
        Err(e) => {
            for problem in problems(&e) {
                eprintln!("{problem}");
            }
            Err(e.into())
        }
    }
}

/// `tavle import hr`.
async fn run_import_hr(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    options: hr::ImportOptions,
) -> anyhow::Result<()> {
    let (pool, input) = import_input(config, file).await?;
    let result = hr::import(&pool, tenant, &input, options).await;
    db::close(pool).await;
    import_outcome(result, |e| match e {
        hr::ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    })
}

/// `tavle import timetable` (the problems in English).
async fn run_import_timetable(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    school: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::timetable::import::{self, ImportError};
    let (pool, input) = import_input(config, file).await?;
    let result = import::import_file(&pool, tenant, school, &input, dry_run).await;
    db::close(pool).await;
    import_outcome(result, |e| match e {
        ImportError::Invalid(problems) => problems.iter().map(|p| p.text(crate::web::i18n::Lang::En)).collect(),
        _ => Vec::new(),
    })
}

/// `tavle import subjects`.
async fn run_import_subjects(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::assessment::subjects_import::{self, ImportError, ImportOptions};
    let (pool, input) = import_input(config, file).await?;
    let result = subjects_import::import(&pool, tenant, &input, ImportOptions { dry_run, today: None }).await;
    db::close(pool).await;
    import_outcome(result, |e| match e {
        ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    })
}

/// `tavle import pas`.
async fn run_import_pas(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    options: &crate::assessment::exams::import::ImportOptions,
) -> anyhow::Result<()> {
    use crate::assessment::exams::import::{self, ImportError};
    let (pool, input) = import_input(config, file).await?;
    let result = import::import(&pool, tenant, &input, options).await;
    db::close(pool).await;
    import_outcome(result, |e| match e {
        ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    })
}

/// `tavle import folkeregister`.
async fn run_import_folkeregister(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::folkeregister::{self, ImportError, ImportOptions};
    let (pool, input) = import_input(config, file).await?;
    let result = folkeregister::import(&pool, tenant, &input, ImportOptions { dry_run }).await;
    db::close(pool).await;
    import_outcome(result, |e| match e {
        ImportError::Invalid(problems) => problems.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    })
}

/// `tavle export`: the file written whole (a temporary file renamed), a line on stdout.
async fn run_export(
    config: &Config,
    format: crate::exchanges::Format,
    file: &std::path::Path,
    tenant: &str,
) -> anyhow::Result<()> {
    let pool = db::connect(&app_url(config, "export")?, 2).await?;
    let partial = file.with_extension("partial");
    let created = std::fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()));
    let result = match created {
        Ok(f) => crate::exchanges::export(&pool, tenant, format, &mut std::io::BufWriter::new(f)).await,
        Err(e) => Err(e),
    };
    db::close(pool).await;
    let people = match result {
        Ok(people) => people,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, file).with_context(|| format!("cannot write {}", file.display()))?;
    println!("{format} roster for {tenant}: {people} person(s) written to {}", file.display());
    Ok(())
}

/// `tavle audit verify`: OK on stdout, or an error (non-zero exit) naming the break.
async fn audit_verify(config: &Config, slug: &str) -> anyhow::Result<()> {
    let owner = db::connect(&migration_url(config)?, 2).await?;
    let tenant: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM tenants WHERE slug = $1").bind(slug).fetch_optional(&owner).await?;
    let tenant = tenant.ok_or_else(|| anyhow!("no municipality with the slug {slug:?}"))?;
    let verdict = crate::audit::verify::verify(&owner, tenant).await;
    db::close(owner).await;
    match verdict? {
        v @ crate::audit::verify::Verdict::Ok { .. } => {
            println!("{slug}: {v}");
            Ok(())
        }
        v => Err(anyhow!("the audit log of {slug} is {v}")),
    }
}

/// The application's login (`DATABASE_URL`), which `tavle <command>` needs.
fn app_url(config: &Config, command: &str) -> anyhow::Result<String> {
    config.database_url.as_ref().map(|s| s.expose().to_owned()).ok_or_else(|| {
        anyhow!(ConfigError {
            name: "DATABASE_URL",
            problem: format!("required by `tavle {command}` (a postgres:// URL of the application's login)"),
        })
    })
}

fn migration_url(config: &Config) -> anyhow::Result<String> {
    config.migration_database_url.as_ref().or(config.database_url.as_ref()).map(|s| s.expose().to_owned()).ok_or_else(
        || {
            anyhow!(ConfigError {
                name: "DATABASE_URL",
                problem: "required (set it, or TAVLE_MIGRATION_DATABASE_URL, to a postgres:// URL)".into(),
            })
        },
    )
}

async fn run_serve(config: Config) -> anyhow::Result<()> {
    if config.today.is_some() {
        return Err(anyhow!(ConfigError {
            name: "TAVLE_TODAY",
            problem: "is for the demo and the tests only: `tavle serve` always runs on today's date".into(),
        }));
    }
    let app_url = app_url(&config, "serve")?;
    {
        // Closed in full before serving: after start-up the process holds connections
        // as the application's login only.
        let owner = db::connect(&migration_url(&config)?, 2).await?;
        let migrated = db::migrate(&owner).await;
        db::close(owner).await;
        migrated?;
    }
    let pool = db::connect_with_timeout(&app_url, config.db_max_connections, config.db_acquire_timeout).await?;
    db::check_app_role(&pool).await?;
    db::check_real_today(&pool).await?;
    // Nobody could sign in: production has no other way in than an identity provider.
    if crate::auth::oidc::sign_in_options(&pool).await?.is_empty() {
        return Err(anyhow!(
            "no municipality has an identity provider, so nobody could sign in: configure one with \
             `tavle idp set` (README: Sign-in with Feide and ID-porten) before `tavle serve`"
        ));
    }
    if let Some(name) = crate::auth::oidc::missing_secrets(&pool, &config).await?.into_iter().next() {
        return Err(anyhow!(ConfigError {
            name: "TAVLE_OIDC_SECRET_<SLUG>_<KIND>",
            problem: format!("{name} is not set, but that identity provider is configured (see `tavle idp list`)"),
        }));
    }
    serve(AppState::new(pool, config, Mode::Production), None).await
}

async fn run_idp(config: &Config, action: IdpAction) -> anyhow::Result<()> {
    use crate::auth::oidc::{self, Kind};
    let owner = db::connect(&migration_url(config)?, 2).await?;
    match action {
        IdpAction::Set { tenant, kind, issuer, client_id, scopes, acr, no_check } => {
            let kind = Kind::from_code(&kind).ok_or_else(|| anyhow!("--kind: expected feide or idporten"))?;
            let tenant_id = crate::auth::identity::tenant_by_slug(&owner, &tenant)
                .await?
                .ok_or_else(|| anyhow!("--tenant: no municipality with slug {tenant:?}"))?;
            if !no_check {
                oidc::check_discovery(&issuer).await.map_err(|e| anyhow!("--issuer: {e}"))?;
            }
            let acr = (!acr.is_empty()).then_some(acr);
            oidc::set_provider(&owner, tenant_id, kind, &issuer, &client_id, scopes.as_deref(), acr)
                .await
                .map_err(|e| anyhow!("could not save the provider: {e}"))?;
            println!(
                "{} sign-in for {tenant} set to {issuer}; set {} where Tavle runs",
                kind.code(),
                Config::oidc_secret_name(&tenant, kind.code())
            );
        }
        IdpAction::List => {
            let rows: Vec<(String, String, String)> =
                sqlx::query_as("SELECT slug, kind, issuer FROM tavle_sign_in_options()").fetch_all(&owner).await?;
            if rows.is_empty() {
                println!("no identity providers configured");
            }
            for (slug, kind, issuer) in rows {
                let secret = if config.oidc_secret(&slug, &kind).is_some() { "secret set" } else { "secret MISSING" };
                println!("{slug}\t{kind}\t{issuer}\t{} ({secret})", Config::oidc_secret_name(&slug, &kind));
            }
        }
    }
    db::close(owner).await;
    Ok(())
}

/// Where `tavle demo` keeps its database.
enum Place {
    /// Its own embedded PostgreSQL in `data_dir`.
    Embedded { data_dir: PathBuf, reset: bool },
    /// The databases of TAVLE_MIGRATION_DATABASE_URL and DATABASE_URL (`--external`).
    External,
}

async fn run_demo(
    mut config: Config,
    place: Place,
    size: DemoSize,
    no_serve: bool,
    dev_idp: Option<url::Url>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (pg, owner_url, app_url) = match place {
        Place::Embedded { data_dir, reset } => {
            if reset && data_dir.exists() {
                std::fs::remove_dir_all(&data_dir).with_context(|| {
                    format!("cannot remove {} (is another `tavle demo` running?)", data_dir.display())
                })?;
                println!("Removed {}", data_dir.display());
            }
            let pg = embedded::EmbeddedPostgres::start(&data_dir, embedded::Durability::Durable).await?;
            // The superuser's pools are closed in full (`db::close`) before serving: after
            // start-up the process holds connections as the application's login only.
            let superuser = db::connect(&pg.url(embedded::SUPERUSER, "postgres"), 2).await?;
            db::ensure_database(&superuser, "tavle").await?;
            db::ensure_app_login(&superuser).await?;
            db::close(superuser).await;
            let (owner_url, app_url) = (pg.url(embedded::SUPERUSER, "tavle"), pg.url(embedded::APP_USER, "tavle"));
            (Some(pg), owner_url, app_url)
        }
        Place::External => {
            let app_url = config.database_url.as_ref().map(|s| s.expose().to_owned()).ok_or_else(|| {
                anyhow!(ConfigError { name: "DATABASE_URL", problem: "required with --external".into() })
            })?;
            (None, migration_url(&config)?, app_url)
        }
    };
    let owner = db::connect(&owner_url, 4).await?;
    db::migrate(&owner).await?;
    let summary = demo::ensure(&owner, size, &|line| println!("  {line}")).await?;
    if let Some(base) = dev_idp {
        use crate::auth::oidc::{self, Kind};
        let base = base.as_str().trim_end_matches('/').to_owned();
        for slug in demo::SLUGS {
            let Some(tenant) = crate::auth::identity::tenant_by_slug(&owner, slug).await? else { continue };
            for (kind, client) in [(Kind::Feide, "tavle-feide"), (Kind::IdPorten, "tavle-idporten")] {
                let issuer = format!("{base}/{}", kind.code());
                oidc::set_provider(&owner, tenant, kind, &issuer, client, None, None)
                    .await
                    .map_err(|e| anyhow!("--dev-idp: {e}"))?;
                // dev/idp's published development secret; demo mode only.
                config.oidc_secrets.insert(
                    Config::oidc_secret_name(slug, kind.code()),
                    crate::config::Secret::new("dev-secret-not-for-production"),
                );
            }
        }
        println!("Sign-in through the local identity provider at {base} (start it: see dev/idp/README.md)");
    }
    db::close(owner).await;
    if !summary.created.is_empty() {
        println!("Created demo municipalities: {}", summary.created.join(", "));
    }
    println!("Database ready in {:.1} s", started.elapsed().as_secs_f64());
    if no_serve {
        return Ok(());
    }
    let pool = db::connect_with_timeout(&app_url, config.db_max_connections, config.db_acquire_timeout).await?;
    db::check_app_role(&pool).await?;
    let state = AppState::new(pool, config, Mode::Demo);
    let result = serve(state, pg.as_ref()).await;
    drop(pg); // stops PostgreSQL (fast shutdown) before we exit
    println!("Stopped.");
    result
}

async fn serve(state: AppState, pg: Option<&embedded::EmbeddedPostgres>) -> anyhow::Result<()> {
    let listen = state.config.listen;
    let public = state.config.public_url.clone();
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    if state.mode == Mode::Demo {
        println!();
        println!("Tavle (demo) is running at {public}");
        println!("  Open it, choose \"Logg inn / Sign in\" and pick a demo person, e.g. the school office clerk.");
        match pg {
            Some(pg) => println!("  Data: {} (start over with --reset). Stop with Ctrl-C.", pg.data_dir().display()),
            None => println!("  Data: in the database of DATABASE_URL (--external). Stop with Ctrl-C."),
        }
    } else {
        tracing::info!(%listen, "serving");
    }
    let _mail_worker = crate::mail::delivery::spawn_worker(state.db.clone(), &state.config)?;
    let _sms_worker = crate::sms::delivery::spawn_worker(state.db.clone(), &state.config)?;
    let _audit_sweeper = crate::audit::spawn_sweeper(state.db.clone());
    let _register_import =
        crate::folkeregister::scheduled::spawn(state.db.clone(), state.config.folkeregister_dir.clone());
    let timeouts = crate::server::Timeouts::from_config(&state.config);
    let app = build_router(state);
    crate::server::serve(listener, app, timeouts, shutdown_signal()).await.context("server error")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
