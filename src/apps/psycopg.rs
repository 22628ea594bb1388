//! psycopg 3, for the kinds that run on it (psycopg-pool, django): what its `prepare_threshold`
//! means behind PgBouncer (facts: sqlalchemy/facts.md §4, apps/facts.md §1 and §8).

use super::NamedStatements;
use crate::stack::App;

/// What users see when PgBouncer does not carry psycopg's named statements.
const SYMPTOM: &str = "`psycopg.errors.DuplicatePreparedStatement: prepared statement \"_pg3_0\" already exists` or `InvalidSqlStatementName: prepared statement \"_pg3_10\" does not exist`";

/// psycopg preparing statements by name after `prepare_threshold = n` executions (PRE010), from
/// the kind's `prepare_threshold` and `libpq` keys; `None` when it is "none". `driver` says how the
/// app runs psycopg (`psycopg_pool`, `Django on psycopg`), `passes` how its code hands psycopg
/// `None`.
pub fn named_statements<'a>(
    app: &'a App,
    driver: &str,
    passes: &str,
) -> Option<NamedStatements<'a>> {
    let s = app.fw().req("prepare_threshold");
    let n = s.value.int()?;
    Some(NamedStatements {
        code: "PRE010",
        frees_with_sql: None,
        setting: format!("{driver}, prepare_threshold = {n}"),
        setting_loc: s.loc(),
        min_pgbouncer: (1, 22),
        libpq: Some(app.fw().get("libpq")),
        symptom: SYMPTOM,
        fix: format!(
            "set prepare_threshold = \"none\" for `{}` ({passes})",
            app.name.value
        ),
        fix_env: format!("write DB_PREPARE_THRESHOLD=none ({passes})"),
    })
}
