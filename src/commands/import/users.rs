//! `[[users]]` of an imported manifest: who is listed, which variable each password is read
//! from, and the names a manifest cannot hold.

use super::values;
use crate::catalog::pgbouncer::Section;
use crate::manifest::PoolMode;
use crate::manifest::write::{Table, password_env};
use crate::stack::files::pgbouncer_ini::IniSettings;
use crate::stack::{Setting, Stack};

/// Why a user or database name cannot go into the manifest, if it cannot: render writes names
/// into userlist.txt and pgbouncer.ini lines and the manifest refuses an empty user name, so an
/// empty name or one with a line break would not come back as the same name.
pub(super) fn unusable(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("an empty name, which a manifest cannot hold")
    } else if name.chars().any(char::is_control) {
        Some(
            "a line break or other control character in the name, which the rendered files cannot hold",
        )
    } else {
        None
    }
}

/// The `not imported:` line for the `what` (user, database) named `name`, when the manifest
/// cannot hold that name.
pub(super) fn left_out(what: &str, name: &Setting<String>, stack: &Stack) -> Option<String> {
    let why = unusable(&name.value)?;
    let at = name
        .loc()
        .map(|l| format!("{}: ", stack.sources.describe(l)))
        .unwrap_or_default();
    Some(format!(
        "{at}{what} \"{}\": {why}",
        name.value.escape_default()
    ))
}

/// The users of an imported manifest and where their passwords come from.
pub(super) struct Users {
    pub tables: Vec<Table>,
    /// Each user's password variable, in `[[users]]` order.
    pub vars: Vec<(String, String)>,
    /// Where the apps disagree about a user's password variable: said in the header.
    pub remarks: Vec<String>,
}

impl Users {
    /// The variable `user`'s password is read from, when the manifest lists the user.
    pub fn var_of(&self, user: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, v)| v.as_str())
    }
}

/// One `[[users]]` entry in the making.
struct UserRow {
    name: String,
    pool_mode: Option<PoolMode>,
    max_user_connections: Option<u32>,
    settings: toml::Table,
    in_userlist: bool,
}

/// The userlist's users, then anyone else PgBouncer's file names (admin_users, stats_users,
/// `[users]`): the manifest lists a user once, with a password source. A name the manifest
/// cannot hold goes to `notes`.
pub(super) fn users(
    stack: &Stack,
    ini: Option<&IniSettings>,
    manifest_dir: &std::path::Path,
    notes: &mut Vec<String>,
) -> Users {
    // The imported userlist's md5 and SCRAM entries are the stored verifiers PgBouncer logged in
    // with: the manifest refers to that file as where they are known from, so render writes the
    // same entries (a new SCRAM salt would fail at the server, AUT010).
    let verifiers_from = stack.userlist_file.as_ref().map(|f| {
        crate::fsutil::relative(
            manifest_dir,
            &crate::fsutil::absolute(&stack.sources.get(f.file).path),
        )
    });
    let known: Vec<&str> = stack
        .users
        .iter()
        .filter(|u| u.userlist_secret.value != crate::auth::SecretKind::Plain)
        .map(|u| u.name.value.as_str())
        .collect();
    let mut rows: Vec<UserRow> = Vec::new();
    for u in &stack.users {
        if let Some(note) = left_out("user", &u.name, stack) {
            notes.push(note);
            continue;
        }
        rows.push(UserRow {
            pool_mode: u.pool_mode.as_ref().map(|s| s.value),
            max_user_connections: u.max_user_connections.as_ref().map(|s| s.value),
            settings: u
                .options
                .iter()
                .map(|o| {
                    let v = values::pgbouncer(Section::Users, &o.name, &o.ini_text, o.number);
                    (o.name.clone(), v)
                })
                .collect(),
            in_userlist: true,
            ..bare_row(&u.name.value)
        });
    }
    let pgb = stack.pgbouncer.as_ref();
    let listed = |names: Option<&Vec<Setting<String>>>| -> Vec<String> {
        names
            .map(|n| n.iter().map(|s| s.value.clone()).collect())
            .unwrap_or_default()
    };
    let admins = listed(pgb.map(|b| &b.admin_users));
    let stats = listed(pgb.map(|b| &b.stats_users));
    let mut others: Vec<UserRow> = Vec::new();
    for section in ini.map(|i| i.users.as_slice()).unwrap_or_default() {
        if rows.iter().any(|r| r.name == section.name) || unusable(&section.name).is_some() {
            continue;
        }
        let mut row = bare_row(&section.name);
        for p in &section.params {
            match p.name {
                "pool_mode" => row.pool_mode = PoolMode::from_pgbouncer(&p.value.normalized),
                "max_user_connections" => {
                    row.max_user_connections = p.value.number.map(|n| n.max(0.0) as u32)
                }
                other => {
                    let v = values::pgbouncer(Section::Users, other, &p.raw, p.value.number);
                    row.settings.insert(other.to_string(), v);
                }
            }
        }
        others.push(row);
    }
    for name in admins.iter().chain(&stats) {
        let known = rows.iter().chain(&others).any(|r| &r.name == name);
        if !known && unusable(name).is_none() {
            others.push(bare_row(name));
        }
    }
    rows.extend(others);
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let (vars, remarks) = password_vars(stack, &names);
    let tables = rows
        .iter()
        .zip(&vars)
        .map(|(r, (_, var))| {
            let mut t = Table::array("users");
            if !r.in_userlist {
                t.comments.push(format!(
                    "`{}` is named in pgbouncer.ini but not in the imported userlist: render adds it to userlist.txt",
                    r.name
                ));
            }
            t.set("name", r.name.clone());
            t.set(
                "password",
                toml::Value::Table(toml::Table::from_iter([(
                    "env".to_string(),
                    toml::Value::String(var.clone()),
                )])),
            );
            // The imported files do not create roles: they are managed where they were.
            t.set("role", false);
            if let Some(file) = verifiers_from.as_ref().filter(|_| r.in_userlist && known.contains(&r.name.as_str())) {
                t.set(
                    "verifier",
                    toml::Value::Table(toml::Table::from_iter([(
                        "userlist".to_string(),
                        toml::Value::String(file.clone()),
                    )])),
                );
            }
            if admins.contains(&r.name) {
                t.set("admin", true);
            }
            if stats.contains(&r.name) {
                t.set("stats", true);
            }
            if let Some(m) = r.pool_mode {
                t.set("pool_mode", m.as_str());
            }
            if let Some(m) = r.max_user_connections {
                t.set("max_user_connections", i64::from(m));
            }
            if !r.settings.is_empty() {
                t.set("settings", toml::Value::Table(r.settings.clone()));
            }
            t
        })
        .collect();
    Users {
        tables,
        vars,
        remarks,
    }
}

fn bare_row(name: &str) -> UserRow {
    UserRow {
        name: name.to_string(),
        pool_mode: None,
        max_user_connections: None,
        settings: toml::Table::new(),
        in_userlist: false,
    }
}

/// Each user's password variable: the one an app's DATABASE_URL already refers to when it
/// connects as that user (`${POSTGRES_PASSWORD}`), so one variable holds one password; else
/// `<NAME>_PASSWORD`. When apps refer to different variables for one user, the first wins and
/// a remark says so.
fn password_vars(stack: &Stack, users: &[&str]) -> (Vec<(String, String)>, Vec<String>) {
    let mut referenced: Vec<(&str, &str, String)> = Vec::new();
    let mut remarks = Vec::new();
    for app in &stack.apps {
        let var = app.password_env.value.as_str();
        if !app.url.database.origin.is_explicit() || app.url.password_in_file || var.is_empty() {
            continue;
        }
        let user = app.user.value.as_str();
        if !users.contains(&user) {
            continue;
        }
        let env_file = crate::source::display_path(&app.env_file.value);
        match referenced.iter().find(|(u, v, _)| *u == user || *v == var) {
            None => referenced.push((user, var, env_file)),
            Some((u, v, _)) if *u == user && *v == var => {}
            Some((u, v, first)) if *u == user => remarks.push(format!(
                "User `{user}`'s password is read from ${{{v}}}, which {first} refers to; {env_file} refers to ${{{var}}}: give both the same value."
            )),
            Some((u, _, first)) => remarks.push(format!(
                "${{{var}}} is user `{u}`'s password (as {first} uses it); {env_file} uses it for user `{user}`, whose password is read from its own variable."
            )),
        }
    }
    let mut vars: Vec<(String, String)> = Vec::new();
    for name in users {
        let taken = |v: &str| {
            vars.iter().any(|(_, t)| t == v)
                || referenced.iter().any(|(u, r, _)| r == &v && u != name)
        };
        let var = match referenced.iter().find(|(u, _, _)| u == name) {
            Some((_, v, _)) => v.to_string(),
            None => unique(password_env(name), taken),
        };
        vars.push((name.to_string(), var));
    }
    (vars, remarks)
}

/// `var`, or `var` with a number when it is taken: two user names map to the same variable
/// (`a-b`, `a_b`), or an app's URL refers to it for another user.
fn unique(var: String, taken: impl Fn(&str) -> bool) -> String {
    if !taken(&var) {
        return var;
    }
    let stem = var.trim_end_matches("_PASSWORD");
    (2..)
        .map(|n| format!("{stem}_{n}_PASSWORD"))
        .find(|v| !taken(v))
        .unwrap_or(var)
}
