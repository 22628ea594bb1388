//! A file's settings as its target reads them, with the readers `check` uses (never as text):
//! two spellings of one value (`1GB`, `1024MB`; `0777`, `511`) are one value, a comment or the
//! header is no setting, and the last of a repeated name wins.

use crate::catalog::pgbouncer::{self as pgb, PgbVersion, Section};
use crate::catalog::postgres::{self as pg, PgCatalog, PgName};
use crate::formats::userlist::Userlist;
use crate::formats::{dotenv, pgbouncer_ini, postgresql_conf};
use crate::render::existing::role_verifiers;
use crate::source::SourceMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One setting of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `[databases]` / `[users]` / `[peers]` for pgbouncer.ini entries; `None` elsewhere
    /// (`[pgbouncer]` options included).
    pub section: Option<Section>,
    /// As the server knows it (`work_mem` for `sort_mem`, `DateStyle`).
    pub name: String,
    /// As written, for display.
    pub value: String,
    /// What is compared: the value as the server stores it, where the catalog can parse it.
    pub normalized: String,
    /// Never displayed (a password, a verifier, a connection string with `password=`).
    pub secret: bool,
}

/// Settings in first-seen order, the last of a repeated name winning.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// (section, key) and the entry; the key is the name as the server compares it.
    entries: Vec<(Key, Entry)>,
    index: HashMap<Key, usize>,
}

/// A setting's identity: its section and its name as the server compares names.
pub type Key = (Option<Section>, String);

impl Settings {
    fn put(&mut self, key: String, entry: Entry) {
        let key = (entry.section, key);
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = entry,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, entry));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries.iter().map(|(k, e)| (k, e))
    }

    pub fn get(&self, key: &Key) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn source(path: &Path, text: &str) -> (SourceMap, crate::source::FileId) {
    let mut sources = SourceMap::default();
    let id = sources.add(path, text.to_string());
    (sources, id)
}

/// A PostgreSQL configuration fragment (and what it includes).
pub fn postgres(path: &Path, text: &str, major: Option<u32>) -> Settings {
    let (mut sources, id) = source(path, text);
    let mut out = Settings::default();
    let Ok(doc) = postgresql_conf::parse(id, &mut sources) else {
        return out;
    };
    let catalog = major.and_then(PgCatalog::for_major);
    for e in doc.entries {
        let param = catalog.and_then(|c| match c.classify(&e.name) {
            PgName::Known(p) | PgName::Alias { param: p, .. } => Some(p),
            _ => None,
        });
        let name = param.map_or(e.name.clone(), |p| p.name.to_string());
        let normalized = param
            .and_then(|p| pg::parse_value(p, &e.value).ok())
            .map_or_else(|| e.value.clone(), |v| v.normalized);
        // A connection string with a password (primary_conninfo) is never shown.
        let secret = e.value.to_ascii_lowercase().contains("password");
        out.put(
            name.to_ascii_lowercase(),
            Entry {
                section: None,
                name,
                value: e.value,
                normalized,
                secret,
            },
        );
    }
    out
}

/// pgbouncer.ini: `[pgbouncer]` options by name, `[databases]`/`[users]`/`[peers]` entries by
/// their name, with the whole connection string as value.
pub fn pgbouncer(path: &Path, text: &str, version: Option<PgbVersion>) -> Settings {
    let (mut sources, id) = source(path, text);
    let mut out = Settings::default();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let Ok(doc) = pgbouncer_ini::parse(id, &cwd, &mut sources) else {
        return out;
    };
    for e in doc.entries {
        let (section, normalized, secret) = match e.section {
            Section::Pgbouncer => {
                let normalized = pgb::get(Section::Pgbouncer, &e.key)
                    .and_then(|o| pgb::parse_value_in(o, &e.value, version).ok())
                    .map_or_else(|| e.value.trim().to_string(), |v| v.normalized);
                (None, normalized, false)
            }
            other => {
                let secret = pgbouncer_ini::parse_connstr(&e.value, &e.value_loc)
                    .map(|pairs| pairs.iter().any(|p| p.key == "password"))
                    .unwrap_or(e.value.contains("password"));
                (Some(other), e.value.trim().to_string(), secret)
            }
        };
        out.put(
            e.key.clone(),
            Entry {
                section,
                name: e.key,
                value: e.value,
                normalized,
                secret,
            },
        );
    }
    out
}

fn secrets(pairs: impl IntoIterator<Item = (String, String)>) -> Settings {
    let mut out = Settings::default();
    for (user, secret) in pairs {
        out.put(
            user.clone(),
            Entry {
                section: None,
                name: user,
                value: secret.clone(),
                normalized: secret,
                secret: true,
            },
        );
    }
    out
}

/// userlist.txt: one secret per user, as PgBouncer loads them.
pub fn userlist(text: &str) -> Settings {
    secrets(
        Userlist::parse(text)
            .entries
            .into_iter()
            .map(|e| (e.user, e.secret)),
    )
}

/// roles.sql: the verifier each role gets.
pub fn roles(text: &str) -> Settings {
    secrets(role_verifiers(text))
}

/// An app's env file: one value per variable, as the app's loader reads it. Variables named
/// like a secret, and URLs with a literal password, are secret.
pub fn env(path: &Path, text: &str) -> Settings {
    let (sources, id) = source(path, text);
    let parsed = dotenv::parse(id, text);
    let mut out = Settings::default();
    for e in &parsed.entries {
        // A `${VAR}` reference is no secret; a literal value is.
        let secret = crate::stack::files::literal_password(e, &sources).is_some();
        out.put(
            e.key.clone(),
            Entry {
                section: None,
                name: e.key.clone(),
                value: e.value.clone(),
                normalized: e.value.clone(),
                secret,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_values_compare_as_the_server_stores_them() {
        let p = Path::new("a.conf");
        let a = postgres(p, "shared_buffers = 1GB\nsort_mem = '4MB'\n", Some(15));
        let b = postgres(
            p,
            "# header\nshared_buffers = 1024MB\nwork_mem = 4096kB\n",
            Some(15),
        );
        assert_eq!(a.len(), 2);
        for (k, e) in a.iter() {
            let other = b.get(k).expect("same parameter");
            assert_eq!(e.normalized, other.normalized, "{}", e.name);
        }
        let names: Vec<&str> = a.iter().map(|(_, e)| e.name.as_str()).collect();
        assert_eq!(names, ["shared_buffers", "work_mem"]);
        let conninfo = postgres(p, "primary_conninfo = 'host=a password=x'\n", Some(15));
        assert!(conninfo.iter().all(|(_, e)| e.secret));
    }

    #[test]
    fn pgbouncer_sections_and_secret_connection_strings() {
        let ini = "[databases]\nappdb = host=db dbname=app password=s3cret\n[pgbouncer]\nunix_socket_mode = 0777\nlisten_port = 6432\n";
        let s = pgbouncer(Path::new("p.ini"), ini, Some(PgbVersion::new(1, 18)));
        let names: Vec<(Option<Section>, &str, bool)> = s
            .iter()
            .map(|(_, e)| (e.section, e.name.as_str(), e.secret))
            .collect();
        assert_eq!(
            names,
            [
                (Some(Section::Databases), "appdb", true),
                (None, "unix_socket_mode", false),
                (None, "listen_port", false)
            ]
        );
        let other = pgbouncer(
            Path::new("p.ini"),
            "[pgbouncer]\nunix_socket_mode = 511\n",
            Some(PgbVersion::new(1, 18)),
        );
        let key = (None, "unix_socket_mode".to_string());
        assert_eq!(
            other.get(&key).map(|e| &e.normalized),
            s.get(&key).map(|e| &e.normalized),
            "0777 and 511 are one value"
        );
    }

    #[test]
    fn env_secrets_are_marked() {
        let s = env(
            Path::new(".env"),
            "DATABASE_URL=postgresql://u:${PW}@h/db\nAPI_TOKEN=abc\nDB_POOL_SIZE=5\n",
        );
        let secret: Vec<bool> = s.iter().map(|(_, e)| e.secret).collect();
        assert_eq!(secret, [false, true, false]);
    }
}
