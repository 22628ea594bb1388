//! import → render → read back: the effective settings of hand-written files compared with
//! those of the files `render` writes from the imported manifest. Effective means what the
//! server applies — the value written, else the server's default — so a value pinned
//! explicitly to the default compares equal to a silent file. Header comments never matter.

#![allow(dead_code)]

use assert_cmd::Command;
use poolstack::catalog::pgbouncer::{self as pgbcat, PgbType, PgbVersion, Section};
use poolstack::catalog::postgres::{self as pgcat, PgCatalog};
use poolstack::stack::files::{self, Input, Kind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every effective PgBouncer setting: `[pgbouncer]` options, then each `[databases]` and
/// `[users]` entry's keys.
#[derive(Debug, PartialEq)]
pub struct PgbouncerEffective {
    pub options: BTreeMap<String, String>,
    pub databases: BTreeMap<String, BTreeMap<String, String>>,
    pub users: BTreeMap<String, BTreeMap<String, String>>,
}

/// `paths`, all of one kind, as inputs read from the first one's directory.
fn inputs(paths: &[PathBuf], kind: Kind) -> (PathBuf, Vec<Input>) {
    let cwd = paths[0].parent().unwrap_or(Path::new(".")).to_path_buf();
    let inputs = paths
        .iter()
        .map(|p| Input {
            path: p.clone(),
            kind,
        })
        .collect();
    (cwd, inputs)
}

fn read(path: &Path, kind: Kind) -> files::Read {
    let (cwd, inputs) = inputs(&[path.to_path_buf()], kind);
    files::read(&inputs, &cwd).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A comma-separated list compares as a set (render writes admin_users in [[users]] order).
fn normalized(ty: PgbType, text: &str) -> String {
    if ty != PgbType::List {
        return text.to_string();
    }
    let set: BTreeSet<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

pub fn pgbouncer(path: &Path, version: PgbVersion) -> PgbouncerEffective {
    let read = read(path, Kind::PgbouncerIni);
    let doc = read.ini.as_ref().expect("a pgbouncer.ini");
    let set = files::pgbouncer_ini::check(doc, Some(version), &read.sources);
    let mut options = BTreeMap::new();
    for opt in pgbcat::options(Section::Pgbouncer).filter(|o| o.exists_in(version)) {
        let value = match set.option(opt.name) {
            Some(o) => o.value.normalized.clone(),
            None => match opt.default_for(version) {
                Some(d) => pgbcat::parse_value_in(opt, d, Some(version))
                    .map(|v| v.normalized)
                    .unwrap_or_else(|_| d.to_string()),
                None => "<unset>".to_string(),
            },
        };
        options.insert(opt.name.to_string(), normalized(opt.ty, &value));
    }
    let mut databases = BTreeMap::new();
    for db in &set.databases {
        let mut params: BTreeMap<String, String> = db
            .params
            .iter()
            .map(|p| {
                // `reserve_pool` before 1.24, `reserve_pool_size` from 1.24: one setting.
                let key = if p.name == "reserve_pool" {
                    "reserve_pool_size"
                } else {
                    p.name
                };
                (key.to_string(), p.value.normalized.clone())
            })
            .collect();
        // PgBouncer's defaults for a connection string: the unix socket, 5432, the entry's name
        // (for `*`, the name the client asked for).
        params.entry("host".into()).or_default();
        params.entry("port".into()).or_insert_with(|| "5432".into());
        if db.name != "*" {
            params
                .entry("dbname".into())
                .or_insert_with(|| db.name.clone());
        }
        databases.insert(db.name.clone(), params);
    }
    let users = set
        .users
        .iter()
        .map(|u| {
            let params = u
                .params
                .iter()
                .map(|p| (p.name.to_string(), p.value.normalized.clone()))
                .collect();
            (u.name.clone(), params)
        })
        .collect();
    PgbouncerEffective {
        options,
        databases,
        users,
    }
}

/// Every PostgreSQL parameter the files set, by lower-case name, with its effective value
/// as `postgres -C` prints it.
pub fn postgres(paths: &[PathBuf], major: u32) -> BTreeMap<String, String> {
    let (cwd, inputs) = inputs(paths, Kind::PostgresqlConf);
    let read = files::read(&inputs, &cwd).unwrap_or_else(|e| panic!("{e}"));
    let docs: Vec<_> = read.confs.iter().collect();
    let set = files::postgresql_conf::check_all(&docs, Some(major), &read.sources);
    set.params
        .iter()
        .map(|p| {
            let value = p
                .value
                .as_ref()
                .map(|v| v.normalized.clone())
                .unwrap_or_else(|| p.raw.clone());
            (p.name.to_ascii_lowercase(), value)
        })
        .collect()
}

/// What each app's .env tells its code, field by field (the password only as a reference).
pub fn apps(paths: &[PathBuf]) -> Vec<String> {
    let (cwd, inputs) = inputs(paths, Kind::Env);
    let stack =
        files::build(&inputs, &files::Versions::default(), &cwd).unwrap_or_else(|e| panic!("{e}"));
    stack
        .apps
        .iter()
        .map(|a| {
            let own = match a.sqlalchemy() {
                Some(s) => format!(
                    "driver={:?} pool_size={} max_overflow={} pool_timeout={:?} pool_recycle={:?} pre_ping={} prepare_threshold={:?} statement_cache_size={:?} connect_timeout={:?}",
                    s.driver.value,
                    s.pool_size.value,
                    s.max_overflow.value,
                    s.pool_timeout.value,
                    s.pool_recycle.value,
                    s.pre_ping.value,
                    s.prepare_threshold.as_ref().map(|s| s.value),
                    s.statement_cache_size.as_ref().map(|s| s.value),
                    s.connect_timeout.value,
                ),
                None => a
                    .fw()
                    .0
                    .iter()
                    .map(|s| format!("{}={}", s.key, s.value.value))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            format!(
                "{}: kind={} url={}@{}:{}/{} via_pgbouncer={} password=${{{}}} {own}",
                a.env_file.value.display(),
                a.kind().name(),
                a.user.value,
                a.url.host.value,
                a.url.port.value,
                a.url.database.value,
                a.url.via_pgbouncer,
                a.password_env.value,
            )
        })
        .collect()
}

/// A parameter's effective value when no file sets it.
fn pg_default(major: u32, name: &str) -> String {
    let Some(param) = PgCatalog::for_major(major).and_then(|c| c.get(name)) else {
        return "<unset>".to_string();
    };
    match param.default {
        Some(d) => pgcat::parse_value(param, d)
            .map(|v| v.normalized)
            .unwrap_or_else(|_| d.to_string()),
        None => "<unset>".to_string(),
    }
}

/// The differences, one line each; empty when the effective settings are the same.
pub fn postgres_diff(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
    major: u32,
) -> Vec<String> {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|n| {
            let get = |m: &BTreeMap<String, String>| {
                m.get(n).cloned().unwrap_or_else(|| pg_default(major, n))
            };
            let (x, y) = (get(a), get(b));
            (x != y).then(|| format!("postgresql: {n}: {x:?} became {y:?}"))
        })
        .collect()
}

pub fn pgbouncer_diff(a: &PgbouncerEffective, b: &PgbouncerEffective) -> Vec<String> {
    let mut out = Vec::new();
    let mut maps = |what: &str, x: &BTreeMap<String, String>, y: &BTreeMap<String, String>| {
        let names: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for n in names {
            if x.get(n) != y.get(n) {
                // A connection string's password is a secret: never shown, even from a test.
                let shown = |v: Option<&String>| match v {
                    Some(_) if n == "password" => "<secret>".to_string(),
                    other => format!("{other:?}"),
                };
                out.push(format!(
                    "{what}{n}: {} became {}",
                    shown(x.get(n)),
                    shown(y.get(n))
                ));
            }
        }
    };
    maps("[pgbouncer] ", &a.options, &b.options);
    for (kind, x, y) in [
        ("[databases]", &a.databases, &b.databases),
        ("[users]", &a.users, &b.users),
    ] {
        let names: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for n in names {
            let empty = BTreeMap::new();
            maps(
                &format!("{kind} {n}: "),
                x.get(n).unwrap_or(&empty),
                y.get(n).unwrap_or(&empty),
            );
        }
    }
    out
}

pub fn poolstack(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1").current_dir(dir);
    c
}

/// The environment variables a manifest's password references name.
pub fn env_vars(manifest: &str) -> Vec<String> {
    let doc: toml::Table = toml::from_str(manifest).expect("the manifest is TOML");
    let mut vars = Vec::new();
    let entries = |key: &str| {
        doc.get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    for u in entries("users") {
        if let Some(v) = u.get("password").and_then(|p| p.get("env")) {
            vars.extend(v.as_str().map(str::to_string));
        }
    }
    for a in entries("apps") {
        if let Some(v) = a.get("password_env") {
            vars.extend(v.as_str().map(str::to_string));
        }
    }
    vars
}

/// Why a poolstack run failed: its exit code and everything it printed.
fn failed(command: &str, out: &std::process::Output) -> String {
    format!(
        "{command} exited {:?}:\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The passwords behind the verifiers of the hand-written fixtures (the seed's trader123): an
/// imported userlist's verifiers are kept, and render refuses a password they do not accept.
const FIXTURE_PASSWORDS: &[(&str, &str)] = &[("POSTGRES_PASSWORD", "trader123")];

/// Render the manifest in `dir` with every referenced password set (to a dummy value, or the
/// fixture's password).
pub fn render(dir: &Path) -> Result<(), String> {
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).map_err(|e| e.to_string())?;
    let mut cmd = poolstack(dir);
    for v in env_vars(&manifest) {
        let known = FIXTURE_PASSWORDS.iter().find(|(name, _)| *name == v);
        match known {
            Some((_, pw)) => cmd.env(&v, pw),
            None => cmd.env(&v, format!("dummy-{v}")),
        };
    }
    let out = cmd
        .args(["render", "stack.toml", "--force"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(failed("render", &out));
    }
    Ok(())
}

/// `poolstack check ARGS --format json` in `dir`: the codes it reports (exit 0 or 1), never an
/// input error.
fn check_codes(dir: &Path, args: &[&str]) -> Result<std::collections::BTreeSet<String>, String> {
    let out = poolstack(dir)
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .map_err(|e| e.to_string())?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(failed("check", &out));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("check: not JSON: {e}"))?;
    Ok(report["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Findings the imported manifest has that the files it came from did not: an imported manifest
/// passes its own check without new findings (issue 12).
fn new_findings(
    dir: &Path,
    files: &[&str],
    flags: &[&str],
) -> Result<std::collections::BTreeSet<String>, String> {
    let mut args: Vec<&str> = files.to_vec();
    args.extend(flags);
    let before = check_codes(dir, &args)?;
    let after = check_codes(dir, &["stack.toml"])?;
    // Without a whole postgresql.conf the files say nothing about the server, and the rules that
    // compare with its settings stay silent on them; the manifest describes the server it renders
    // a fragment for (its defaults where unset), so those rules speak there.
    let whole_conf = files
        .iter()
        .any(|f| f.ends_with(".conf") && f.contains("postgresql"));
    // Likewise without userlist.txt: the files hold no secret, and the manifest's users get a
    // userlist poolstack writes itself (AUT010 says when their stored verifiers are unknown).
    let userlist = files.iter().any(|f| f.starts_with("userlist"));
    Ok(after
        .difference(&before)
        .filter(|c| whole_conf || !READS_POSTGRES_CONF.contains(&c.as_str()))
        .filter(|c| userlist || c.as_str() != "AUT010")
        .cloned()
        .collect())
}

/// Rules that need the server's configuration (`Postgres::described`), and AUT002, which needs
/// how it stores passwords. Not NET001: where PgBouncer reaches PostgreSQL is in pgbouncer.ini,
/// and import must keep it consistent.
const READS_POSTGRES_CONF: &[&str] = &[
    "CON002", "CON003", "CON007", "TMO002", "TMO003", "TMO005", "AUT002",
];

/// `poolstack check` reads the imported manifest: findings (exit 0 or 1), never an input error.
pub fn checks(dir: &Path) -> Result<(), String> {
    check_codes(dir, &["stack.toml"]).map(|_| ())
}

/// Import `files` (names inside `dir`) with `flags`, check, render, and compare; `Ok` holds what
/// import printed (stdout, then stderr), `Err` says why the round trip failed.
pub fn round_trip(
    dir: &Path,
    files: &[&str],
    flags: &[&str],
    pgb: Option<PgbVersion>,
    pg: u32,
) -> Result<String, String> {
    let ini = files
        .iter()
        .find(|f| f.ends_with(".ini"))
        .map(|f| dir.join(f));
    let confs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.ends_with(".conf"))
        .map(|f| dir.join(f))
        .collect();
    let envs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.ends_with(".env"))
        .map(|f| dir.join(f))
        .collect();
    // Read the originals first (render writes each app's env file beside the manifest, never
    // over the file it was imported from).
    let before_apps = (!envs.is_empty()).then(|| apps(&envs));
    let before_pgb = ini.as_ref().zip(pgb).map(|(p, v)| pgbouncer(p, v));
    let before_pg = (!confs.is_empty()).then(|| postgres(&confs, pg));
    let out = poolstack(dir)
        .arg("import")
        .args(files)
        .args(flags)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(failed("import", &out));
    }
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut added = new_findings(dir, files, flags)?;
    // Files whose [databases] reach several servers: import says so, and NET001 is expected.
    if printed.contains("reach more than one PostgreSQL") {
        added.remove("NET001");
    }
    render(dir)?;
    let mut diffs = Vec::new();
    if !added.is_empty() {
        diffs.push(format!(
            "the imported manifest has findings the files did not: {}",
            added.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if let (Some(before), Some(v)) = (before_pgb, pgb) {
        let after = pgbouncer(&dir.join("pgbouncer/pgbouncer.ini"), v);
        diffs.extend(pgbouncer_diff(&before, &after));
    }
    if let Some(before) = before_pg {
        let after = postgres(&[dir.join("postgres/conf.d/50-poolstack.conf")], pg);
        diffs.extend(postgres_diff(&before, &after, pg));
    }
    if let Some(before) = before_apps {
        for env in &envs {
            if std::fs::read_to_string(env)
                .map_err(|e| e.to_string())?
                .contains("Generated by poolstack")
            {
                diffs.push(format!(
                    "{}: render wrote over the imported file",
                    env.display()
                ));
            }
        }
        let manifest =
            std::fs::read_to_string(dir.join("stack.toml")).map_err(|e| e.to_string())?;
        let doc: toml::Table = toml::from_str(&manifest).map_err(|e| e.to_string())?;
        let rendered: Vec<PathBuf> = doc
            .get("apps")
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|app| app.get("env_file")?.as_str())
                    .map(|f| dir.join(f))
                    .collect()
            })
            .unwrap_or_default();
        // Compared without the file each app's settings live in.
        let fields = |list: Vec<String>| -> Vec<String> {
            let mut v: Vec<String> = list
                .into_iter()
                .map(|a| a.split_once(": ").map_or(a.clone(), |(_, f)| f.to_string()))
                .collect();
            v.sort();
            v
        };
        let before = fields(before);
        let after = fields(if rendered.is_empty() {
            Vec::new()
        } else {
            apps(&rendered)
        });
        if before != after {
            diffs.push(format!("apps: {before:#?} became {after:#?}"));
        }
    }
    match diffs.is_empty() {
        true => Ok(printed),
        false => Err(diffs.join("\n")),
    }
}
