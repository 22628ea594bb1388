//! PRE010 for a driver that runs a query over two round trips on the unnamed statement (pgx's
//! describe_exec): between them PgBouncer's transaction pooling may switch server connections,
//! and no PgBouncer version carries the unnamed statement across, so the version does not matter.

use crate::diag::{Diagnostic, Severity};
use crate::rules::Context;

pub(super) fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(mode) = super::transaction_mode(stack, app) else {
            continue;
        };
        let Some(s) = app.kind().split_round_trips(app) else {
            continue;
        };
        out.push(
            Diagnostic::new(
                "PRE010",
                Severity::Error,
                format!(
                    "app `{}` ({}) runs each query over two round trips on the unnamed prepared statement, but in {} pooling PgBouncer may send the second to another server connection (no PgBouncer version carries the unnamed statement across): clients get {}",
                    app.name.value,
                    s.setting,
                    mode.value.as_str(),
                    s.symptom
                ),
            )
            .at(s.loc.or(mode.loc()).or(app.name.loc()).cloned())
            .help(if stack.manifest_path.is_some() {
                s.fix.clone()
            } else {
                s.fix_env.clone()
            }),
        );
    }
}
