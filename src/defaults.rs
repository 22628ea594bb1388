//! Every default of the manifest, in one place. The README's defaults table is generated from
//! [`TABLE`] (and a test keeps the two equal).
//!
//! Where the target's own default would trip one of poolstack's rules, poolstack's default is the
//! safe value: PgBouncer's `auth_type = md5` (AUT003) becomes `scram-sha-256`, its
//! `pool_mode = session` becomes `transaction`, psycopg's `prepare_threshold = 5` behind
//! transaction pooling (PRE001) becomes `none`, and libpq's unbounded connect wait becomes 10s.

use crate::units::Duration;

pub const POSTGRES_HOST: &str = "localhost";
pub const POSTGRES_PORT: u16 = 5432;
/// PostgreSQL's own default, used when there are no pools to derive max_connections from.
pub const MAX_CONNECTIONS_WITHOUT_POOLS: u32 = 100;
pub const SUPERUSER_RESERVED_CONNECTIONS: u32 = 3;
/// Slots added above the connection budget when max_connections is derived: 10 % of the budget, at least this many.
pub const MAX_CONNECTIONS_MIN_HEADROOM: u32 = 5;

pub const PGBOUNCER_HOST: &str = "localhost";
pub const LISTEN_ADDR: &str = "*";
pub const LISTEN_PORT: u16 = 6432;
pub const INSTANCES: u32 = 1;
pub const AUTH_FILE: &str = "/etc/pgbouncer/userlist.txt";
pub const MAX_CLIENT_CONN: u32 = 100;
pub const DEFAULT_POOL_SIZE: u32 = 20;
pub const MIN_POOL_SIZE: u32 = 0;
pub const RESERVE_POOL_SIZE: u32 = 0;
pub const MAX_DB_CONNECTIONS: u32 = 0;
pub const MAX_USER_CONNECTIONS: u32 = 0;

pub const APP_REPLICAS: u32 = 1;
pub const APP_PROCESSES: u32 = 1;
pub const APP_POOL_SIZE: u32 = 5;
pub const APP_MAX_OVERFLOW: i32 = 10;
pub const APP_POOL_TIMEOUT: Duration = Duration(30_000_000);
pub const APP_PRE_PING: bool = false;
pub const APP_CONNECT_TIMEOUT: Duration = Duration(10_000_000);
/// asyncpg's own statement cache size, used when no transaction/statement pool sits in front.
pub const ASYNCPG_STATEMENT_CACHE_SIZE: u32 = 100;

pub const MONITORING_JOB: &str = "pgbouncer";
/// The seed's "SQLAlchemy pool utilization > 75 %".
pub const MONITORING_POOL_UTILIZATION: f64 = 0.75;
pub const MONITORING_SATURATION: f64 = 0.9;
/// The seed's "PgBouncer maxwait > 30 s".
pub const MONITORING_MAXWAIT: Duration = Duration(30_000_000);
/// The seed's "P99 checkout > 500 ms".
pub const MONITORING_CHECKOUT_P99: Duration = Duration(500_000);
/// prometheus_client's default histogram buckets (seconds).
pub const MONITORING_CHECKOUT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
pub const OUT_MONITORING: &str = "monitoring";

pub const OUT_PGBOUNCER_INI: &str = "pgbouncer/pgbouncer.ini";
pub const OUT_USERLIST: &str = "pgbouncer/userlist.txt";
pub const OUT_POSTGRESQL_CONF: &str = "postgres/conf.d/50-poolstack.conf";
pub const OUT_ROLES_SQL: &str = "postgres/initdb.d/10-roles.sql";

/// `[deploy]`: the PgBouncer image of the compose and Kubernetes targets (edoburu/pgbouncer: it
/// runs the mounted pgbouncer.ini as is; there is no official image).
pub const DEPLOY_PGBOUNCER_IMAGE: &str = "edoburu/pgbouncer:v1.25.2-p0";
pub const DEPLOY_K8S_NAME: &str = "pgbouncer";
pub const DEPLOY_K8S_CPU_REQUEST: &str = "100m";
pub const DEPLOY_K8S_MEMORY: &str = "64Mi";
/// The CloudNativePG release whose Pooler schema is in the reference.
pub const DEPLOY_CNPG_VERSION: &str = "1.30.0";
/// Where render writes the deploy targets, under the output base.
pub const OUT_DEPLOY: &str = "deploy";

/// One row of the defaults table: key, default, and where it comes from / why.
pub struct DefaultRow {
    pub key: &'static str,
    pub default: &'static str,
    pub note: &'static str,
}

pub const TABLE: &[DefaultRow] = &[
    DefaultRow {
        key: "postgres.host",
        default: "\"localhost\"",
        note: "",
    },
    DefaultRow {
        key: "postgres.port",
        default: "5432",
        note: "",
    },
    DefaultRow {
        key: "postgres.max_connections",
        default: "derived",
        note: "connection budget (CON002's count, `[[clients]]` included) + superuser_reserved_connections + reserved_connections + headroom of 10 % of the budget (at least 5); with no pools, 100",
    },
    DefaultRow {
        key: "postgres.superuser_reserved_connections",
        default: "3",
        note: "PostgreSQL's own; not written",
    },
    DefaultRow {
        key: "postgres.password_encryption",
        default: "the version's",
        note: "scram-sha-256 from PostgreSQL 14 (md5 before); not written",
    },
    DefaultRow {
        key: "pgbouncer.enabled",
        default: "true",
        note: "when the `[pgbouncer]` table is present",
    },
    DefaultRow {
        key: "pgbouncer.host",
        default: "\"localhost\"",
        note: "",
    },
    DefaultRow {
        key: "pgbouncer.listen_addr",
        default: "\"*\"",
        note: "",
    },
    DefaultRow {
        key: "pgbouncer.listen_port",
        default: "6432",
        note: "",
    },
    DefaultRow {
        key: "pgbouncer.client_port",
        default: "listen_port",
        note: "",
    },
    DefaultRow {
        key: "pgbouncer.instances",
        default: "1",
        note: "above 1, `so_reuseport = 1` is derived",
    },
    DefaultRow {
        key: "pgbouncer.pool_mode",
        default: "\"transaction\"",
        note: "PgBouncer's own is session",
    },
    DefaultRow {
        key: "pgbouncer.auth_type",
        default: "\"scram-sha-256\"",
        note: "PgBouncer's own is md5 (AUT003)",
    },
    DefaultRow {
        key: "pgbouncer.auth_file",
        default: "\"/etc/pgbouncer/userlist.txt\"",
        note: "",
    },
    DefaultRow {
        key: "pgbouncer.userlist_hash",
        default: "\"auto\"",
        note: "the role storage's type (password_encryption); plain for users a `[[databases]]` entry forces with `user =`, which need a plaintext secret",
    },
    DefaultRow {
        key: "pgbouncer.max_client_conn",
        default: "100",
        note: "PgBouncer's own",
    },
    DefaultRow {
        key: "pgbouncer.default_pool_size",
        default: "20",
        note: "PgBouncer's own",
    },
    DefaultRow {
        key: "pgbouncer.min_pool_size",
        default: "0",
        note: "PgBouncer's own",
    },
    DefaultRow {
        key: "pgbouncer.reserve_pool_size",
        default: "0",
        note: "PgBouncer's own",
    },
    DefaultRow {
        key: "pgbouncer.max_db_connections",
        default: "0",
        note: "unlimited",
    },
    DefaultRow {
        key: "pgbouncer.max_user_connections",
        default: "0",
        note: "unlimited",
    },
    DefaultRow {
        key: "pgbouncer.max_prepared_statements",
        default: "PgBouncer's",
        note: "0 in 1.21–1.23, 200 from 1.24; not written",
    },
    DefaultRow {
        key: "pgbouncer.logfile / pidfile / unix_socket_dir",
        default: "\"\"",
        note: "not written (PgBouncer's own applies)",
    },
    DefaultRow {
        key: "databases.dbname",
        default: "name",
        note: "",
    },
    DefaultRow {
        key: "databases.host / port",
        default: "postgres.host / port",
        note: "",
    },
    DefaultRow {
        key: "databases.users",
        default: "the users of the apps that use it",
        note: "",
    },
    DefaultRow {
        key: "databases.pool_size / reserve_pool_size / max_db_connections / pool_mode",
        default: "the `[pgbouncer]` value",
        note: "written only when set",
    },
    DefaultRow {
        key: "databases.create",
        default: "false",
        note: "true: roles.sql creates `dbname` when missing",
    },
    DefaultRow {
        key: "databases.owner",
        default: "the forced `user`, else the first of `users`",
        note: "with `create = true`; a `[[users]]` name",
    },
    DefaultRow {
        key: "users.role",
        default: "true",
        note: "roles.sql creates the role and sets its password",
    },
    DefaultRow {
        key: "users.verifier",
        default: "none",
        note: "`{ userlist = \"FILE\" }`: the role's stored verifier is known from FILE (AUT010)",
    },
    DefaultRow {
        key: "users.admin / stats",
        default: "false",
        note: "",
    },
    DefaultRow {
        key: "apps.replicas / processes",
        default: "1 / 1",
        note: "",
    },
    DefaultRow {
        key: "apps.driver",
        default: "\"psycopg\"",
        note: "",
    },
    DefaultRow {
        key: "apps.pool_size / max_overflow",
        default: "5 / 10",
        note: "SQLAlchemy's own",
    },
    DefaultRow {
        key: "apps.pool_timeout",
        default: "\"30s\"",
        note: "SQLAlchemy's own",
    },
    DefaultRow {
        key: "apps.pool_recycle",
        default: "-1",
        note: "SQLAlchemy's own: never",
    },
    DefaultRow {
        key: "apps.pre_ping",
        default: "false",
        note: "SQLAlchemy's own",
    },
    DefaultRow {
        key: "apps.prepare_threshold",
        default: "\"none\"",
        note: "psycopg's own is 5, which breaks behind transaction pooling (PRE001)",
    },
    DefaultRow {
        key: "apps.statement_cache_size",
        default: "0 or 100",
        note: "asyncpg: 0 behind transaction/statement pooling, else asyncpg's own 100",
    },
    DefaultRow {
        key: "apps.connect_timeout",
        default: "\"10s\"",
        note: "libpq's own is to wait forever",
    },
    DefaultRow {
        key: "apps.password_env",
        default: "the user's `env` source, else `<USER>_PASSWORD`",
        note: "the variable DATABASE_URL refers to; the app's environment provides it",
    },
    DefaultRow {
        key: "apps.env_file",
        default: "\".env\"",
        note: "\"<name>.env\" when there are several apps",
    },
    DefaultRow {
        key: "apps.settings_file",
        default: "the framework's name: \"database.yml\" (rails), \"database_settings.py\" (django), \"application.properties\" (jdbc-hikari)",
        note: "\"<name>/…\" when there are several apps; other kinds read only the environment",
    },
    DefaultRow {
        key: "outputs.pgbouncer_ini",
        default: "\"pgbouncer/pgbouncer.ini\"",
        note: "",
    },
    DefaultRow {
        key: "outputs.userlist",
        default: "\"pgbouncer/userlist.txt\"",
        note: "",
    },
    DefaultRow {
        key: "outputs.postgresql_conf",
        default: "\"postgres/conf.d/50-poolstack.conf\"",
        note: "",
    },
    DefaultRow {
        key: "outputs.roles_sql",
        default: "\"postgres/initdb.d/10-roles.sql\"",
        note: "",
    },
    DefaultRow {
        key: "monitoring.exporter",
        default: "\"prometheus-community\"",
        note: "its current (≥ 0.11) series names; `exporter_version` selects older ones",
    },
    DefaultRow {
        key: "monitoring.job",
        default: "\"pgbouncer\"",
        note: "rules select PgBouncer series by `job` only, so they hold for every instance",
    },
    DefaultRow {
        key: "monitoring.pool_utilization",
        default: "0.75",
        note: "the seed's",
    },
    DefaultRow {
        key: "monitoring.saturation",
        default: "0.9",
        note: "share of each PgBouncer limit",
    },
    DefaultRow {
        key: "monitoring.maxwait",
        default: "\"30s\"",
        note: "the seed's",
    },
    DefaultRow {
        key: "monitoring.checkout_p99",
        default: "\"500ms\"",
        note: "the seed's",
    },
    DefaultRow {
        key: "monitoring.app_metrics",
        default: "\"seed\"",
        note: "the seed's `sqlalchemy_pool_*` names",
    },
    DefaultRow {
        key: "monitoring.checkout_buckets",
        default: "prometheus_client's",
        note: "0.005 … 10 seconds",
    },
    DefaultRow {
        key: "apps.metrics_pool_name",
        default: "the app's name",
        note: "the `pool_name` label of its pool metrics",
    },
    DefaultRow {
        key: "deploy.targets",
        default: "[]",
        note: "any of \"compose\", \"kubernetes\", \"cnpg\"; each is written under `deploy/`",
    },
    DefaultRow {
        key: "deploy.compose.postgres_image",
        default: "\"postgres:<postgres.version>\"",
        note: "",
    },
    DefaultRow {
        key: "deploy.compose.pgbouncer_image / kubernetes.image",
        default: "\"edoburu/pgbouncer:v1.25.2-p0\"",
        note: "runs the mounted pgbouncer.ini as is; set a tag matching `pgbouncer.version`",
    },
    DefaultRow {
        key: "deploy.compose.app_images",
        default: "\"<app name>:latest\"",
        note: "per `[[apps]]` name; app services run under the compose profile `apps`",
    },
    DefaultRow {
        key: "deploy.compose.pgbouncer_host_port",
        default: "none",
        note: "PgBouncer is not published on the host",
    },
    DefaultRow {
        key: "deploy.kubernetes.namespace / cnpg.namespace",
        default: "none",
        note: "not written: kubectl's current namespace",
    },
    DefaultRow {
        key: "deploy.kubernetes.name",
        default: "\"pgbouncer\"",
        note: "name of every object and its `app.kubernetes.io/name` label",
    },
    DefaultRow {
        key: "deploy.kubernetes.replicas / cnpg.instances",
        default: "pgbouncer.instances",
        note: "",
    },
    DefaultRow {
        key: "deploy.kubernetes.cpu_request / memory_request / memory_limit",
        default: "\"100m\" / \"64Mi\" / \"64Mi\"",
        note: "",
    },
    DefaultRow {
        key: "deploy.cnpg.cluster",
        default: "stack.name",
        note: "lowercased, `_` → `-` (a Kubernetes name)",
    },
    DefaultRow {
        key: "deploy.cnpg.name",
        default: "\"<cluster>-pooler-<type>\"",
        note: "",
    },
    DefaultRow {
        key: "deploy.cnpg.version",
        default: "\"1.30.0\"",
        note: "the operator release whose parameter allowlist applies (1.10.0 to 1.30.0 known)",
    },
    DefaultRow {
        key: "deploy.cnpg.type",
        default: "\"rw\"",
        note: "",
    },
    DefaultRow {
        key: "lint.fail_on",
        default: "\"error\"",
        note: "",
    },
];

/// The defaults table as Markdown, exactly as the README holds it.
pub fn markdown_table() -> String {
    let mut out = String::from("| key | default | notes |\n|---|---|---|\n");
    for row in TABLE {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            row.key, row.default, row.note
        ));
    }
    out
}
