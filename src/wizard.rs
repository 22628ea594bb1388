//! `poolstack init`: a short interview that writes a commented stack.toml which passes
//! `poolstack check` clean. The questions and the manifest text are separate, so the text is tested
//! without a terminal and the interview through a real pseudo-terminal.

use crate::diag::InputError;
use std::fmt::Write as _;

/// Everything the wizard asks, with the defaults `--yes` takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub stack_name: String,
    pub pg_version: u32,
    pub pg_host: String,
    pub pg_port: u16,
    /// Machine figures: only when PostgreSQL runs on this machine (or given by hand).
    pub memory: Option<String>,
    pub cpus: Option<u32>,
    /// Where the machine figures came from, for the manifest's comment.
    pub detected_from: Option<String>,
    pub storage: String,
    pub workload: String,
    pub pgbouncer: Option<PgbouncerAnswers>,
    pub database: String,
    pub user: String,
    pub password: PasswordAnswer,
    pub apps: Vec<AppAnswers>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PgbouncerAnswers {
    pub version: String,
    pub host: String,
    pub listen_port: u16,
    pub pool_mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PasswordAnswer {
    Env(String),
    File(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppAnswers {
    pub name: String,
    pub replicas: u32,
    pub processes: u32,
    /// The framework (`crate::apps` kind); the driver applies to SQLAlchemy apps only.
    pub kind: String,
    pub driver: String,
}

impl Default for Answers {
    fn default() -> Answers {
        Answers {
            stack_name: "app".to_string(),
            pg_version: 17,
            pg_host: "localhost".to_string(),
            pg_port: 5432,
            memory: None,
            cpus: None,
            detected_from: None,
            storage: "ssd".to_string(),
            workload: "web".to_string(),
            pgbouncer: Some(PgbouncerAnswers {
                version: "1.24".to_string(),
                host: "localhost".to_string(),
                listen_port: 6432,
                pool_mode: "transaction".to_string(),
            }),
            database: "app".to_string(),
            user: "app".to_string(),
            password: PasswordAnswer::Env("APP_PASSWORD".to_string()),
            apps: vec![AppAnswers {
                name: "api".to_string(),
                replicas: 1,
                processes: 1,
                kind: "sqlalchemy".to_string(),
                driver: "psycopg".to_string(),
            }],
        }
    }
}

fn q(s: &str) -> String {
    // TOML basic string
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `value   # comment`, comments aligned in one column.
fn commented(t: &mut String, value: &str, comment: &str) {
    let _ = writeln!(t, "{value:<38}# {comment}");
}

/// The manifest text: commented, so a newcomer can read what each line does.
pub fn manifest_text(a: &Answers) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# stack.toml — written by `poolstack init`. Edit it, then run `poolstack render`;"
    );
    let _ = writeln!(
        t,
        "# `poolstack check` cross-checks the stack. Schema: `poolstack schema`.\n"
    );
    let _ = writeln!(t, "[stack]\nname = {}\n", q(&a.stack_name));
    let _ = writeln!(t, "[postgres]");
    commented(
        &mut t,
        &format!("version = {}", a.pg_version),
        "major version: picks the settings catalog",
    );
    commented(
        &mut t,
        &format!("host = {}", q(&a.pg_host)),
        "how PgBouncer and direct clients reach it",
    );
    let _ = writeln!(t, "port = {}", a.pg_port);
    match (&a.memory, &a.detected_from) {
        (Some(m), Some(src)) => {
            commented(
                &mut t,
                &format!("memory = {}", q(m)),
                &format!("detected: {src}"),
            );
        }
        (Some(m), None) => {
            commented(
                &mut t,
                &format!("memory = {}", q(m)),
                "RAM available to PostgreSQL",
            );
        }
        (None, _) => {
            let _ = writeln!(
                t,
                "# memory = \"16GB\"                     # RAM available to PostgreSQL: enables the memory checks"
            );
        }
    }
    match a.cpus {
        Some(c) => {
            let _ = writeln!(t, "cpus = {c}");
        }
        None => {
            let _ = writeln!(t, "# cpus = 4");
        }
    }
    let _ = writeln!(
        t,
        "storage = {}\nworkload = {}",
        q(&a.storage),
        q(&a.workload)
    );
    let _ = writeln!(t, "password_encryption = \"scram-sha-256\"");
    let _ = writeln!(
        t,
        "\n[postgres.settings]                   # any parameter of this version, checked against its catalog"
    );
    let _ = writeln!(
        t,
        "# A client stuck in a transaction would pin a pooled server connection forever (TMO003)."
    );
    let _ = writeln!(t, "idle_in_transaction_session_timeout = \"5min\"");
    if let Some(p) = &a.pgbouncer {
        let _ = writeln!(t, "\n[pgbouncer]");
        commented(
            &mut t,
            &format!("version = {}", q(&p.version)),
            "picks the option catalog: only options of this version are written",
        );
        commented(
            &mut t,
            &format!("host = {}", q(&p.host)),
            "how apps reach PgBouncer",
        );
        let _ = writeln!(t, "listen_port = {}", p.listen_port);
        let _ = writeln!(t, "pool_mode = {}", q(&p.pool_mode));
        let _ = writeln!(t, "auth_type = \"scram-sha-256\"");
        let _ = writeln!(t, "max_client_conn = 200");
        let _ = writeln!(
            t,
            "default_pool_size = 20                # server connections per (database, user) pool"
        );
        let _ = writeln!(t, "reserve_pool_size = 5");
    }
    let _ = writeln!(t, "\n[[databases]]\nname = {}", q(&a.database));
    let _ = writeln!(t, "\n[[users]]\nname = {}", q(&a.user));
    match &a.password {
        PasswordAnswer::Env(v) => {
            commented(
                &mut t,
                &format!("password = {{ env = {} }}", q(v)),
                "never the password itself",
            );
        }
        PasswordAnswer::File(f) => {
            commented(
                &mut t,
                &format!("password = {{ file = {} }}", q(f)),
                "never the password itself",
            );
        }
    }
    for app in &a.apps {
        let _ = writeln!(t, "\n[[apps]]\nname = {}", q(&app.name));
        commented(
            &mut t,
            &format!("replicas = {}", app.replicas),
            "containers or hosts",
        );
        commented(
            &mut t,
            &format!("processes = {}", app.processes),
            "worker processes per replica, each with its own pool",
        );
        let sqlalchemy = app.kind == crate::apps::default_kind().name();
        if sqlalchemy {
            let _ = writeln!(t, "driver = {}", q(&app.driver));
        } else {
            commented(
                &mut t,
                &format!("kind = {}", q(&app.kind)),
                "its framework's keys and safe defaults apply",
            );
        }
        let _ = writeln!(t, "database = {}\nuser = {}", q(&a.database), q(&a.user));
        if let PasswordAnswer::File(_) = &a.password {
            let _ = writeln!(
                t,
                "password_env = \"DB_PASSWORD\"          # the variable DATABASE_URL refers to"
            );
        }
        if !sqlalchemy {
            continue;
        }
        let _ = writeln!(t, "pool_size = 5\nmax_overflow = 5\npre_ping = true");
        if app.driver == "psycopg" {
            let _ = writeln!(
                t,
                "prepare_threshold = \"none\"            # none disables prepared statements; 0 would prepare every query"
            );
        }
    }
    t
}

/// Ask every question on the terminal, defaults shown.
pub fn interview(detected: Option<(String, Option<u32>, String)>) -> Result<Answers, InputError> {
    use inquire::{Confirm, Select, Text};
    let d = Answers::default();
    let err = |e: inquire::InquireError| match e {
        inquire::InquireError::OperationCanceled | inquire::InquireError::OperationInterrupted => {
            InputError::new("init cancelled; nothing was written")
        }
        other => InputError::new(format!("cannot ask: {other}")),
    };
    let text = |msg: &str, default: &str| -> Result<String, InputError> {
        Text::new(msg).with_default(default).prompt().map_err(err)
    };
    let number = |msg: &str, default: u32| -> Result<u32, InputError> {
        loop {
            let s = Text::new(msg)
                .with_default(&default.to_string())
                .prompt()
                .map_err(err)?;
            match s.trim().parse::<u32>() {
                Ok(n) => return Ok(n),
                Err(_) => eprintln!("  please type a whole number"),
            }
        }
    };
    let mut a = Answers {
        stack_name: text("Stack name:", &d.stack_name)?,
        ..d.clone()
    };
    let versions = vec!["17", "16", "15", "14", "13", "18"];
    a.pg_version = Select::new("PostgreSQL major version:", versions)
        .prompt()
        .map_err(err)?
        .parse()
        .unwrap_or(17);
    a.pg_host = text(
        "Host name apps and PgBouncer use to reach PostgreSQL:",
        &d.pg_host,
    )?;
    a.pg_port = number("PostgreSQL port:", u32::from(d.pg_port))?
        .try_into()
        .unwrap_or(5432);
    let local = Confirm::new("Does PostgreSQL run on this machine?")
        .with_default(false)
        .prompt()
        .map_err(err)?;
    if local && let Some((mem, cpus, source)) = &detected {
        let use_it = Confirm::new(&format!(
            "Detected {mem}{} ({source}). Use these?",
            cpus.map(|c| format!(" and {c} CPUs")).unwrap_or_default()
        ))
        .with_default(true)
        .prompt()
        .map_err(err)?;
        if use_it {
            a.memory = Some(mem.clone());
            a.cpus = *cpus;
            a.detected_from = Some(source.clone());
        }
    }
    if a.memory.is_none() {
        let m = Text::new("RAM available to PostgreSQL (e.g. 16GB; empty to skip):")
            .prompt()
            .map_err(err)?;
        if !m.trim().is_empty() {
            crate::units::Bytes::parse(m.trim()).map_err(|e| InputError::new(e.0))?;
            a.memory = Some(m.trim().to_string());
        }
    }
    a.storage = Select::new("Storage:", vec!["ssd", "nvme", "hdd", "san"])
        .prompt()
        .map_err(err)?
        .to_string();
    a.workload = Select::new("Workload:", vec!["web", "oltp", "mixed", "dw", "desktop"])
        .prompt()
        .map_err(err)?
        .to_string();
    let use_pgb = Confirm::new("Put PgBouncer in front of PostgreSQL?")
        .with_default(true)
        .prompt()
        .map_err(err)?;
    a.pgbouncer = if use_pgb {
        let dp = d.pgbouncer.clone().unwrap_or(PgbouncerAnswers {
            version: "1.24".into(),
            host: "localhost".into(),
            listen_port: 6432,
            pool_mode: "transaction".into(),
        });
        Some(PgbouncerAnswers {
            version: Select::new(
                "PgBouncer version:",
                vec![
                    "1.24", "1.25", "1.23", "1.22", "1.21", "1.20", "1.19", "1.18", "1.17", "1.16",
                    "1.15",
                ],
            )
            .prompt()
            .map_err(err)?
            .to_string(),
            host: text("Host name apps use to reach PgBouncer:", &dp.host)?,
            listen_port: number("PgBouncer port:", u32::from(dp.listen_port))?
                .try_into()
                .unwrap_or(6432),
            pool_mode: Select::new("Pool mode:", vec!["transaction", "session", "statement"])
                .prompt()
                .map_err(err)?
                .to_string(),
        })
    } else {
        None
    };
    a.database = text("Database name:", &a.stack_name.clone())?;
    a.user = text("Database user:", &d.user)?;
    let source = Select::new(
        "Where does the user's password come from?",
        vec!["an environment variable", "a file"],
    )
    .prompt()
    .map_err(err)?;
    a.password = if source == "a file" {
        PasswordAnswer::File(text(
            "Password file (relative to stack.toml):",
            &format!("secrets/{}", a.user),
        )?)
    } else {
        PasswordAnswer::Env(text(
            "Environment variable holding it:",
            &format!(
                "{}_PASSWORD",
                a.user
                    .to_uppercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
        )?)
    };
    a.apps.clear();
    loop {
        let name = text(
            "App name:",
            if a.apps.is_empty() { "api" } else { "worker" },
        )?;
        let replicas = number("Replicas (containers or hosts):", 1)?;
        let processes = number("Worker processes per replica:", 1)?;
        let kind = Select::new("Framework:", crate::apps::names())
            .prompt()
            .map_err(err)?
            .to_string();
        let driver = if kind == crate::apps::default_kind().name() {
            Select::new("SQLAlchemy driver:", vec!["psycopg", "psycopg2", "asyncpg"])
                .prompt()
                .map_err(err)?
                .to_string()
        } else {
            String::new()
        };
        a.apps.push(AppAnswers {
            name,
            replicas,
            processes,
            kind,
            driver,
        });
        if !Confirm::new("Add another app?")
            .with_default(false)
            .prompt()
            .map_err(err)?
        {
            break;
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_manifest_loads_and_resolves_without_findings() {
        let text = manifest_text(&Answers::default());
        let loaded = crate::manifest::parse(std::path::Path::new("stack.toml"), text).unwrap();
        let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
        assert!(stack.findings.is_empty(), "{:?}", stack.findings);
        assert!(stack.pgbouncer.is_some());
    }

    #[test]
    fn every_answer_shape_gives_a_valid_manifest() {
        let mut a = Answers {
            pgbouncer: None,
            password: PasswordAnswer::File("secrets/app".into()),
            memory: Some("8GB".into()),
            cpus: Some(2),
            ..Answers::default()
        };
        a.apps.push(AppAnswers {
            name: "worker".into(),
            replicas: 2,
            processes: 3,
            kind: "sqlalchemy".into(),
            driver: "asyncpg".into(),
        });
        for kind in crate::apps::names().into_iter().skip(1) {
            a.apps.push(AppAnswers {
                name: format!("app-{kind}"),
                replicas: 1,
                processes: 1,
                kind: kind.into(),
                driver: String::new(),
            });
        }
        let loaded =
            crate::manifest::parse(std::path::Path::new("stack.toml"), manifest_text(&a)).unwrap();
        let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
        assert!(stack.findings.is_empty());
        assert_eq!(stack.apps.len(), 1 + crate::apps::KINDS.len());
        assert_eq!(stack.apps[2].kind().name(), crate::apps::names()[1]);
        assert_eq!(
            stack.apps[1].env_file.value,
            std::path::PathBuf::from("worker.env")
        );
    }
}
