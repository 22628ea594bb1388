//! A real PostgreSQL and a real PgBouncer on 127.0.0.1, for tests that claim a rendered stack works.
//!
//! Both run on free non-default ports in a temporary directory, as the `postgres` OS user when the
//! tests run as root (neither server runs as root), and are stopped by their own PID when the
//! handle drops — also when a test fails or panics. Passwords reach clients through PGPASSWORD in
//! the child's environment, never through arguments.

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where the server binaries are, or why the test cannot run.
pub struct Binaries {
    pub pg_bin: PathBuf,
    pub pgbouncer: PathBuf,
}

/// Find PostgreSQL and PgBouncer. Without them: in CI (`CI=true`) the test fails, elsewhere it is
/// skipped with a loud message.
pub fn binaries() -> Option<Binaries> {
    let pg_bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|dirs| {
            let mut versions: Vec<(u32, PathBuf)> = dirs
                .filter_map(Result::ok)
                .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
                .filter(|(_, p): &(u32, PathBuf)| p.join("postgres").exists())
                .collect();
            versions.sort();
            versions.pop().map(|(_, p)| p)
        })
        .or_else(|| which("postgres").and_then(|p| p.parent().map(Path::to_path_buf)));
    let pgbouncer = which("pgbouncer")
        .or_else(|| Some(PathBuf::from("/usr/sbin/pgbouncer")).filter(|p| p.exists()));
    match (pg_bin, pgbouncer) {
        (Some(pg_bin), Some(pgbouncer)) => Some(Binaries { pg_bin, pgbouncer }),
        (pg, pgb) => {
            let missing = format!(
                "{}{}",
                if pg.is_none() {
                    "PostgreSQL (initdb/postgres) "
                } else {
                    ""
                },
                if pgb.is_none() { "PgBouncer" } else { "" }
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but {missing} is not installed: .ci/run must install it");
            }
            eprintln!(
                "\n!!!!!!!! SKIPPED: real-server test needs {missing}; install them (apt-get install postgresql pgbouncer) to run it !!!!!!!!\n"
            );
            None
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // SAFETY-free check: root owns /proc/self as uid 0.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// `postgres` user ids when running as root.
fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// A command that runs as the `postgres` OS user when we are root.
pub fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "postgres",
            "--regid",
            "postgres",
            "--init-groups",
            "--",
        ])
        .arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A directory the server user can read and write.
pub fn server_dir(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("create server dir");
    give_to_server_user(&dir);
    dir
}

/// Hand a file or directory to the server user (userlist.txt is 0600: PgBouncer must own it).
pub fn give_to_server_user(path: &Path) {
    if is_root()
        && let Some((uid, gid)) = postgres_ids()
    {
        chown(path, Some(uid), Some(gid)).expect("chown to postgres");
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not start on port {port}; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A running PostgreSQL cluster.
pub struct Postgres {
    pub port: u16,
    pub socket_dir: PathBuf,
    pub data: PathBuf,
    pub conf_d: PathBuf,
    pub log: PathBuf,
    pid: Option<u32>,
    bin: PathBuf,
}

impl Postgres {
    /// initdb with `hba_method` for TCP logins (local socket: trust for the superuser), loading
    /// `conf.d/*.conf` through include_dir, and start it.
    pub fn start(
        bins: &Binaries,
        base: &Path,
        hba_method: &str,
        fragment: Option<&Path>,
    ) -> Postgres {
        let root = server_dir(base, "pg");
        let data = root.join("data");
        let socket_dir = server_dir(&root, "sock");
        let log = root.join("postgres.log");
        let out = as_server_user(&bins.pg_bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--auth-host={hba_method}"))
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conf_d = data.join("conf.d");
        std::fs::create_dir_all(&conf_d).expect("conf.d");
        if let Some(f) = fragment {
            std::fs::copy(f, conf_d.join(f.file_name().expect("fragment name")))
                .expect("copy fragment");
        }
        let port = free_port();
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .expect("conf");
        use std::io::Write;
        // The harness's own lines come after the fragments: it picks where the server listens
        // (a rendered fragment may name the manifest's port).
        writeln!(
            conf,
            "include_dir = 'conf.d'\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off",
            socket_dir.display()
        )
        .expect("write conf");
        for entry in walk(&data) {
            give_to_server_user(&entry);
        }
        let out = as_server_user(&bins.pg_bin.join("pg_ctl"))
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .stdout(Stdio::null())
            .output()
            .expect("run pg_ctl");
        let mut pg = Postgres {
            port,
            socket_dir,
            data: data.clone(),
            conf_d,
            log: log.clone(),
            pid: None,
            bin: bins.pg_bin.clone(),
        };
        pg.pid = std::fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse().ok());
        assert!(
            out.status.success(),
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        wait_for_port(port, "PostgreSQL", &log);
        pg
    }

    /// psql as the superuser over the unix socket.
    pub fn psql(&self, db: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql")
    }

    /// Run a SQL file as the superuser; panics with psql's message on error.
    pub fn run_file(&self, db: &str, file: &Path) {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-f",
            ])
            .arg(file)
            .output()
            .expect("run psql -f");
        assert!(
            out.status.success(),
            "{} failed: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// One value from a query (trimmed), panicking on error.
    pub fn query(&self, db: &str, sql: &str) -> String {
        let out = self.psql(db, sql);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// One value exactly as PostgreSQL returns it (only psql's final newline removed).
    pub fn query_exact(&self, db: &str, sql: &str) -> String {
        let out = self.psql(db, sql);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.strip_suffix('\n').unwrap_or(&text).to_string()
    }

    /// `pg_ctl restart` (fast shutdown, then start with the same data directory and log).
    pub fn restart(&mut self) {
        let out = as_server_user(&self.bin.join("pg_ctl"))
            .args(["restart", "-w", "-t", "60", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .stdout(Stdio::null())
            .output()
            .expect("run pg_ctl restart");
        assert!(
            out.status.success(),
            "PostgreSQL did not restart: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        self.pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse().ok());
        wait_for_port(self.port, "PostgreSQL", &self.log);
    }

    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            stop_pid(pid, "-INT");
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running PgBouncer (foreground process, so its PID is the child's).
pub struct Pgbouncer {
    pub port: u16,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Pgbouncer {
    pub fn start(bins: &Binaries, ini: &Path, port: u16, log: &Path) -> Pgbouncer {
        let err = std::fs::File::create(log).expect("log file");
        give_to_server_user(log);
        let child = as_server_user(&bins.pgbouncer)
            .arg(ini)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn pgbouncer");
        let mut p = Pgbouncer {
            port,
            log: log.to_path_buf(),
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(c) = p.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                p.child = None;
                panic!(
                    "PgBouncer exited ({status}) at start:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return p;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "PgBouncer did not listen on {port}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Try to start; Err(log) when PgBouncer refuses the configuration.
    pub fn try_start(
        bins: &Binaries,
        ini: &Path,
        port: u16,
        log: &Path,
    ) -> Result<Pgbouncer, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Pgbouncer::start(bins, ini, port, log)
        }))
        .map_err(|_| std::fs::read_to_string(log).unwrap_or_default())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Send `signal` (`-INT`, `-TERM`) and wait up to `within` for PgBouncer to exit; whether it did.
    pub fn signal_and_wait(&mut self, signal: &str, within: Duration) -> bool {
        let Some(c) = self.child.as_mut() else {
            return true;
        };
        let _ = Command::new("kill")
            .args([signal, &c.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                self.child = None;
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_pid(c.id(), "-INT");
            let _ = c.wait();
        }
    }
}

fn stop_pid(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie child of ours has a /proc entry until reaped; its state says so.
        if std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// psql as a client through TCP with a password in the environment. Returns the output.
pub fn client(pg_bin: &Path, port: u16, db: &str, user: &str, password: &str, sql: &str) -> Output {
    Command::new(pg_bin.join("psql"))
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .arg(format!(
            "host=127.0.0.1 port={port} dbname={db} user={user} connect_timeout=10"
        ))
        .args(["-c", sql])
        .env("PGPASSWORD", password)
        .output()
        .expect("run psql")
}

/// A temp directory every user can traverse (the server user must reach files inside it).
pub fn temp_base() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("poolstack-it-")
        .tempdir()
        .expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}
