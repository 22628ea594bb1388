//! Application stacks ("kinds" of `[[apps]]`): one module per framework behind [`AppKind`].
//!
//! A kind owns what differs between frameworks: its keys and defaults (safe behind the declared
//! pool mode), its connections-per-process formula for the budget, what it renders, and the facts
//! the rules need (idle keep-time for TMO001, …). Rules ask the kind for facts and never match on
//! framework names. Adding a kind is one new module, one line in [`KINDS`], fixtures and tests.

pub mod asyncpg;
pub mod django;
pub mod dotenv;
pub mod framework;
pub mod jdbc_hikari;
pub mod keys;
pub mod node_postgres;
pub mod pgx;
pub mod prisma;
pub mod psycopg;
pub mod psycopg_pool;
pub mod rails;
pub mod schema;
pub mod sqlalchemy;

use crate::source::Loc;
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;
pub use framework::{FRAMEWORKS, Framework, framework};
pub use keys::{Dflt, FwSetting, FwSettings, KeyDef, Ty, Val};

/// Every kind, in the order the README and `init` list them. The first is the default.
pub static KINDS: &[&dyn AppKind] = &[
    &sqlalchemy::SqlAlchemy,
    &asyncpg::Asyncpg,
    &psycopg_pool::PsycopgPool,
    &django::Django,
    &node_postgres::NodePostgres,
    &pgx::Pgx,
    &rails::Rails,
    &jdbc_hikari::JdbcHikari,
    &prisma::Prisma,
];

/// The kind an app without `kind` has.
pub fn default_kind() -> &'static dyn AppKind {
    KINDS[0]
}

/// The kind named `name` (the `kind` value), if there is one.
pub fn kind(name: &str) -> Option<&'static dyn AppKind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// Keys every `[[apps]]` entry may have, whatever its kind.
pub const COMMON_KEYS: &[&str] = &[
    "name",
    "kind",
    "replicas",
    "processes",
    "database",
    "user",
    "password_env",
    "env_file",
    "settings_file",
];

/// What a kind's derived defaults may depend on besides its own keys: the PgBouncer in front.
#[derive(Debug, Clone)]
pub struct KindCx<'a> {
    /// The pool mode the app meets, when it goes through PgBouncer.
    pub pool_mode: Option<&'a Setting<crate::manifest::PoolMode>>,
    /// PgBouncer's declared version and effective max_prepared_statements (`None` before 1.21).
    pub pgbouncer: Option<(
        Option<crate::catalog::pgbouncer::PgbVersion>,
        Option<&'a Setting<u32>>,
    )>,
}

impl KindCx<'_> {
    /// Whether PgBouncer tracks protocol-level named statements (1.21+ with max_prepared_statements > 0).
    pub fn tracks_statements(&self) -> bool {
        self.pgbouncer
            .is_some_and(|(_, mps)| mps.is_some_and(|m| m.value > 0))
    }

    /// Transaction or statement pooling.
    pub fn transaction_pooling(&self) -> bool {
        self.pool_mode
            .is_some_and(|m| m.value != crate::manifest::PoolMode::Session)
    }
}

/// How many connections one process of an app may hold, in the kind's own terms.
#[derive(Debug, Clone)]
pub struct PerProcess<'a> {
    /// `None` when the pool is unbounded.
    pub connections: Option<u64>,
    /// The arithmetic in the kind's terms, e.g. `5 + 10` or `10`.
    pub arithmetic: String,
    /// The formula, e.g. `pool_size + max_overflow` or `max_size`.
    pub formula: &'static str,
    /// The settings the number comes from, each with its name and shown value.
    pub inputs: Vec<(&'static str, String, &'a Origin)>,
    /// Why the pool is unbounded (the place and the text), when it is.
    pub unbounded: Option<(Option<&'a Loc>, String)>,
}

impl<'a> PerProcess<'a> {
    /// The input whose place a finding about this pool should point at: the first written one.
    pub fn primary(&self) -> Option<&'a Loc> {
        self.inputs.iter().find_map(|(_, _, o)| o.loc())
    }
}

/// How long an app keeps an idle connection, and whether it checks one before handing it out
/// (TMO001).
#[derive(Debug, Clone)]
pub struct IdleKeep<'a> {
    /// `None`: kept forever.
    pub keep: Option<Duration>,
    pub keep_loc: Option<&'a Loc>,
    /// What the app does, for the message: `recycles pooled connections only after
    /// pool_recycle -1 (never: SQLAlchemy's default) and does not pre-ping them (pre_ping = false)`.
    pub summary: String,
    /// Whether the app checks a connection at checkout (SQLAlchemy pre_ping, psycopg_pool check).
    pub checked: bool,
    /// The check setting as a related entry (`pre_ping = false`), and its place.
    pub check_related: String,
    pub check_loc: Option<&'a Loc>,
    /// The key that bounds the keep-time (manifest, .env), where one does.
    pub keep_key: Option<(&'static str, &'static str)>,
    /// The checkout-check key (manifest, .env), where the kind has one.
    pub check_key: Option<(&'static str, &'static str)>,
}

/// A driver that names its prepared statements (PRE010): what it needs from PgBouncer to keep
/// them, and what users see when it lacks it.
#[derive(Debug, Clone)]
pub struct NamedStatements<'a> {
    /// The rule that reports it: PRE007 for an ORM's own prepared statements (Rails), PRE010
    /// for a driver's statement cache.
    pub code: &'static str,
    /// The driver and the setting that makes it prepare, e.g. `asyncpg, statement_cache_size = 100`.
    pub setting: String,
    pub setting_loc: Option<&'a Loc>,
    /// The oldest PgBouncer that carries them (with max_prepared_statements > 0).
    pub min_pgbouncer: (u16, u16),
    /// The client libpq that must be ≥ 17 (psycopg frees statements by SQL before it), when the
    /// driver is libpq-based: `Some(None)` when not declared.
    pub libpq: Option<Option<&'a Setting<Val>>>,
    /// Why the framework's own version cannot keep them even then (Rails before 8.1 frees them
    /// with SQL `DEALLOCATE`, which PgBouncer forwards).
    pub frees_with_sql: Option<String>,
    /// The error users see, quoted.
    pub symptom: &'static str,
    /// The fix, in manifest terms and in .env terms.
    pub fix: String,
    pub fix_env: String,
}

/// A driver mode that runs one query over two round trips on the unnamed statement (pgx's
/// describe_exec, PRE010): behind transaction pooling PgBouncer may give the second round trip to
/// another server connection, and no PgBouncer version carries the unnamed statement across.
pub type SplitTrips<'a> = Hazard<'a>;

/// A client-side "PgBouncer mode" (Prisma 6's `pgbouncer=true`, PRE009): on, the client prepares
/// nothing by name and sends `DEALLOCATE ALL` at each transaction start; off, it names its
/// statements.
#[derive(Debug, Clone)]
pub struct PgbouncerFlag<'a> {
    pub on: bool,
    /// e.g. `Prisma 6, pgbouncer = false (derived: …)`.
    pub setting: String,
    pub loc: Option<&'a Loc>,
    /// The statement names it uses when off, e.g. `` `s0`, `s1`… ``.
    pub statements: &'static str,
    pub fix_on: String,
    pub fix_off: String,
}

/// Migrations that take session-level advisory locks (PRE008).
#[derive(Debug, Clone)]
pub struct SessionLocks<'a> {
    pub setting: String,
    pub loc: Option<&'a Loc>,
    pub symptom: &'static str,
    pub fix: String,
}

/// A setting that makes the app hold a server-side cursor across transactions (PRE006).
pub type HeldCursors<'a> = Hazard<'a>;

/// A setting of the app that transaction pooling breaks whatever PgBouncer's version: what it
/// is, where, the error users see, and the fix in manifest and in .env terms.
#[derive(Debug, Clone)]
pub struct Hazard<'a> {
    /// e.g. `DISABLE_SERVER_SIDE_CURSORS = false (Django's own default)`.
    pub setting: String,
    pub loc: Option<&'a Loc>,
    /// The error users see, quoted.
    pub symptom: &'static str,
    pub fix: String,
    pub fix_env: String,
}

/// A setting the app applies with a session-level `SET` after connecting (PRE011).
#[derive(Debug, Clone)]
pub struct SessionState<'a> {
    /// e.g. `assume_role = "reporting"`.
    pub setting: String,
    /// What the app runs, e.g. `SET ROLE reporting`.
    pub statement: String,
    pub loc: Option<&'a Loc>,
    pub fix: String,
}

/// A setting the driver sends as a startup parameter (NET004).
#[derive(Debug, Clone)]
pub struct StartupParam<'a> {
    /// The parameter's name in the startup packet (`statement_timeout`).
    pub name: String,
    /// The setting, e.g. `statement_timeout = 5000`.
    pub setting: String,
    pub loc: Option<&'a Loc>,
    /// The error users see, quoted.
    pub symptom: String,
    pub fix: String,
}

/// One line of a rendered `.env`.
#[derive(Debug, Clone)]
pub struct EnvLine {
    pub name: String,
    pub value: String,
    pub comments: Vec<String>,
}

/// A settings file the framework reads besides the environment (Django's `DATABASES`, Rails'
/// `config/database.yml`, Spring Boot's `application.properties`).
#[derive(Debug, Clone, Copy)]
pub struct SettingsFile {
    /// The file's name, as the framework names it (`database.yml`).
    pub name: &'static str,
    /// Where it goes when there are several apps, for `explain`: `"<name>/database.yml"`.
    pub several: &'static str,
    /// How the framework reads it, for its first comment line and `explain`.
    pub read_as: &'static str,
}

/// One application stack.
pub trait AppKind: Sync + std::fmt::Debug {
    /// The `kind` value in stack.toml.
    fn name(&self) -> &'static str;

    /// Connections one process may hold, as a formula of the kind's keys (the README's table).
    fn formula(&self) -> &'static str;

    /// The rules that read this kind's facts, for the README's table.
    fn rules(&self) -> &'static str;

    /// The framework's own keys (beyond [`COMMON_KEYS`]), as the framework names them.
    fn keys(&self) -> &'static [KeyDef];

    /// Settings derived from others after the keys are read (e.g. psycopg_pool's max_size
    /// defaulting to min_size).
    fn derive(&self, _settings: &mut FwSettings, _cx: &KindCx<'_>) {}

    /// Combinations the framework itself refuses: the key to point at, the message, the help.
    fn check(&self, _settings: &FwSettings) -> Result<(), (&'static str, String, String)> {
        Ok(())
    }

    /// Connections per process (CON001/CON003/CON006, MEM003 through the budget).
    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a>;

    /// The idle keep-time and checkout check (TMO001).
    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a>;

    /// Whether the app prepares named statements, and what that needs (PRE010). `None` when it
    /// does not (or, for SQLAlchemy, when PRE001 covers it).
    fn named_statements<'a>(&self, _app: &'a App) -> Option<NamedStatements<'a>> {
        None
    }

    /// Whether the app runs queries over two round trips on the unnamed statement (PRE010).
    fn split_round_trips<'a>(&self, _app: &'a App) -> Option<SplitTrips<'a>> {
        None
    }

    /// Whether the app holds server-side cursors across transactions (PRE006).
    fn held_cursors<'a>(&self, _app: &'a App) -> Option<HeldCursors<'a>> {
        None
    }

    /// A client-side PgBouncer mode flag, where the framework has one (PRE009).
    fn pgbouncer_flag<'a>(&self, _app: &'a App) -> Option<PgbouncerFlag<'a>> {
        None
    }

    /// Whether the app's migrations take session advisory locks (PRE008).
    fn session_locks<'a>(&self, _app: &'a App) -> Option<SessionLocks<'a>> {
        None
    }

    /// Settings the app applies with session-level `SET` (PRE011).
    fn session_state<'a>(&self, _app: &'a App) -> Vec<SessionState<'a>> {
        Vec::new()
    }

    /// Settings the driver sends as startup parameters (NET004).
    fn startup_params<'a>(&self, _app: &'a App) -> Vec<StartupParam<'a>> {
        Vec::new()
    }

    /// The variables of the app's `.env`, after `USE_PGBOUNCER` (which every kind writes).
    fn env(&self, app: &App) -> Vec<EnvLine>;

    /// Connections the app's migrations open straight to PostgreSQL behind transaction pooling
    /// (the kind renders a direct URL from `app.url.direct`); 0 when they do not go direct. The
    /// budget counts them: migrations run while the app serves.
    fn migration_connections(&self, _app: &App) -> u64 {
        0
    }

    /// The settings file the framework reads besides the environment, where it has one.
    fn settings_file(&self) -> Option<SettingsFile> {
        None
    }

    /// That file's body (after poolstack's header), in the framework's own language. Called only
    /// for kinds with a [`settings_file`](AppKind::settings_file).
    fn settings_body(&self, _app: &App) -> String {
        String::new()
    }
}

/// A setting's comment lines in a rendered file: where a default or derived value comes from.
pub fn origin_comments(o: &Origin) -> Vec<String> {
    match o {
        Origin::Default(why) => vec![format!("default: {why}")],
        Origin::Derived { formula, .. } => vec![format!("derived: {formula}")],
        _ => Vec::new(),
    }
}

/// Percent-encode a URL component (RFC 3986 unreserved characters stay).
pub fn url_part(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `postgresql://user:${PW}@host:port/db` — the password is a reference, never a value.
pub fn plain_url(app: &App) -> String {
    format!(
        "postgresql://{}:${{{}}}@{}:{}/{}",
        url_part(&app.user.value),
        app.password_env.value,
        app.url.host.value,
        app.url.port.value,
        url_part(&app.url.database.value),
    )
}

/// The URL that reaches PostgreSQL past PgBouncer, for migrations (`None` when the app does not
/// meet transaction or statement pooling): `postgresql://user:${PW}@db-host:port/dbname?query`.
pub fn direct_url(app: &App, query: &str) -> Option<String> {
    let (host, port, db) = app.url.direct.as_ref()?;
    Some(format!(
        "postgresql://{}:${{{}}}@{host}:{port}/{}{}{query}",
        url_part(&app.user.value),
        app.password_env.value,
        url_part(db),
        if query.is_empty() { "" } else { "?" },
    ))
}

/// `(s)` after a count unless it is 1.
pub fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Startup parameters PgBouncer may drop without changing what the app gets, and why (facts §6:
/// pgjdbc ≤ 42.7.4 sends extra_float_digits; poolstack supports PostgreSQL 13 and later). The
/// stack lists them in PgBouncer's ignore_startup_parameters for the apps that send them, and
/// NET004 has nothing to say about them being dropped.
const HARMLESS_TO_DROP: &[(&str, &str)] = &[(
    "extra_float_digits",
    "PostgreSQL 12 and later print floats exactly whatever extra_float_digits (above 0) is",
)];

/// Why PgBouncer may drop the startup parameter `name` harmlessly, when it may.
pub fn harmless_to_drop(name: &str) -> Option<&'static str> {
    HARMLESS_TO_DROP
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, why)| *why)
}

/// Startup parameters PgBouncer accepts from any client (it tracks them per client; facts §0).
const TRACKED: &[&str] = &[
    "client_encoding",
    "datestyle",
    "timezone",
    "standard_conforming_strings",
    "application_name",
];

/// DATABASE_URL query keys of a hand-written file that `driver` does not read itself and so
/// sends to the server as startup parameters (asyncpg's server_settings, pgx's RuntimeParams).
pub fn unknown_url_keys<'a>(app: &'a App, driver: &str, known: &[&str]) -> Vec<StartupParam<'a>> {
    app.url
        .query_keys
        .iter()
        .filter(|k| {
            let name = k.value.to_ascii_lowercase();
            !known.contains(&name.as_str()) && !TRACKED.contains(&name.as_str())
        })
        .map(|k| StartupParam {
            name: k.value.clone(),
            setting: format!("DATABASE_URL key `{}`, which {driver} does not read itself", k.value),
            loc: k.loc(),
            symptom: format!("`unsupported startup parameter: {}`", k.value),
            fix: format!(
                "remove `{}` from DATABASE_URL and pass it to {driver} in code (or set it on the role: `ALTER ROLE … SET …`)",
                k.value
            ),
        })
        .collect()
}

/// DATABASE_URL query keys of a hand-written file that a node-postgres-based driver sends as
/// startup parameters (`names`: the ones it passes on), each at its place.
pub fn url_startup_keys<'a>(app: &'a App, driver: &str, names: &[&str]) -> Vec<StartupParam<'a>> {
    app.url
        .query_keys
        .iter()
        .filter(|k| names.contains(&k.value.as_str()))
        .map(|k| StartupParam {
            name: k.value.clone(),
            setting: format!("DATABASE_URL key `{}`, which {driver} sends to the server", k.value),
            loc: k.loc(),
            symptom: format!("`error: unsupported startup parameter: {}`", k.value),
            fix: format!(
                "remove `{}` from DATABASE_URL and set it on the role or database instead (`ALTER ROLE … SET {} = …`)",
                k.value, k.value
            ),
        })
        .collect()
}

/// A kind's `.env` lines for its keys, in key order, each under the variable its [`KeyDef`] names.
pub fn env_lines(kind: &dyn AppKind, app: &App) -> Vec<EnvLine> {
    kind.keys()
        .iter()
        // Keys that live in DATABASE_URL are the kind's to write into it.
        .filter(|d| !d.env.is_empty() && d.env != "DATABASE_URL")
        .filter_map(|d| {
            let s = app.fw().get(d.name)?;
            Some(EnvLine {
                name: d.env.to_string(),
                value: s.value.env_text(),
                comments: origin_comments(&s.origin),
            })
        })
        .collect()
}

/// `replicas × processes × (pool_size + max_overflow)` for a message about `apps`: the kinds'
/// formula when they share one, else "the per-process pool".
pub fn formula_text<'a>(apps: impl IntoIterator<Item = &'a App>) -> String {
    let mut formulas: Vec<&'static str> = Vec::new();
    for a in apps {
        let f = a.kind().per_process(a).formula;
        if !formulas.contains(&f) {
            formulas.push(f);
        }
    }
    match formulas.as_slice() {
        [one] => format!("replicas × processes × ({one})"),
        _ => "replicas × processes × each app's per-process pool".to_string(),
    }
}

/// Connections one whole app deployment may hold (replicas × processes × per process); `None`
/// when unbounded.
pub fn max_connections(app: &App) -> Option<u64> {
    let per = app.kind().per_process(app).connections?;
    Some(per * u64::from(app.replicas.value) * u64::from(app.processes.value))
}

/// Stacks are also read from hand-written files, where every app is of the default kind unless
/// the file says otherwise.
pub fn is_default(kind: &dyn AppKind) -> bool {
    kind.name() == default_kind().name()
}

/// The kinds, for a message: `"sqlalchemy", "asyncpg", …`.
pub fn names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name()).collect()
}

/// The kinds that have `key`, for a message.
pub fn kinds_with_key(key: &str) -> Vec<&'static str> {
    KINDS
        .iter()
        .filter(|k| k.keys().iter().any(|d| d.name == key))
        .map(|k| k.name())
        .collect()
}

/// The README's table of kinds and of each kind's keys (a test keeps the README equal to it).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| kind | connections per process | rules that read it | settings file besides the .env |\n|---|---|---|---|\n",
    );
    for k in KINDS {
        let file = k.settings_file().map_or_else(
            || "—".to_string(),
            |f| format!("`{}`: {}", f.name, f.read_as),
        );
        out.push_str(&format!(
            "| `{}` | {} | {} | {file} |\n",
            k.name(),
            k.formula(),
            k.rules()
        ));
    }
    for k in KINDS.iter().filter(|k| !is_default(**k)) {
        out.push_str(&format!(
            "\n`kind = \"{}\"`:\n\n| key | default | .env variable | meaning |\n|---|---|---|---|\n",
            k.name()
        ));
        for d in k.keys() {
            let default = match &d.default {
                Dflt::Own(v, _) => format!("{v}"),
                Dflt::Safe { own, safe, .. } => {
                    format!("**{safe}** behind transaction/statement pooling, else {own}")
                }
                Dflt::Derived => "—".to_string(),
            };
            let env = if d.env.is_empty() {
                "—".to_string()
            } else {
                format!("`{}`", d.env)
            };
            out.push_str(&format!(
                "| `{}` | {default} | {env} | {} |\n",
                d.name, d.doc
            ));
        }
    }
    out
}

#[cfg(test)]
mod files_tests;
#[cfg(test)]
mod tests;
