//! The exporter's own configuration and a Prometheus scrape snippet. No password is written
//! anywhere: the exporters connect with libpq (spreaker: psycopg2) or lib/pq (Go), which read
//! the password from `PGPASSWORD` or a `.pgpass` file.

use super::promql::quoted;
use crate::manifest::Exporter;
use crate::stack::Stack;
use crate::stack::monitoring::Monitoring;

/// The exporter's listen port (all three are set to, or default to, 9127).
pub const EXPORTER_PORT: u16 = 9127;

/// The console user the exporter logs in as: the first stats user, else the first admin user.
pub fn console_user(stack: &Stack) -> Option<&str> {
    let pgb = stack.pgbouncer.as_ref()?;
    pgb.stats_users
        .first()
        .or(pgb.admin_users.first())
        .map(|u| u.value.as_str())
}

fn dsn(stack: &Stack, scheme: &str) -> Option<String> {
    let pgb = stack.pgbouncer.as_ref()?;
    let user = console_user(stack).unwrap_or("pgbouncer_stats");
    Some(format!(
        "{scheme}://{user}@{}:{}/pgbouncer",
        pgb.host.value, pgb.client_port.value
    ))
}

fn no_user_note(stack: &Stack) -> &'static str {
    if console_user(stack).is_some() {
        ""
    } else {
        "# The stack lists no stats_users or admin_users: add the user below to [[users]] with\n# stats = true, or the exporter cannot log in to PgBouncer's console.\n"
    }
}

/// (file name, body) of the exporter's config; `None` for CNPG (the operator runs the exporter).
pub fn config(stack: &Stack, mon: &Monitoring) -> Option<(&'static str, String)> {
    let pgb_dsn = dsn(stack, "postgres")?;
    match mon.exporter.value {
        Exporter::PrometheusCommunity => Some((
            "pgbouncer-exporter.env",
            format!(
                "# prometheus-community/pgbouncer_exporter: an environment file (docker --env-file,\n\
                 # systemd EnvironmentFile= with ExecStart=/usr/bin/pgbouncer_exporter $ARGS).\n\
                 # The password is not here: lib/pq reads PGPASSWORD (set it from your secret store)\n\
                 # or ~/.pgpass.\n{}\
                 PGBOUNCER_EXPORTER_CONNECTION_STRING={pgb_dsn}?sslmode=disable\n\
                 ARGS=\"--web.listen-address=:{EXPORTER_PORT} --web.telemetry-path=/metrics\"\n",
                no_user_note(stack)
            ),
        )),
        Exporter::Spreaker => Some((
            "pgbouncer-exporter.yml",
            format!(
                "# spreaker prometheus-pgbouncer-exporter: pgbouncer-exporter --config pgbouncer-exporter.yml\n\
                 # The password is not here: psycopg2 (libpq) reads PGPASSWORD or ~/.pgpass.\n{}\
                 exporter_host: 0.0.0.0\n\
                 exporter_port: {EXPORTER_PORT}\n\
                 pgbouncers:\n  - dsn: {}\n    connect_timeout: 5\n    exclude_databases:\n      - pgbouncer\n",
                no_user_note(stack),
                quoted(&dsn(stack, "postgresql").unwrap_or(pgb_dsn)),
            ),
        )),
        Exporter::Cnpg => None,
    }
}

/// A minimal prometheus.yml: the rule file and the PgBouncer scrape job (`promtool check config`
/// accepts it as it is).
pub fn scrape(stack: &Stack, mon: &Monitoring) -> String {
    let mut out = String::from(
        "# Merge into prometheus.yml: the rule file and the scrape job the rules select by `job`.\n",
    );
    if mon.exporter.value == Exporter::Cnpg {
        out.push_str(
            "# CloudNativePG: the operator runs the exporter in each Pooler pod (port 9127, `metrics`);\n\
             # set spec.monitoring.enablePodMonitor: true on the Pooler, or scrape the pods with the\n\
             # job name below. poolstack writes no exporter config for it.\n",
        );
    }
    out.push_str("rule_files:\n  - prometheus-rules.yml\nscrape_configs:\n");
    let host = stack
        .pgbouncer
        .as_ref()
        .map(|b| b.host.value.clone())
        .unwrap_or_else(|| "pgbouncer".to_string());
    out.push_str(&format!(
        "  - job_name: {}\n    static_configs:\n      # One target per PgBouncer exporter; the rules hold for every instance of the job.\n      - targets: [{}]\n",
        quoted(&mon.job.value),
        quoted(&format!("{host}:{EXPORTER_PORT}"))
    ));
    out
}
