//! An embedded PostgreSQL cluster: found on this machine, initialised once in a data
//! directory, run as a child process that listens on a unix socket inside that
//! directory only (never on TCP), and stopped cleanly.
//!
//! Used by `tavle demo` and by the test suite (one cluster per test run). PostgreSQL
//! refuses to run as root; when Tavle runs as root the cluster is run as the
//! unprivileged `postgres` system user (or `nobody`), and we say so.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use sqlx::Connection;

/// The superuser created by `initdb`. Used for migrations and bulk loading only.
pub const SUPERUSER: &str = "postgres";
/// The least-privileged login the application uses for every request.
pub const APP_USER: &str = "tavle_app";

/// How the cluster is tuned: durable for the demo, fast for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    /// fsync off: a crash may lose the cluster, which is fine for throw-away test data.
    Ephemeral,
}

#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    child: Option<Child>,
    watchdog: Option<Child>,
}

impl EmbeddedPostgres {
    /// Initialise (first time only) and start a cluster in `data_dir`.
    pub async fn start(data_dir: &Path, durability: Durability) -> anyhow::Result<Self> {
        Self::start_with(data_dir, durability, &[]).await
    }

    /// As [`EmbeddedPostgres::start`], with server settings of the caller's on top (the
    /// test suite loads `pg_stat_statements` to check every statement it ran).
    pub async fn start_with(
        data_dir: &Path,
        durability: Durability,
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let bin = find_binaries()?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize().with_context(|| format!("cannot resolve {}", data_dir.display()))?;
        let socket = data_dir.join(".s.PGSQL.5432");
        // sockaddr_un holds 108 bytes; PostgreSQL reports a long path obscurely.
        if socket.as_os_str().len() > 100 {
            bail!(
                "the data directory path {} is too long for a unix socket; choose a shorter --data-dir",
                data_dir.display()
            );
        }
        let run_as = unprivileged_user()?;
        if let Some(user) = &run_as {
            tracing::info!(
                user = %user.name,
                "running as root: the embedded PostgreSQL runs as the unprivileged system user"
            );
            check_reachable(&data_dir, user)?;
        }
        let pgdata = data_dir.join("pgdata");
        if !pgdata.join("PG_VERSION").exists() {
            init_cluster(&bin, &pgdata, run_as.as_ref())?;
        }
        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("cannot open {}", log_path.display()))?;
        if let Some(user) = &run_as {
            chown(&log_path, user)?;
        }
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&pgdata)
            .arg("-k")
            .arg(&data_dir)
            .args(["-c", "listen_addresses="])
            .args(["-c", "unix_socket_permissions=0700"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "log_min_messages=warning"])
            .args(["-c", "shared_buffers=256MB"]);
        if durability == Durability::Ephemeral {
            cmd.args(["-c", "fsync=off"]).args(["-c", "synchronous_commit=off"]).args(["-c", "full_page_writes=off"]);
        }
        for (name, value) in settings {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group, so a Ctrl-C in the terminal reaches Tavle only and
            // Tavle decides when and how the database stops.
            .process_group(0);
        if let Some(user) = &run_as {
            cmd.uid(user.uid).gid(user.gid);
        }
        let child = cmd.spawn().context("cannot start postgres")?;
        let mut pg = Self { data_dir, child: Some(child), watchdog: None };
        pg.wait_until_ready(&log_path).await?;
        Ok(pg)
    }

    /// Stop the cluster when this process goes away, however it goes (used by tests,
    /// whose harness exits without running destructors): a small shell process waits
    /// for our pid to vanish, then asks postgres to shut down and optionally removes
    /// the data directory.
    pub fn stop_when_process_exits(&mut self, remove_data_dir: bool) -> anyhow::Result<()> {
        let Some(child) = &self.child else {
            return Ok(());
        };
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -INT {pg} 2>/dev/null; \
             while kill -0 {pg} 2>/dev/null; do sleep 0.2; done; {rm}",
            me = std::process::id(),
            pg = child.id(),
            rm = if remove_data_dir { format!("rm -rf '{}'", self.data_dir.display()) } else { String::new() }
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start the postgres watchdog")?;
        self.watchdog = Some(watchdog);
        Ok(())
    }

    /// A connection URL for `database` as `user`, over the unix socket.
    pub fn url(&self, user: &str, database: &str) -> String {
        format!("postgres://{user}@localhost/{database}?host={}", self.data_dir.display())
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The postmaster's process id; it leads its own process group (the crash-safety
    /// check, `benches/crash-safety.sh`, kills that group).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    async fn wait_until_ready(&mut self, log_path: &Path) -> anyhow::Result<()> {
        let url = self.url(SUPERUSER, "postgres");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    bail!(
                        "postgres exited during start-up ({status}); its log {} ends with: {}",
                        log_path.display(),
                        log_tail(log_path)
                    );
                }
            }
            match sqlx::PgConnection::connect(&url).await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    bail!("postgres did not accept connections within 60 s: {e}")
                }
            }
        }
    }

    /// Fast shutdown (SIGINT): open transactions are rolled back, data is consistent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(child.id(), libc::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

#[expect(unsafe_code, reason = "kill(2) has no safe wrapper in std")]
fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill only sends a signal; an invalid pid yields an error code, nothing more.
    unsafe {
        libc::kill(pid, sig);
    }
}

#[expect(unsafe_code, reason = "geteuid(2) has no safe wrapper in std")]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The directory holding `initdb` and `postgres`: PATH first, then `pg_config --bindir`,
/// then the newest `/usr/lib/postgresql/*/bin`.
pub fn find_binaries() -> anyhow::Result<PathBuf> {
    find_binaries_in(std::env::var_os("PATH").as_deref(), "pg_config", Path::new("/usr/lib/postgresql"))
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`), looked for where the server
/// binaries are: PATH first, then `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH");
    find_in(path.as_deref(), "pg_config", Path::new("/usr/lib/postgresql"), &[name])
        .map(|dir| dir.join(name))
        .ok_or_else(|| {
            anyhow!(
                "{name} not found: install PostgreSQL's client programs (Debian: apt-get install postgresql-client)"
            )
        })
}

fn find_binaries_in(path: Option<&std::ffi::OsStr>, pg_config: &str, versions_root: &Path) -> anyhow::Result<PathBuf> {
    find_in(path, pg_config, versions_root, &["initdb", "postgres"]).ok_or_else(|| {
        anyhow!(
            "no PostgreSQL server binaries found (initdb, postgres): install them \
             (Debian: apt-get install postgresql) or run `tavle serve` with DATABASE_URL set to an existing server"
        )
    })
}

/// The first directory holding every one of `names`.
fn find_in(path: Option<&std::ffi::OsStr>, pg_config: &str, versions_root: &Path, names: &[&str]) -> Option<PathBuf> {
    let has_all = |dir: &Path| names.iter().all(|name| dir.join(name).is_file());
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            if has_all(&dir) {
                return Some(dir);
            }
        }
    }
    if let Ok(out) = Command::new(pg_config).arg("--bindir").output() {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_all(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(versions_root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_all(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// When running as root, the system user to run the cluster as.
fn unprivileged_user() -> anyhow::Result<Option<SystemUser>> {
    if !is_root() {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").context("cannot read /etc/passwd")?;
    for wanted in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4 && fields[0] == wanted {
                if let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse()) {
                    if uid != 0 {
                        return Ok(Some(SystemUser { name: wanted.to_owned(), uid, gid }));
                    }
                }
            }
        }
    }
    bail!("running as root, but no unprivileged 'postgres' or 'nobody' user exists to run PostgreSQL as")
}

/// The cluster user must be able to reach the data directory through every parent.
fn check_reachable(dir: &Path, user: &SystemUser) -> anyhow::Result<()> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = std::fs::metadata(ancestor)?;
        let mode = meta.permissions().mode();
        let ok = mode & 0o001 != 0
            || (meta.uid() == user.uid && mode & 0o100 != 0)
            || (meta.gid() == user.gid && mode & 0o010 != 0);
        if !ok {
            bail!(
                "the system user '{}' cannot reach {} (no search permission on {}); \
                 choose a --data-dir outside it, e.g. under /var/tmp",
                user.name,
                dir.display(),
                ancestor.display()
            );
        }
    }
    chown(dir, user)?;
    Ok(())
}

fn chown(path: &Path, user: &SystemUser) -> anyhow::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
        .with_context(|| format!("cannot hand {} to user {}", path.display(), user.name))
}

fn init_cluster(bin: &Path, pgdata: &Path, run_as: Option<&SystemUser>) -> anyhow::Result<()> {
    // A half-made directory from an interrupted initdb would make initdb refuse.
    if pgdata.exists() {
        std::fs::remove_dir_all(pgdata).with_context(|| format!("cannot clear {}", pgdata.display()))?;
    }
    let mut cmd = Command::new(bin.join("initdb"));
    cmd.arg("-D")
        .arg(pgdata)
        .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8"])
        // C.UTF-8: byte-order collation (queries that sort names use ICU's nb
        // collation explicitly) but full Unicode case mapping for æ, ø, å and Sami.
        .args(["--locale=C.UTF-8", "--no-sync"])
        .stdin(Stdio::null());
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    let out = cmd.output().context("cannot run initdb")?;
    if !out.status.success() {
        bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn log_tail(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|s| {
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(5)..].join(" / ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod find_tests {
    use super::*;

    fn fake_bin(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("initdb"), "").unwrap();
        std::fs::write(dir.join("postgres"), "").unwrap();
    }

    #[test]
    fn no_binaries_gives_one_line_saying_what_to_do() {
        let empty = std::env::temp_dir().join(format!("tavle-nopg-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let err = find_binaries_in(Some(empty.as_os_str()), "/nonexistent/pg_config", &empty).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("apt-get install postgresql") && msg.contains("DATABASE_URL"), "{msg}");
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn the_newest_installed_version_wins_after_path() {
        let root = std::env::temp_dir().join(format!("tavle-pgver-{}", std::process::id()));
        fake_bin(&root.join("13/bin"));
        fake_bin(&root.join("16/bin"));
        std::fs::create_dir_all(root.join("9.6/bin")).unwrap();
        let none = root.join("empty-path");
        let found = find_binaries_in(Some(none.as_os_str()), "/nonexistent/pg_config", &root).unwrap();
        assert_eq!(found, root.join("16/bin"));
        fake_bin(&root.join("on-path"));
        let path = std::env::join_paths([none, root.join("on-path")]).unwrap();
        let found = find_binaries_in(Some(&path), "/nonexistent/pg_config", &root).unwrap();
        assert_eq!(found, root.join("on-path"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
