//! The scheduled register import: `tavle serve` looks for files in
//! `TAVLE_FOLKEREGISTER_DIR/<municipality slug>/` once an hour (the register's export
//! arrives daily) and imports each `*.jsonl` in name order, as `tavle import
//! folkeregister` would. A file that is imported moves to `done/` beside its report; a
//! refused one to `failed/` beside its problems (line numbers and messages, never a
//! value from the file), and nothing of it is applied. Files of a municipality Tavle
//! does not know are left where they are, and logged by the folder's name only.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::PgPool;

use super::{import, ImportError, ImportOptions};

/// How often the folder is looked at.
const POLL: Duration = Duration::from_secs(3600);

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported(PathBuf),
    Refused(PathBuf),
}

/// Import every waiting file under `dir`; the outcomes in the order they were handled.
///
/// # Errors
///
/// The folder cannot be read, or a file cannot be moved: the run stops there (a file
/// left in place is tried again next time, and a second import of it changes nothing).
pub async fn run_folder(pool: &PgPool, dir: &Path) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    let mut tenants: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    tenants.sort();
    for tenant_dir in tenants {
        let Some(slug) = tenant_dir.file_name().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&tenant_dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        for file in files {
            let input = std::fs::read(&file)?;
            let (folder, text) = match import(pool, &slug, &input, ImportOptions::default()).await {
                Ok(report) => ("done", format!("{report}\n")),
                Err(ImportError::Invalid(problems)) => {
                    ("failed", problems.iter().map(|p| format!("{p}\n")).collect::<String>())
                }
                Err(ImportError::UnknownTenant(_)) => {
                    tracing::warn!(folder = %slug, "register files for no known municipality: left where they are");
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            let target = tenant_dir.join(folder);
            std::fs::create_dir_all(&target)?;
            let Some(name) = file.file_name() else { continue };
            let moved = target.join(name);
            std::fs::write(target.join(format!("{}.txt", name.to_string_lossy())), text)?;
            std::fs::rename(&file, &moved)?;
            tracing::info!(folder = %slug, outcome = folder, "population register file handled");
            outcomes.push(if folder == "done" { Outcome::Imported(moved) } else { Outcome::Refused(moved) });
        }
    }
    Ok(outcomes)
}

/// Start the hourly look at the folder, when one is configured.
pub fn spawn(pool: PgPool, dir: Option<PathBuf>) -> Option<tokio::task::JoinHandle<()>> {
    let dir = dir?;
    tracing::info!("population register import watches its folder");
    Some(tokio::spawn(async move {
        loop {
            if let Err(e) = run_folder(&pool, &dir).await {
                tracing::error!(error = %format!("{e:#}"), "population register import failed");
            }
            tokio::time::sleep(POLL).await;
        }
    }))
}
