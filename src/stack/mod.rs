//! The resolved stack: every effective setting with its provenance. Rules and renderers read only
//! this model; it is built from a manifest ([`resolve`]) and, later, from hand-written files.

pub mod budget;
pub mod deploy;
pub mod derive;
pub mod files;
pub mod handwritten;
pub mod kind;
pub mod monitoring;
pub mod resolve;
pub mod settings;

use crate::auth::SecretKind;
use crate::catalog::pgbouncer::PgbVersion;
use crate::diag::Diagnostic;
use crate::manifest::{
    AuthType, DataSize, FailOn, Os, PasswordEncryption, PasswordSource, PoolMode, Storage, Workload,
};
use crate::source::{Loc, SourceMap};
use crate::units::{Bytes, Duration};
pub use kind::{KindSettings, SqlAlchemyApp};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where an effective value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Written in the manifest at this place.
    Manifest(Loc),
    /// poolstack's (or the target's) default; the text says which.
    Default(&'static str),
    /// Computed from other settings: the formula with its numbers, and the places of its inputs.
    Derived { formula: String, inputs: Vec<Loc> },
    /// Read from a hand-written file at this place.
    Imported(Loc),
}

impl Origin {
    /// The place a finding about this value should point at: the manifest or file line, or for a
    /// derived value the first input it was derived from.
    pub fn loc(&self) -> Option<&Loc> {
        match self {
            Origin::Manifest(l) | Origin::Imported(l) => Some(l),
            Origin::Derived { inputs, .. } => inputs.first(),
            Origin::Default(_) => None,
        }
    }

    pub fn is_explicit(&self) -> bool {
        matches!(self, Origin::Manifest(_) | Origin::Imported(_))
    }

    /// For a message: where a value that was not written anywhere comes from, in parentheses
    /// (` (PgBouncer's default)`, ` (derived: …)`); empty for written values, whose place a
    /// diagnostic shows instead.
    pub fn note(&self) -> String {
        match self {
            Origin::Default(why) => format!(" ({why})"),
            Origin::Derived { formula, .. } => format!(" (derived: {formula})"),
            Origin::Manifest(_) | Origin::Imported(_) => String::new(),
        }
    }

    /// Where the value comes from, for a diagnostic's message: `stack.toml:12`, the default's
    /// reason, or the derivation's formula.
    pub fn describe(&self, sources: &SourceMap) -> String {
        let place = |l: &Loc| {
            let file = sources.get(l.file);
            format!("{}:{}", file.display, file.line_col(l.span.start).line)
        };
        match self {
            Origin::Manifest(l) | Origin::Imported(l) => place(l),
            Origin::Default(why) => (*why).to_string(),
            Origin::Derived { formula, .. } => formula.clone(),
        }
    }
}

/// An effective value and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    pub fn new(value: T, origin: Origin) -> Setting<T> {
        Setting { value, origin }
    }

    pub fn loc(&self) -> Option<&Loc> {
        self.origin.loc()
    }
}

impl<T: Copy> Setting<T> {
    pub fn get(&self) -> T {
        self.value
    }
}

/// A PostgreSQL parameter's effective value, already checked against the version's catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct PgParam {
    /// Canonical name (`DateStyle`), or the name as written for `prefix.name` extension parameters.
    pub name: String,
    /// The value as it is written in postgresql.conf (quoted where PostgreSQL needs it).
    pub conf_text: String,
    /// Numeric value in the parameter's base unit, where it has one.
    pub base: Option<f64>,
    /// Bytes per base unit for memory parameters, microseconds per base unit for time parameters.
    pub unit: crate::catalog::postgres::PgUnit,
    pub origin: Origin,
    /// Whether the renderer writes it (explicit and derived values; not the server's own defaults).
    pub rendered: bool,
}

impl PgParam {
    pub fn bytes(&self) -> Option<Bytes> {
        let per = self.unit.bytes_per_unit()?;
        self.base.map(|b| Bytes((b.max(0.0) * per as f64) as u64))
    }

    pub fn duration(&self) -> Option<Duration> {
        let per = self.unit.micros_per_unit()?;
        self.base
            .map(|b| Duration((b.max(0.0) * per as f64) as u64))
    }
}

#[derive(Debug, Clone)]
pub struct Postgres {
    /// The major version the settings were checked against; `None` when hand-written files
    /// declared none (nothing is assumed then: version-dependent rules stay silent or speak
    /// conditionally).
    pub version: Option<Setting<u32>>,
    /// False when the stack came from hand-written files without any PostgreSQL configuration:
    /// every value below is then only the server's default, and rules that compare against
    /// PostgreSQL stay silent rather than guess.
    pub described: bool,
    pub host: Setting<String>,
    pub port: Setting<u16>,
    pub memory: Option<Setting<Bytes>>,
    pub cpus: Option<Setting<u32>>,
    pub storage: Option<Setting<Storage>>,
    pub workload: Option<Setting<Workload>>,
    pub data_size: Option<Setting<DataSize>>,
    pub os: Option<Setting<Os>>,
    pub max_connections: Setting<u32>,
    pub superuser_reserved_connections: Setting<u32>,
    /// PostgreSQL 16+ `reserved_connections` (0 before 16 and by default).
    pub reserved_connections: Setting<u32>,
    pub password_encryption: Setting<PasswordEncryption>,
    pub hba_method: Option<Setting<String>>,
    /// Every effective parameter poolstack knows a value for, first-class keys included, in manifest order.
    pub params: Vec<PgParam>,
}

impl Postgres {
    /// A parameter by name, case-insensitively (PostgreSQL names are).
    pub fn param(&self, name: &str) -> Option<&PgParam> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A parameter's effective value: the one set (see [`Postgres::param`]), else the declared
    /// version's built-in default from the catalog, with an [`Origin::Default`] saying so. `None`
    /// when the version has no such parameter.
    pub fn param_or_default(&self, name: &str) -> Option<PgParam> {
        if let Some(p) = self.param(name) {
            return Some(p.clone());
        }
        let catalog = crate::catalog::postgres::PgCatalog::for_major(self.major()?)?;
        let param = catalog.get(name)?;
        let text = param.default?;
        let parsed = crate::catalog::postgres::parse_value(param, text).ok()?;
        Some(PgParam {
            name: param.name.to_string(),
            conf_text: text.to_string(),
            base: parsed.base,
            unit: param.unit,
            origin: Origin::Default("not set: the server's built-in default"),
            rendered: false,
        })
    }

    /// The declared major version, if any.
    pub fn major(&self) -> Option<u32> {
        self.version.as_ref().map(|v| v.value)
    }

    /// Connections an ordinary role may open: max_connections − superuser_reserved − reserved.
    pub fn client_capacity(&self) -> i64 {
        i64::from(self.max_connections.value)
            - i64::from(self.superuser_reserved_connections.value)
            - i64::from(self.reserved_connections.value)
    }
}

/// A `[pgbouncer]` option other than the first-class ones, or a connection-string / [users] key.
#[derive(Debug, Clone, PartialEq)]
pub struct PgbOption {
    pub name: String,
    /// The value exactly as written into pgbouncer.ini (base unit, no suffix, 0/1 booleans).
    pub ini_text: String,
    /// Numeric value in the option's own unit, where it is numeric.
    pub number: Option<f64>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct Pgbouncer {
    /// The release the options were checked against; `None` when hand-written files declared
    /// none (see [`Postgres::version`]).
    pub version: Option<Setting<PgbVersion>>,
    pub host: Setting<String>,
    pub listen_addr: Setting<String>,
    pub listen_port: Setting<u16>,
    pub client_port: Setting<u16>,
    pub instances: Setting<u32>,
    pub pool_mode: Setting<PoolMode>,
    pub auth_type: Setting<AuthType>,
    pub auth_file: Setting<String>,
    pub logfile: Option<Setting<String>>,
    pub pidfile: Option<Setting<String>>,
    pub unix_socket_dir: Option<Setting<String>>,
    pub max_client_conn: Setting<u32>,
    pub default_pool_size: Setting<u32>,
    pub min_pool_size: Setting<u32>,
    pub reserve_pool_size: Setting<u32>,
    pub max_db_connections: Setting<u32>,
    pub max_user_connections: Setting<u32>,
    /// Effective max_prepared_statements; `None` when the version has no such option (< 1.21).
    pub max_prepared_statements: Option<Setting<u32>>,
    pub nofile_limit: Option<Setting<u64>>,
    pub admin_users: Vec<Setting<String>>,
    pub stats_users: Vec<Setting<String>>,
    /// Other `[pgbouncer]` options (from `[pgbouncer.settings]`, and derived ones such as so_reuseport).
    pub options: Vec<PgbOption>,
}

impl Pgbouncer {
    /// The declared release, if any.
    pub fn release(&self) -> Option<PgbVersion> {
        self.version.as_ref().map(|v| v.value)
    }

    pub fn option(&self, name: &str) -> Option<&PgbOption> {
        self.options.iter().find(|o| o.name == name)
    }

    /// A `[pgbouncer]` option's effective value: the one set (see [`Pgbouncer::option`]), else
    /// the declared version's default from the catalog, with an [`Origin::Default`] saying so.
    /// `None` when the version has no such option or no default for it.
    pub fn option_or_default(&self, name: &str) -> Option<PgbOption> {
        use crate::catalog::pgbouncer as cat;
        if let Some(o) = self.option(name) {
            return Some(o.clone());
        }
        let opt = cat::get(cat::Section::Pgbouncer, name)?;
        // Without a declared release, a default counts only where every release agrees.
        let text = match self.release() {
            Some(version) => opt.default_for(version)?,
            None => opt.default_in_every_release()?,
        };
        let parsed = cat::parse_value_in(opt, text, self.release()).ok()?;
        Some(PgbOption {
            name: opt.name.to_string(),
            ini_text: text.to_string(),
            number: parsed.number,
            origin: Origin::Default("not set: PgBouncer's default"),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Database {
    pub name: Setting<String>,
    pub dbname: Setting<String>,
    pub host: Setting<String>,
    pub port: Setting<u16>,
    /// Who connects to it (explicit, or derived from the apps that use it). Shared, not copied,
    /// when many entries have the same users: hand-written files give every `[databases]` entry
    /// the whole userlist, and 5,000 entries × 10,000 users must not become 50 million strings.
    pub users: std::sync::Arc<[Setting<String>]>,
    /// Forced server user (`user=`).
    pub forced_user: Option<Setting<String>>,
    pub pool_size: Setting<u32>,
    pub reserve_pool_size: Setting<u32>,
    pub max_db_connections: Setting<u32>,
    pub pool_mode: Setting<PoolMode>,
    /// Other connection-string keys.
    pub options: Vec<PgbOption>,
    /// `create = true`: roles.sql creates `dbname` when missing, owned by this [[users]] name.
    pub create_owner: Option<Setting<String>>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: Setting<String>,
    pub password: Option<Setting<PasswordSource>>,
    pub role: Setting<bool>,
    pub admin: Setting<bool>,
    pub stats: Setting<bool>,
    pub pool_mode: Option<Setting<PoolMode>>,
    pub max_user_connections: Option<Setting<u32>>,
    /// Other `[users]` keys.
    pub options: Vec<PgbOption>,
    /// The secret type written to userlist.txt for this user.
    pub userlist_secret: Setting<SecretKind>,
    /// How PostgreSQL stores this role's password (roles.sql for role = true, else
    /// password_encryption); `None` when unknown (hand-written files).
    pub stored_secret: Option<Setting<SecretKind>>,
    /// `verifier = { userlist = "…" }`: the userlist file (absolute path) whose entry for this
    /// user is the verifier PostgreSQL stores. Its provenance is what makes a SCRAM salt known
    /// (AUT010); render keeps the entry byte for byte.
    pub verifier: Option<Setting<PathBuf>>,
}

#[derive(Debug, Clone)]
pub struct App {
    pub name: Setting<String>,
    /// The application stack (`crate::apps`) with the settings only it has: what the app's
    /// settings mean, its budget formula, what it renders. The origin is the `kind` key's.
    pub kind: Setting<KindSettings>,
    pub replicas: Setting<u32>,
    pub processes: Setting<u32>,
    pub database: Setting<String>,
    pub user: Setting<String>,
    pub password_env: Setting<String>,
    pub env_file: Setting<PathBuf>,
    /// The framework's own settings file (Rails' database.yml, …), for kinds that have one.
    pub settings_file: Option<Setting<PathBuf>>,
    /// Where DATABASE_URL points.
    pub url: AppUrl,
}

impl App {
    /// Connections one app deployment may hold at most (replicas × processes × the kind's
    /// per-process formula); `None` when unbounded.
    pub fn max_connections(&self) -> Option<u64> {
        crate::apps::max_connections(self)
    }

    /// The app's kind.
    pub fn kind(&self) -> &'static dyn crate::apps::AppKind {
        self.kind.value.kind()
    }

    /// The SQLAlchemy settings, when the app is of kind sqlalchemy.
    pub fn sqlalchemy(&self) -> Option<&SqlAlchemyApp> {
        self.kind.value.sqlalchemy()
    }

    /// The framework keys of a kind other than SQLAlchemy (none for a SQLAlchemy app).
    pub fn fw(&self) -> &crate::apps::FwSettings {
        self.kind.value.fw()
    }
}

/// DATABASE_URL's target.
#[derive(Debug, Clone)]
pub struct AppUrl {
    pub host: Setting<String>,
    pub port: Setting<u16>,
    pub database: Setting<String>,
    pub via_pgbouncer: bool,
    /// `options=` startup parameter in the URL, where one is given (hand-written .env files).
    pub options: Option<Setting<String>>,
    /// A hand-written .env whose URL holds a password value rather than a `${VAR}` reference.
    pub password_in_file: bool,
    /// PostgreSQL itself (host, port, dbname) when the URL goes through PgBouncer's transaction
    /// or statement pooling: for migrations, which need a session (Prisma's directUrl, Rails'
    /// advisory lock, Django's session state).
    pub direct: Option<(String, u16, String)>,
    /// The query keys of a hand-written DATABASE_URL, each at its place (empty for a manifest,
    /// whose kinds render only keys their driver reads).
    pub query_keys: Vec<Setting<String>>,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub name: Setting<String>,
    pub connections: Setting<u32>,
}

#[derive(Debug, Clone)]
pub struct LintConfig {
    pub ignore: Vec<Setting<String>>,
    /// `poolstack: ignore CODE reason` comments in hand-written files, each for one line.
    pub comments: Vec<crate::formats::directives::LineSuppression>,
    pub fail_on: Setting<FailOn>,
    pub severity: BTreeMap<String, Setting<crate::diag::Severity>>,
}

/// Where rendered files go (absolute or relative to the working directory).
#[derive(Debug, Clone)]
pub struct Outputs {
    pub base: PathBuf,
    pub pgbouncer_ini: Setting<PathBuf>,
    pub userlist: Setting<PathBuf>,
    pub postgresql_conf: Setting<PathBuf>,
    pub roles_sql: Setting<PathBuf>,
    pub templates: Option<Setting<PathBuf>>,
}

/// Databases that share their users (see [`Stack::pool_groups`]).
#[derive(Debug, Clone)]
pub struct PoolGroup<'a> {
    pub users: PoolUsers<'a>,
    pub databases: Vec<&'a Database>,
}

#[derive(Debug, Clone, Copy)]
pub enum PoolUsers<'a> {
    /// `user=` in the entry: one pool, whoever connects.
    Forced(&'a str),
    /// One pool per user.
    Listed(&'a [Setting<String>]),
}

impl<'a> PoolUsers<'a> {
    pub fn names(self) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match self {
            PoolUsers::Forced(u) => Box::new(std::iter::once(u)),
            PoolUsers::Listed(list) => Box::new(list.iter().map(|u| u.value.as_str())),
        }
    }

    pub fn len(self) -> usize {
        match self {
            PoolUsers::Forced(_) => 1,
            PoolUsers::Listed(list) => list.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A (database, user) pair PgBouncer may open a pool for.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    pub database: &'a Database,
    pub user: &'a str,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub sources: SourceMap,
    /// The manifest this stack came from, if any.
    pub manifest_path: Option<PathBuf>,
    pub name: Setting<String>,
    pub outputs: Outputs,
    pub postgres: Postgres,
    pub pgbouncer: Option<Pgbouncer>,
    pub databases: Vec<Database>,
    pub users: Vec<User>,
    pub apps: Vec<App>,
    pub clients: Vec<Client>,
    pub lint: LintConfig,
    /// Findings made while resolving (catalog checks of `*.settings`), reported with the rules'.
    pub findings: Vec<Diagnostic>,
    /// A hand-written userlist.txt as PgBouncer reads it; `None` when the userlist is rendered.
    pub userlist_file: Option<handwritten::HandUserlist>,
    /// What the input describes at all: rules that need the rest stay silent rather than guess.
    pub coverage: Coverage,
    /// `[monitoring]`; `None` when absent (and for hand-written files).
    pub monitoring: Option<monitoring::Monitoring>,
    /// `[deploy]`: the deploy targets render writes; `None` without the table.
    pub deploy: Option<deploy::Deploy>,
}

/// Parts of a stack its input may leave out (hand-written files); a manifest covers all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Which host names and ports reach PostgreSQL and PgBouncer (NET001, NET002). Hand-written
    /// files name hosts as each container or machine sees them, so they cannot be compared.
    pub hosts: bool,
    /// Every user that may log in (from the manifest or a userlist.txt); without it, NET003
    /// cannot tell an unknown user.
    pub users: bool,
    /// The PostgreSQL roles apps may log in as directly (a manifest's `[[users]]`); hand-written
    /// files do not list them.
    pub roles: bool,
}

impl Coverage {
    pub const FULL: Coverage = Coverage {
        hosts: true,
        users: true,
        roles: true,
    };
}

impl Stack {
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name.value == name)
    }

    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name.value == name)
    }

    /// May PgBouncer log in to PostgreSQL as `user`? Any userlist user may connect to any
    /// database entry, so yes — except for a console user (admin_users/stats_users) that no
    /// database lists and no app uses: it logs in to PgBouncer's console alone, where only
    /// PgBouncer's own userlist counts.
    pub fn logs_in_to_postgres(&self, user: &str) -> bool {
        let listed = self.databases.iter().any(|db| {
            db.name.value == "*"
                || db.users.iter().any(|u| u.value == user)
                || db.forced_user.as_ref().is_some_and(|f| f.value == user)
        }) || self.apps.iter().any(|a| a.user.value == user);
        listed
            || !self
                .user(user)
                .is_some_and(|u| u.admin.value || u.stats.value)
    }

    /// The pools PgBouncer may open: per database its forced user, else each of its users.
    pub fn pools(&self) -> impl Iterator<Item = Pool<'_>> {
        self.databases.iter().flat_map(|db| {
            let forced = db.forced_user.as_ref().map(|u| u.value.as_str());
            let listed = db
                .users
                .iter()
                .filter(move |_| forced.is_none())
                .map(|u| u.value.as_str());
            forced
                .into_iter()
                .chain(listed)
                .map(move |user| Pool { database: db, user })
        })
    }

    /// The databases grouped by the users they are used by: each forced user alone, and each
    /// distinct (shared) user list once. Per-user work over the groups costs users + databases,
    /// not users × databases.
    pub fn pool_groups(&self) -> Vec<PoolGroup<'_>> {
        let mut groups: Vec<PoolGroup<'_>> = Vec::new();
        let mut by_list: std::collections::HashMap<*const Setting<String>, usize> =
            std::collections::HashMap::new();
        for db in &self.databases {
            if let Some(u) = &db.forced_user {
                groups.push(PoolGroup {
                    users: PoolUsers::Forced(u.value.as_str()),
                    databases: vec![db],
                });
                continue;
            }
            if db.users.is_empty() {
                continue;
            }
            let key = db.users.as_ptr();
            match by_list.get(&key) {
                Some(&i) => groups[i].databases.push(db),
                None => {
                    by_list.insert(key, groups.len());
                    groups.push(PoolGroup {
                        users: PoolUsers::Listed(&db.users),
                        databases: vec![db],
                    });
                }
            }
        }
        groups
    }

    /// Every user some pool is for, once each, in first-seen order.
    pub fn pool_users(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for group in self.pool_groups() {
            for user in group.users.names() {
                if seen.insert(user) {
                    out.push(user);
                }
            }
        }
        out
    }

    /// `[[users]]` by name, for lookups in loops (the first of a repeated name, as [`Stack::user`]).
    pub fn user_index(&self) -> std::collections::HashMap<&str, &User> {
        let mut index = std::collections::HashMap::new();
        for u in &self.users {
            index.entry(u.name.value.as_str()).or_insert(u);
        }
        index
    }

    /// The pool mode PgBouncer uses for `user` connecting to `database`: the user's `[users]`
    /// pool_mode, else the database's, else the global one (PgBouncer's own precedence).
    /// `None` without PgBouncer.
    pub fn pool_mode_for(&self, database: &str, user: &str) -> Option<&Setting<PoolMode>> {
        let pgb = self.pgbouncer.as_ref()?;
        let by_user = self.user(user).and_then(|u| u.pool_mode.as_ref());
        let by_db = self.database(database).map(|d| &d.pool_mode);
        Some(by_user.or(by_db).unwrap_or(&pgb.pool_mode))
    }

    /// Connections the apps' migrations open straight to PostgreSQL (one migration per app at
    /// a time).
    pub fn migration_connections(&self) -> u64 {
        self.apps
            .iter()
            .filter(|a| a.url.direct.is_some())
            .map(|a| a.kind().migration_connections(a))
            .sum()
    }

    pub fn client_connections(&self) -> u64 {
        self.clients
            .iter()
            .map(|c| u64::from(c.connections.value))
            .sum()
    }
}
