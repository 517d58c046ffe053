//! `tavle backup` and `tavle restore`: the whole database in one file, written and read
//! by PostgreSQL's own `pg_dump` and `pg_restore` (custom format), so that nothing
//! about tables, policies, triggers, grants or sequences is left to our own code.
//!
//! What a backup holds: every table's rows (the audit log, its pending events and
//! chain heads included, so `tavle audit verify` prints the same head hash after a
//! restore), the schema with row-level security and its policies, the triggers, the
//! functions, the grants to `tavle_app`, and the migrations applied. What it does not
//! hold: roles, which belong to the cluster: `tavle_app` and the logins must exist
//! where it is restored (README, "An external PostgreSQL").
//!
//! Reading every municipality's rows takes a role that row-level security does not
//! bind: the embedded cluster's superuser, or a role with BYPASSRLS. The README's
//! ordinary owner is bound (forced row-level security binds the owner too), and
//! `pg_dump` would stop at the first table; we say so before it starts. Restoring
//! works as that owner: `pg_restore` loads the rows before it switches row-level
//! security on and creates the triggers, so the audit chain is not chained again.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};

use super::{close, connect, embedded};

/// Write the database at `url` to `file`: first to a file beside it, renamed into
/// place when complete, so a failed backup never leaves a file that looks like one.
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    let pool = connect(url, 1).await?;
    let role: Result<(String, bool), sqlx::Error> =
        sqlx::query_as("SELECT rolname::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&pool)
            .await;
    close(pool).await;
    let (role, reads_all) = role.context("cannot inspect the database role")?;
    if !reads_all {
        bail!(
            "{role} cannot read every municipality's rows (row-level security is forced, for the owner too): \
             back up as a superuser or a role with BYPASSRLS (README: An external PostgreSQL)"
        );
    }
    let partial = partial_path(file)?;
    let args: Vec<OsString> = vec!["--format=custom".into(), "--file".into(), partial.clone().into_os_string()];
    let result = run("pg_dump", url, &args).await;
    match result
        .and_then(|()| std::fs::rename(&partial, file).with_context(|| format!("cannot write {}", file.display())))
    {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Restore `file` into the database at `url` as its owner (everything restored is
/// owned by the role of `url`). Refused when the database has tables, unless
/// `replace`: then what the backup holds is dropped first. All of it is one
/// transaction: a restore that fails leaves the database as it was.
pub async fn restore(url: &str, file: &Path, replace: bool) -> anyhow::Result<()> {
    if !file.is_file() {
        bail!("cannot read {}: no such file", file.display());
    }
    let pool = connect(url, 1).await?;
    let state: Result<(bool, i64), sqlx::Error> = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tavle_app'), \
                (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')",
    )
    .fetch_one(&pool)
    .await;
    close(pool).await;
    let (app_role, tables) = state.context("cannot inspect the database")?;
    if !app_role {
        bail!(
            "there is no role tavle_app in this PostgreSQL: create the roles first (README: An external PostgreSQL); \
             a backup holds the grants to it, not the role"
        );
    }
    if tables > 0 && !replace {
        bail!(
            "the database is not empty ({tables} tables): restore into an empty database, or pass --replace \
             to drop what the backup holds and restore it"
        );
    }
    let mut args: Vec<OsString> = vec!["--no-owner".into(), "--single-transaction".into(), "--exit-on-error".into()];
    if replace {
        args.extend(["--clean".into(), "--if-exists".into()]);
    }
    args.push(file.as_os_str().to_owned());
    run("pg_restore", url, &args).await
}

/// `<file>.partial`, beside it.
fn partial_path(file: &Path) -> anyhow::Result<PathBuf> {
    let name = file.file_name().ok_or_else(|| anyhow!("{} is not a file name", file.display()))?;
    let mut partial = name.to_owned();
    partial.push(".partial");
    Ok(file.with_file_name(partial))
}

/// Run a PostgreSQL client program against `url`. The password goes in the child's
/// environment, never on its command line (which every user of the machine can read).
/// On failure the error is the program's first error line only: the lines after it
/// may quote rows (a DETAIL with a key's values), which must not reach a log.
async fn run(program: &str, url: &str, args: &[OsString]) -> anyhow::Result<()> {
    let tool = embedded::find_tool(program)?;
    let (url, password) = split_password(url)?;
    let mut cmd = tokio::process::Command::new(&tool);
    cmd.arg("--dbname").arg(url).args(args.iter()).stdin(std::process::Stdio::null());
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
    let out = cmd.output().await.with_context(|| format!("cannot run {}", tool.display()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().find(|l| l.contains("error:")).or_else(|| stderr.lines().next()).unwrap_or_default();
    bail!("{program} failed ({}): {}", out.status, first.trim())
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).map_err(|_| anyhow!("the database URL is not a valid URL"))?;
    let password = parsed.password().map(percent_decode);
    if password.is_some() {
        parsed.set_password(None).map_err(|()| anyhow!("the database URL cannot carry a password"))?;
    }
    Ok((parsed.to_string(), password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (url, password) =
            split_password("postgres://tavle_owner:p%40ss%2Fw0rd@db:5432/tavle?sslmode=require").unwrap();
        assert_eq!(url, "postgres://tavle_owner@db:5432/tavle?sslmode=require");
        assert_eq!(password.as_deref(), Some("p@ss/w0rd"));
        let (url, password) = split_password("postgres://postgres@localhost/tavle?host=/var/tmp/tavle").unwrap();
        assert_eq!(url, "postgres://postgres@localhost/tavle?host=/var/tmp/tavle");
        assert_eq!(password, None);
    }

    #[test]
    fn a_partial_backup_lies_beside_the_file() {
        assert_eq!(partial_path(Path::new("/backups/tavle.dump")).unwrap(), Path::new("/backups/tavle.dump.partial"));
        assert!(partial_path(Path::new("/")).is_err());
    }
}
