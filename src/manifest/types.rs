//! The serde types of `stack.toml`, exactly as product.md specifies them.
//!
//! Every field a user may leave out is an `Option`, so that resolution can tell "written in the
//! manifest" from "defaulted" and give each effective setting its provenance. Unknown keys are
//! refused (`deny_unknown_fields`); spans come from [`super::spans::SpanIndex`].

use crate::units::{Bytes, Duration};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;

/// A free-form settings table (`[postgres.settings]`, `[pgbouncer.settings]`, per-entry `settings`).
pub type SettingsTable = toml::Table;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "poolstack stack manifest (stack.toml)")]
pub struct Manifest {
    pub stack: StackTable,
    #[serde(default)]
    pub outputs: OutputsTable,
    pub postgres: PostgresTable,
    pub pgbouncer: Option<PgbouncerTable>,
    #[serde(default)]
    pub databases: Vec<DatabaseEntry>,
    #[serde(default)]
    pub users: Vec<UserEntry>,
    #[serde(default)]
    pub apps: Vec<AppEntry>,
    #[serde(default)]
    pub clients: Vec<ClientEntry>,
    #[serde(default)]
    pub lint: LintTable,
    /// Prometheus alerting rules, their promtool tests, the exporter's config and a Grafana
    /// dashboard under `monitoring/`; absent = nothing rendered.
    pub monitoring: Option<MonitoringTable>,
    /// Where the stack runs: compose, Kubernetes, CloudNativePG (`deploy/`).
    pub deploy: Option<super::deploy::DeployTable>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackTable {
    /// Used in generated headers.
    pub name: String,
}

/// Where `render` writes, relative to the manifest (or to `--out`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputsTable {
    pub pgbouncer_ini: Option<String>,
    pub userlist: Option<String>,
    pub postgresql_conf: Option<String>,
    pub roles_sql: Option<String>,
    /// A folder of template overrides, used by `render` and `render --check` alike.
    pub templates: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    Ssd,
    Hdd,
    San,
    Nvme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Web,
    Oltp,
    Dw,
    Desktop,
    Mixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum DataSize {
    #[serde(rename = "less-than-ram")]
    LessThanRam,
    #[serde(rename = "1-3x-ram")]
    OneToThreeTimesRam,
    #[serde(rename = "more-than-3x-ram")]
    MoreThanThreeTimesRam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Windows,
    Mac,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
pub enum PasswordEncryption {
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresTable {
    /// Major version 13..18; drives the settings catalog.
    pub version: u32,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// RAM available to PostgreSQL, e.g. "28GB".
    pub memory: Option<Size>,
    pub cpus: Option<u32>,
    pub storage: Option<Storage>,
    pub workload: Option<Workload>,
    pub data_size: Option<DataSize>,
    pub os: Option<Os>,
    pub max_connections: Option<u32>,
    pub superuser_reserved_connections: Option<u32>,
    pub password_encryption: Option<PasswordEncryption>,
    /// The pg_hba method PgBouncer's server logins meet, e.g. "scram-sha-256".
    pub hba_method: Option<String>,
    /// Any other parameter of `version`; a bare integer is in the parameter's own base unit.
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub settings: Option<SettingsTable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    /// A pool mode as PgBouncer reads one (case-insensitively: `TRANSACTION` is accepted).
    pub fn from_pgbouncer(text: &str) -> Option<PoolMode> {
        match text.to_ascii_lowercase().as_str() {
            "session" => Some(PoolMode::Session),
            "transaction" => Some(PoolMode::Transaction),
            "statement" => Some(PoolMode::Statement),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
pub enum AuthType {
    #[serde(rename = "any")]
    Any,
    #[serde(rename = "trust")]
    Trust,
    #[serde(rename = "plain")]
    Plain,
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "cert")]
    Cert,
    #[serde(rename = "hba")]
    Hba,
    #[serde(rename = "ldap")]
    Ldap,
    #[serde(rename = "pam")]
    Pam,
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
}

impl AuthType {
    /// An auth_type as PgBouncer reads one (case-insensitively).
    pub fn from_pgbouncer(text: &str) -> Option<AuthType> {
        Some(match text.to_ascii_lowercase().as_str() {
            "any" => AuthType::Any,
            "trust" => AuthType::Trust,
            "plain" => AuthType::Plain,
            "md5" => AuthType::Md5,
            "cert" => AuthType::Cert,
            "hba" => AuthType::Hba,
            "ldap" => AuthType::Ldap,
            "pam" => AuthType::Pam,
            "scram-sha-256" => AuthType::ScramSha256,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Any => "any",
            AuthType::Trust => "trust",
            AuthType::Plain => "plain",
            AuthType::Md5 => "md5",
            AuthType::Cert => "cert",
            AuthType::Hba => "hba",
            AuthType::Ldap => "ldap",
            AuthType::Pam => "pam",
            AuthType::ScramSha256 => "scram-sha-256",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum UserlistHash {
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    #[serde(rename = "plain")]
    Plain,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PgbouncerTable {
    pub enabled: Option<bool>,
    /// "1.15" .. "1.25"; drives the option catalog.
    pub version: Option<String>,
    pub host: Option<String>,
    pub listen_addr: Option<String>,
    pub listen_port: Option<u16>,
    pub client_port: Option<u16>,
    pub instances: Option<u32>,
    pub pool_mode: Option<PoolMode>,
    pub auth_type: Option<AuthType>,
    pub auth_file: Option<String>,
    pub userlist_hash: Option<UserlistHash>,
    pub logfile: Option<String>,
    pub pidfile: Option<String>,
    pub unix_socket_dir: Option<String>,
    pub max_client_conn: Option<u32>,
    pub default_pool_size: Option<u32>,
    pub min_pool_size: Option<u32>,
    pub reserve_pool_size: Option<u32>,
    pub max_db_connections: Option<u32>,
    pub max_user_connections: Option<u32>,
    pub max_prepared_statements: Option<u32>,
    pub nofile_limit: Option<u64>,
    /// Any other [pgbouncer] option of `version`.
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub settings: Option<SettingsTable>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseEntry {
    /// The name clients use.
    pub name: String,
    pub dbname: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub users: Option<Vec<String>>,
    /// Forced server user (PgBouncer `user=`).
    pub user: Option<String>,
    pub pool_size: Option<u32>,
    pub reserve_pool_size: Option<u32>,
    pub max_db_connections: Option<u32>,
    pub pool_mode: Option<PoolMode>,
    /// true: roles.sql creates the database (`dbname`) when it is missing (default false).
    pub create: Option<bool>,
    /// The owner of a created database: a [[users]] name (default: the forced `user`, else the
    /// first of `users`).
    pub owner: Option<String>,
    /// Any other connection-string key of the PgBouncer version.
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub settings: Option<SettingsTable>,
}

/// Where a password comes from. A plain string is accepted so that AUT001 can point at it.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum PasswordSource {
    /// A plaintext value written in the manifest (AUT001: never do this).
    Literal(#[schemars(with = "String")] SecretString),
    Env {
        env: String,
    },
    File {
        file: String,
    },
    Prompt {
        prompt: bool,
    },
}

/// A string that never shows itself in Debug output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(pub String);

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl<'de> Deserialize<'de> for PasswordSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            env: Option<String>,
            file: Option<String>,
            prompt: Option<bool>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Literal(String),
            Table(Table),
        }
        use serde::de::Error;
        let raw = Raw::deserialize(d).map_err(|_| {
            D::Error::custom(
                "a password is { env = \"VAR\" }, { file = \"path\" } or { prompt = true }",
            )
        })?;
        match raw {
            Raw::Literal(s) => Ok(PasswordSource::Literal(SecretString(s))),
            Raw::Table(t) => match (t.env, t.file, t.prompt) {
                (Some(env), None, None) => Ok(PasswordSource::Env { env }),
                (None, Some(file), None) => Ok(PasswordSource::File { file }),
                (None, None, Some(true)) => Ok(PasswordSource::Prompt { prompt: true }),
                (None, None, Some(false)) => Err(D::Error::custom(
                    "`prompt = false` gives no password: use { env = \"VAR\" } or { file = \"path\" }",
                )),
                _ => Err(D::Error::custom(
                    "give exactly one of env, file or prompt: { env = \"VAR\" }, { file = \"path\" } or { prompt = true }",
                )),
            },
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserEntry {
    pub name: String,
    pub password: Option<PasswordSource>,
    /// true (default): roles.sql creates/updates the role; false: managed elsewhere.
    pub role: Option<bool>,
    pub admin: Option<bool>,
    pub stats: Option<bool>,
    pub pool_mode: Option<PoolMode>,
    pub max_user_connections: Option<u32>,
    /// Where the verifier PostgreSQL stores for this role is known from (provenance): render
    /// keeps that entry byte for byte in userlist.txt and roles.sql.
    pub verifier: Option<VerifierSource>,
    /// Any other [users] key of the PgBouncer version.
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub settings: Option<SettingsTable>,
}

/// `verifier = { userlist = "path" }`: a userlist file (PgBouncer's auth_file format) whose entry
/// for this user is the verifier PostgreSQL stores — copied from the server by
/// `poolstack userlist --from-postgres`, or the hand-written userlist `import` read. The path is
/// relative to the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifierSource {
    pub userlist: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    Psycopg,
    Psycopg2,
    Asyncpg,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Driver::Psycopg => "psycopg",
            Driver::Psycopg2 => "psycopg2",
            Driver::Asyncpg => "asyncpg",
        }
    }
}

/// psycopg's prepare_threshold: "none" disables prepared statements; N prepares after N runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum PrepareThreshold {
    #[schemars(with = "NoneLiteral")]
    Disabled,
    After(u32),
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum NoneLiteral {
    #[serde(rename = "none")]
    None,
}

impl<'de> Deserialize<'de> for PrepareThreshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        use serde::de::Error;
        let msg = "prepare_threshold is \"none\" (disables prepared statements) or a non-negative integer";
        match Raw::deserialize(d).map_err(|_| D::Error::custom(msg))? {
            Raw::Str(s) if s == "none" => Ok(PrepareThreshold::Disabled),
            Raw::Int(n) => u32::try_from(n)
                .map(PrepareThreshold::After)
                .map_err(|_| D::Error::custom(msg)),
            Raw::Str(_) => Err(D::Error::custom(msg)),
        }
    }
}

// One `[[apps]]` entry. Its own keys depend on its `kind` (see `crate::apps`): the SQLAlchemy
// ones are typed here; the other kinds' are in `other`, checked and typed by the kind, which
// also refuses keys that are not its own (so unknown keys are an error here too).
/// One application: its kind, where it connects, and its pool as the framework names it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct AppEntry {
    pub name: String,
    /// The application stack: "sqlalchemy" (the default), "asyncpg", "psycopg-pool", ….
    pub kind: Option<String>,
    pub replicas: Option<u32>,
    pub processes: Option<u32>,
    pub driver: Option<Driver>,
    /// Client libpq major version, where known.
    pub libpq: Option<u32>,
    pub database: String,
    pub user: String,
    pub password_env: Option<String>,
    pub pool_size: Option<u32>,
    /// -1 means no overflow limit.
    pub max_overflow: Option<i32>,
    pub pool_timeout: Option<Dur>,
    /// -1 (SQLAlchemy's default) disables recycling.
    pub pool_recycle: Option<Recycle>,
    pub pre_ping: Option<bool>,
    pub prepare_threshold: Option<PrepareThreshold>,
    pub statement_cache_size: Option<u32>,
    pub connect_timeout: Option<Dur>,
    pub env_file: Option<String>,
    /// Where the framework's own settings file is written (Rails' database.yml, Django's
    /// DATABASES, Spring Boot's application.properties), for the kinds that read one.
    pub settings_file: Option<String>,
    /// The `pool_name` label this app's pool metrics carry (default: the app's name).
    pub metrics_pool_name: Option<String>,
    /// The keys of the app's kind other than SQLAlchemy's (see `crate::apps`).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    pub name: String,
    pub connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintTable {
    /// Codes switched off for this stack.
    #[serde(default)]
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    /// Per-code severity override.
    #[serde(default)]
    pub severity: BTreeMap<String, crate::diag::Severity>,
}

/// A size written with a PostgreSQL unit: "7GB", "512MB".
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct Size(pub Bytes);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Str(String),
            Int(i64),
        }
        match Raw::deserialize(d)
            .map_err(|_| D::Error::custom("a size is a string with a unit, e.g. \"28GB\""))?
        {
            Raw::Str(s) => Bytes::parse(&s).map(Size).map_err(D::Error::custom),
            Raw::Int(n) => Err(D::Error::custom(format!(
                "a size needs a unit: write \"{n}MB\" or \"{n}GB\" (valid units: B, kB, MB, GB, TB)"
            ))),
        }
    }
}

/// A duration: a string with a unit ("10s", "30min", "600ms") or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "DurationSchema")]
pub struct Dur(pub Duration);

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum DurationSchema {
    WithUnit(String),
    Seconds(f64),
}

fn duration_from_raw<E: serde::de::Error>(raw: RawNumber) -> Result<Duration, E> {
    match raw {
        RawNumber::Str(s) => Duration::parse(&s).map_err(E::custom),
        RawNumber::Int(n) if n >= 0 => n
            .unsigned_abs()
            .checked_mul(1_000_000)
            .map(Duration)
            .ok_or_else(|| E::custom(format!("{n} seconds is too long a duration"))),
        RawNumber::Float(f) if f >= 0.0 && f.is_finite() => {
            Duration::parse(&format!("{f}")).map_err(E::custom)
        }
        _ => Err(E::custom("a duration cannot be negative")),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawNumber {
    Int(i64),
    Float(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawNumber::deserialize(d).map_err(|_| {
            D::Error::custom(
                "a duration is a string with a unit (\"10s\", \"30min\") or a number of seconds",
            )
        })?;
        duration_from_raw(raw).map(Dur)
    }
}

/// SQLAlchemy's pool_recycle: a duration, or -1 for "never" (its default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "DurationSchema")]
pub enum Recycle {
    Never,
    After(Duration),
}

impl<'de> Deserialize<'de> for Recycle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let raw = RawNumber::deserialize(d).map_err(|_| {
            D::Error::custom("pool_recycle is a duration (\"30min\", 1800) or -1 for never")
        })?;
        match raw {
            RawNumber::Int(-1) => Ok(Recycle::Never),
            RawNumber::Str(s) if s.trim() == "-1" => Ok(Recycle::Never),
            other => duration_from_raw(other).map(Recycle::After),
        }
    }
}

/// `[monitoring]`: which exporter's series the rendered rules use, and the alert thresholds
/// that are policy rather than stack limits.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringTable {
    /// The PgBouncer exporter Prometheus scrapes (default "prometheus-community").
    pub exporter: Option<Exporter>,
    /// prometheus-community only: the exporter's version, e.g. "0.10.2" (before 0.11.0 the
    /// stats series are `pgbouncer_stats_*`; default: a current one).
    pub exporter_version: Option<String>,
    /// The Prometheus job that scrapes PgBouncer's exporter (rules select `job="<job>"`).
    pub job: Option<String>,
    /// App pool utilization (checked out ÷ capacity) that alerts, 0..1 (default 0.75).
    pub pool_utilization: Option<f64>,
    /// Share of a PgBouncer limit that alerts, 0..1 (default 0.9).
    pub saturation: Option<f64>,
    /// Oldest waiting client's wait that alerts (default "30s").
    pub maxwait: Option<Dur>,
    /// App pool checkout latency, 99th percentile, that alerts (default "500ms").
    pub checkout_p99: Option<Dur>,
    /// "seed": apps export the seed's `sqlalchemy_pool_*` series; "none": no app alerts.
    pub app_metrics: Option<AppMetrics>,
    /// Upper bounds (seconds) of the apps' checkout-duration histogram (default: prometheus_client's).
    pub checkout_buckets: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Exporter {
    /// prometheus-community/pgbouncer_exporter (Go, :9127).
    #[serde(rename = "prometheus-community")]
    PrometheusCommunity,
    /// spreaker prometheus-pgbouncer-exporter (PyPI, Python).
    #[serde(rename = "spreaker")]
    Spreaker,
    /// CloudNativePG's Pooler metrics (`cnpg_pgbouncer_*`).
    #[serde(rename = "cnpg")]
    Cnpg,
}

impl Exporter {
    pub fn as_str(self) -> &'static str {
        match self {
            Exporter::PrometheusCommunity => "prometheus-community",
            Exporter::Spreaker => "spreaker",
            Exporter::Cnpg => "cnpg",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppMetrics {
    /// The seed's `sqlalchemy_pool_*` series, labelled `pool_name`.
    Seed,
    None,
}
