//! `poolstack init`: a short interview that writes a commented stack.toml which passes
//! `poolstack check` clean. The questions and the manifest text are separate, so the text is tested
//! without a terminal and the interview through a real pseudo-terminal.

mod interview;
pub mod validate;

pub use interview::interview;
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
    /// PgBouncer's admin-console user (for `poolstack doctor`, SHOW POOLS); `None` without
    /// PgBouncer. The database user itself when named so, else a user of its own.
    pub admin: Option<AdminAnswer>,
    pub apps: Vec<AppAnswers>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdminAnswer {
    pub name: String,
    /// Unused when the admin is the database user (it has its password already).
    pub password: PasswordAnswer,
}

impl AdminAnswer {
    pub fn default_for_stack() -> AdminAnswer {
        AdminAnswer {
            name: "pgbouncer_admin".to_string(),
            password: PasswordAnswer::Env("PGBOUNCER_ADMIN_PASSWORD".to_string()),
        }
    }
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
    pub kind: KindAnswer,
}

/// The framework an app uses (`crate::apps` kind).
#[derive(Debug, Clone, PartialEq)]
pub enum KindAnswer {
    /// SQLAlchemy (the default kind) on this driver.
    SqlAlchemy { driver: String },
    /// Another kind, by name.
    Framework(String),
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
            admin: Some(AdminAnswer::default_for_stack()),
            apps: vec![AppAnswers {
                name: "api".to_string(),
                replicas: 1,
                processes: 1,
                kind: KindAnswer::SqlAlchemy {
                    driver: "psycopg".to_string(),
                },
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
    match value.chars().count() {
        n if n >= 38 => {
            let _ = writeln!(t, "{value}  # {comment}");
        }
        _ => {
            let _ = writeln!(t, "{value:<38}# {comment}");
        }
    }
}

fn password_line(t: &mut String, p: &PasswordAnswer) {
    let line = match p {
        PasswordAnswer::Env(v) => format!("password = {{ env = {} }}", q(v)),
        PasswordAnswer::File(f) => format!("password = {{ file = {} }}", q(f)),
    };
    commented(t, &line, "never the password itself");
}

/// The environment variables a render of these answers reads passwords from.
pub fn password_variables(a: &Answers) -> Vec<&str> {
    let mut vars = Vec::new();
    if let PasswordAnswer::Env(v) = &a.password {
        vars.push(v.as_str());
    }
    if let Some(admin) = a.pgbouncer.as_ref().and(a.admin.as_ref())
        && admin.name != a.user
        && let PasswordAnswer::Env(v) = &admin.password
    {
        vars.push(v.as_str());
    }
    vars
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
    password_line(&mut t, &a.password);
    let admin = a.pgbouncer.as_ref().and(a.admin.as_ref());
    match admin {
        Some(admin) if admin.name == a.user => commented(
            &mut t,
            "admin = true",
            "may use PgBouncer's admin console (SHOW POOLS; poolstack doctor)",
        ),
        Some(admin) => {
            let _ = writeln!(t, "\n[[users]]\nname = {}", q(&admin.name));
            password_line(&mut t, &admin.password);
            commented(
                &mut t,
                "role = false",
                "PgBouncer's admin console only: no PostgreSQL role",
            );
            commented(
                &mut t,
                "admin = true",
                "may use PgBouncer's admin console (SHOW POOLS; poolstack doctor)",
            );
        }
        None => {}
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
        let driver = match &app.kind {
            KindAnswer::SqlAlchemy { driver } => {
                let _ = writeln!(t, "driver = {}", q(driver));
                Some(driver)
            }
            KindAnswer::Framework(kind) => {
                commented(
                    &mut t,
                    &format!("kind = {}", q(kind)),
                    "its framework's keys and safe defaults apply",
                );
                None
            }
        };
        let _ = writeln!(t, "database = {}\nuser = {}", q(&a.database), q(&a.user));
        if let PasswordAnswer::File(_) = &a.password {
            let _ = writeln!(
                t,
                "password_env = \"DB_PASSWORD\"          # the variable DATABASE_URL refers to"
            );
        }
        let Some(driver) = driver else {
            continue;
        };
        let _ = writeln!(t, "pool_size = 5\nmax_overflow = 5\npre_ping = true");
        if driver == "psycopg" {
            let _ = writeln!(
                t,
                "prepare_threshold = \"none\"            # none disables prepared statements; 0 would prepare every query"
            );
        }
    }
    t
}

#[cfg(test)]
mod tests;
