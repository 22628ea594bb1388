//! What a hand-written file is: recognised by its name, then by its content.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PgbouncerIni,
    PostgresqlConf,
    Env,
    Userlist,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::PgbouncerIni => "pgbouncer.ini",
            Kind::PostgresqlConf => "PostgreSQL configuration",
            Kind::Env => "environment file",
            Kind::Userlist => "userlist.txt",
        }
    }

    /// By name: `*.ini`; `*.conf` (and postgresql.auto.conf); `.env`, `*.env`, `.env.*`;
    /// `userlist*`, `*.users`.
    pub fn by_name(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_str()?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "ini" {
            Some(Kind::PgbouncerIni)
        } else if ext == "conf" || name.starts_with("postgresql.") {
            Some(Kind::PostgresqlConf)
        } else if name == ".env" || ext == "env" || name.starts_with(".env.") {
            Some(Kind::Env)
        } else if name.starts_with("userlist") || ext == "users" {
            Some(Kind::Userlist)
        } else {
            None
        }
    }

    /// By content, for a name that says nothing: the first line that is not blank or a comment
    /// decides. `[section]` → pgbouncer.ini; `"user" "secret"` → userlist.txt; an upper-case
    /// `KEY=VALUE` (or `export KEY=…`) → .env; a lower-case `name = value` → PostgreSQL.
    pub fn by_content(text: &str) -> Option<Kind> {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') || line.starts_with("%include") {
                return Some(Kind::PgbouncerIni);
            }
            if line.starts_with('"') {
                return Some(Kind::Userlist);
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            if name.is_empty() {
                return None;
            }
            let rest = line[name.len()..].trim_start();
            if name.chars().any(|c| c.is_ascii_uppercase())
                && !name.chars().any(|c| c.is_ascii_lowercase())
                && rest.starts_with('=')
            {
                return Some(Kind::Env);
            }
            return Some(Kind::PostgresqlConf);
        }
        None
    }
}

/// A whole server configuration rather than a fragment: a name with `postgresql` in it
/// (postgresql.conf, postgresql.auto.conf, `prod-postgresql.conf`) outside a `conf.d` directory.
pub fn is_whole_postgresql_conf(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let in_conf_d = path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "conf.d");
    name.contains("postgresql") && !in_conf_d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name() {
        for (name, kind) in [
            ("pgbouncer.ini", Some(Kind::PgbouncerIni)),
            ("conf.d/50-pool.conf", Some(Kind::PostgresqlConf)),
            ("data/postgresql.auto.conf", Some(Kind::PostgresqlConf)),
            (".env", Some(Kind::Env)),
            ("api.env", Some(Kind::Env)),
            (".env.production", Some(Kind::Env)),
            ("userlist.txt", Some(Kind::Userlist)),
            ("pgbouncer.users", Some(Kind::Userlist)),
            ("notes.md", None),
        ] {
            assert_eq!(Kind::by_name(Path::new(name)), kind, "{name}");
        }
    }

    #[test]
    fn whole_configurations_and_fragments() {
        for (path, whole) in [
            ("postgresql.conf", true),
            ("/etc/postgresql/16/main/postgresql.conf", true),
            ("data/postgresql.auto.conf", true),
            ("prod-postgresql.conf", true),
            ("conf.d/50-pool.conf", false),
            ("postgres/conf.d/postgresql-extra.conf", false),
            ("tuning.conf", false),
        ] {
            assert_eq!(is_whole_postgresql_conf(Path::new(path)), whole, "{path}");
        }
    }

    #[test]
    fn by_content() {
        for (text, kind) in [
            (
                "; comment\n[databases]\na = host=x\n",
                Some(Kind::PgbouncerIni),
            ),
            ("%include other.ini\n", Some(Kind::PgbouncerIni)),
            ("\"alice\" \"md5abc\"\n", Some(Kind::Userlist)),
            ("# c\nDATABASE_URL=postgresql://x\n", Some(Kind::Env)),
            ("export DB_POOL_SIZE=5\n", Some(Kind::Env)),
            ("shared_buffers = 1GB\n", Some(Kind::PostgresqlConf)),
            ("max_connections 100\n", Some(Kind::PostgresqlConf)),
            ("", None),
            ("---\n", None),
        ] {
            assert_eq!(Kind::by_content(text), kind, "{text:?}");
        }
    }
}
