//! Connecting to a server as libpq users expect: a URL without a password, and the password from
//! a named environment variable, `PGPASSWORD`, the password file (`PGPASSFILE`, else
//! `~/.pgpass`, read as libpq reads it), or a no-echo prompt on a terminal — never from the
//! command line. Where the password came from is remembered (never the password), so a refusal
//! can say which source to fix.

use crate::diag::InputError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a server may take to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A server to connect to, parsed from a URL that holds no password.
#[derive(Clone)]
pub struct Server {
    /// The flag the URL came from (`--postgres`).
    pub flag: &'static str,
    /// `PostgreSQL`, `PgBouncer`.
    pub what: &'static str,
    pub config: postgres::Config,
    pub user: String,
    /// The host as `.pgpass` matches it (`localhost` for a unix socket).
    pub host: String,
    pub port: u16,
    pub dbname: String,
    /// `PostgreSQL at postgres@127.0.0.1:5432/postgres (--postgres)`: no password, ever.
    pub shown: String,
    /// Where the password came from (`$PGPASSWORD`, `/root/.pgpass line 2`), once one was set.
    pub password_from: Option<String>,
    /// Why a password file was not read, when it was not (said again if the server refuses).
    pub pgpass_ignored: Option<String>,
}

impl Server {
    /// Parse `url`; `default_db` is used when the URL names none (`None`: the user's name).
    pub fn parse(
        flag: &'static str,
        what: &'static str,
        url: &str,
        example: &str,
        default_db: Option<&str>,
    ) -> Result<Server, InputError> {
        use std::str::FromStr;
        // The parser's own message may quote the URL, password included: not shown.
        let mut config = postgres::Config::from_str(url).map_err(|_| {
            InputError::new(format!("{flag} is not a connection URL {what} accepts"))
                .with_help(format!("write it as {example}"))
        })?;
        if config.get_password().is_some() {
            return Err(InputError::new(format!(
                "the {flag} URL contains a password, which would show in the process list and shell history"
            ))
            .with_help(format!(
                "remove it from the URL and put it in PGPASSWORD or ~/.pgpass (or type it at the prompt): {example}"
            )));
        }
        let Some(user) = config.get_user().map(str::to_string) else {
            return Err(InputError::new(format!("the {flag} URL names no user"))
                .with_help(format!("write it as {example}")));
        };
        let (host, shown_host) = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => (h.clone(), h.clone()),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => {
                ("localhost".to_string(), p.display().to_string())
            }
            None => {
                return Err(InputError::new(format!("the {flag} URL names no host"))
                    .with_help(format!("write it as {example}")));
            }
        };
        if config.get_ports().is_empty() {
            config.port(5432);
        }
        let port = config.get_ports().first().copied().unwrap_or(5432);
        if config.get_dbname().is_none() {
            config.dbname(default_db.unwrap_or(&user));
        }
        let dbname = config.get_dbname().unwrap_or_default().to_string();
        config.connect_timeout(CONNECT_TIMEOUT);
        config.ssl_mode(postgres::config::SslMode::Disable);
        Ok(Server {
            flag,
            what,
            config,
            shown: format!("{what} at {user}@{shown_host}:{port}/{dbname} ({flag})"),
            user,
            host,
            port,
            dbname,
            password_from: None,
            pgpass_ignored: None,
        })
    }

    /// Find the password: each of `vars` in order (a named variable, then `PGPASSWORD`, …), then
    /// the password file, then a no-echo prompt when `prompt` and standard input is a terminal.
    /// No password at all is not an error: a server that wants one says so.
    pub fn find_password(
        &mut self,
        vars: &[&str],
        prompt: bool,
        notes: &mut Vec<String>,
    ) -> Result<(), InputError> {
        for var in vars {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                self.config.password(v);
                self.password_from = Some(format!("${var}"));
                return Ok(());
            }
        }
        if let Some((path, line, pw)) =
            pgpass_lookup(&self.host, self.port, &self.dbname, &self.user, notes)
        {
            self.config.password(pw);
            self.password_from = Some(format!("{} line {line}", path.display()));
            return Ok(());
        }
        use std::io::IsTerminal;
        if prompt && std::io::stdin().is_terminal() {
            let typed = rpassword::prompt_password(format!("Password for {}: ", self.shown))
                .map_err(|e| {
                    InputError::new(format!("cannot read the password for {}: {e}", self.shown))
                })?;
            self.config.password(typed);
            self.password_from = Some("the prompt".to_string());
        }
        Ok(())
    }

    /// The help for a refused password: which source gave it, and where else one may come from.
    pub fn password_help(&self) -> String {
        match &self.password_from {
            Some(from) => format!(
                "{} refused the password from {from}: fix it there (sources, in order: the server's own variable, PGPASSWORD, PGPASSFILE or ~/.pgpass, a prompt)",
                self.what
            ),
            None => format!(
                "{} wants a password and none was found{}: put it in PGPASSWORD or ~/.pgpass (host:port:database:user:password, mode 0600), or run on a terminal to be asked",
                self.what,
                self.pgpass_ignored
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// The password file libpq reads: `PGPASSFILE`, else `$HOME/.pgpass`.
fn pgpass_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| Path::new(&h).join(".pgpass"))
}

/// The first matching line of the password file, as libpq matches it: `host:port:db:user:pw`,
/// `*` matches anything, `\` escapes `:` and `\`, lines starting with `#` are comments. A file
/// that group or others may read is ignored, with a note, as libpq does.
fn pgpass_lookup(
    host: &str,
    port: u16,
    db: &str,
    user: &str,
    notes: &mut Vec<String>,
) -> Option<(PathBuf, usize, String)> {
    let path = pgpass_path()?;
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            notes.push(format!(
                "{} is ignored: it has group or world access (libpq ignores it too); chmod 0600 it",
                path.display()
            ));
            return None;
        }
    }
    let text = crate::fsutil::read_bounded(&path, 1024 * 1024).ok()?;
    let text = String::from_utf8_lossy(&text);
    let port = port.to_string();
    for (n, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        let [h, p, d, u, pw] = fields.as_slice() else {
            continue;
        };
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(h, host) && matches(p, &port) && matches(d, db) && matches(u, user) {
            return Some((path, n + 1, pw.clone()));
        }
    }
    None
}

/// A `.pgpass` line split at unescaped `:` into at most five fields (the password, last, keeps
/// any further `:`), with `\` escapes removed.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// A connection error as a located message naming the server; a refused password names where
/// it came from.
pub fn connect_error(s: &Server, e: &postgres::Error) -> InputError {
    use std::error::Error;
    let (detail, code) = match e.as_db_error() {
        Some(db) => (
            format!("{}: {}", db.severity(), db.message()),
            Some(db.code().code().to_string()),
        ),
        None => match e.source() {
            Some(src) => (format!("{e}: {src}"), None),
            None => (e.to_string(), None),
        },
    };
    let lower = detail.to_lowercase();
    let help = if code.as_deref() == Some("28P01")
        || lower.contains("password authentication failed")
        || lower.contains("password missing")
        || lower.contains("no password")
    {
        s.password_help()
    } else if lower.contains("refused") {
        format!(
            "is {} running and listening there? Check HOST:PORT in {}",
            s.what, s.flag
        )
    } else if lower.contains("timed out") || lower.contains("timeout") {
        format!(
            "no answer within {} s: check HOST:PORT in {} and any firewall in between",
            CONNECT_TIMEOUT.as_secs(),
            s.flag
        )
    } else if s.what == "PgBouncer" {
        "log in to the admin console (database pgbouncer) as one of admin_users or stats_users"
            .to_string()
    } else {
        "check the user, the database and pg_hba.conf for this client address".to_string()
    };
    InputError::new(format!("cannot connect to {}: {detail}", s.shown)).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escape(s: &str) -> String {
        s.replace('\\', "\\\\").replace(':', "\\:")
    }

    proptest! {
        #[test]
        fn pgpass_fields_round_trip_escaped_values(
            fields in proptest::collection::vec(any::<String>(), 5),
            junk in any::<String>(),
        ) {
            let line = fields.iter().map(|f| escape(f)).collect::<Vec<_>>().join(":");
            prop_assert_eq!(pgpass_fields(&line), fields);
            let _ = pgpass_fields(&junk);
        }
    }

    #[test]
    fn pgpass_fields_follow_libpq_escapes() {
        assert_eq!(
            pgpass_fields("db:5432:*:app:p\\:w\\\\x:y"),
            ["db", "5432", "*", "app", "p:w\\x:y"]
        );
        assert_eq!(pgpass_fields("a:b"), ["a", "b"]);
    }

    #[test]
    fn urls_with_passwords_are_refused_without_echoing_them() {
        let e = Server::parse(
            "--from-postgres",
            "PostgreSQL",
            "postgresql://u:hunter2@h/db",
            "postgresql://USER@HOST/DB",
            None,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("contains a password"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let s = Server::parse(
            "--x",
            "PostgreSQL",
            "postgresql://u@h:6000",
            "",
            Some("postgres"),
        );
        let s = s.ok().map(|s| (s.host, s.port, s.dbname, s.user));
        assert_eq!(s, Some(("h".into(), 6000, "postgres".into(), "u".into())));
    }
}
