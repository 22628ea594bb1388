//! DEP — deploy targets (`[deploy]`): what a target cannot express (DEP001) or refuses (DEP002),
//! from each target's `cannot_express()` list.

use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::outputs::deploy::{self, LossKind};

pub const RULES: &[Rule] = &[
    Rule {
        code: "DEP001",
        name: "target-cannot-express",
        severity: Severity::Warning,
        summary: "A deploy target drops a setting or forces it to another value",
        doc: DEP001_DOC,
        check: Some(target_cannot_express),
    },
    Rule {
        code: "DEP002",
        name: "target-refuses",
        severity: Severity::Error,
        summary: "A deploy target rejects a setting at admission or start; its files are not written",
        doc: DEP002_DOC,
        check: Some(target_refuses),
    },
];

const DEP001_DOC: &str = "\
What it checks: each target of `[deploy] targets` against the stack. A setting the target drops
or forces to another value is reported with the setting, the target and what runs instead.
CloudNativePG: so_reuseport (one process per pod), auth_file / userlist.txt (the operator
authenticates through auth_query), listen_port (always 5432), admin_users and stats_users (the
operator's own), logfile/pidfile, per-database entries and per-user settings (a Pooler routes `*`
to one cluster service), and defaults outside the operator release's allowlist. Kubernetes:
logfile and pidfile (the ConfigMap's ini logs to stderr), a listen_addr the Service cannot reach.
Compose: a [postgres] or [pgbouncer] host that is no service name, a healthcheck that cannot log
in. CloudNativePG also: ignore_startup_parameters without `options` (the operator appends it).

Why it matters: a deploy file that silently runs something else than the manifest says is the
drift poolstack exists to prevent; the loss report makes the difference explicit.

How to fix: change the setting where another value is fine for you, choose another target, or
accept the difference (`[lint] ignore = [\"DEP001\"]`).

Facts: reference/deploy/facts.md §5 (what operators lose), §3 (reload and rollout).";

const DEP002_DOC: &str = "\
What it checks: settings a deploy target rejects: CloudNativePG's `poolMode` statement, and a
PgBouncer parameter outside the declared operator release's allowlist (`[deploy.cnpg] version`).

Why it matters: the operator's admission webhook refuses the whole Pooler (\"Invalid or reserved
parameter\"), so nothing is deployed. render therefore does not write that target's files.

How to fix: use session or transaction pooling, remove the parameter, or declare the operator
release you run (a key may be allowed from a later release).

Facts: reference/deploy/cnpg-pooler-allowlist.tsv, facts.md §5.";

fn findings(cx: &Context<'_>, kind: LossKind, out: &mut Vec<Diagnostic>) {
    let Some(d) = &cx.stack.deploy else {
        return;
    };
    for l in deploy::cannot_express(cx.stack)
        .into_iter()
        .filter(|l| l.kind == kind)
    {
        let target_loc = d
            .targets
            .iter()
            .find(|t| t.value == l.target)
            .and_then(|t| t.loc().cloned());
        let (code, sev, verb, help) = match kind {
            LossKind::CannotExpress => (
                "DEP001",
                Severity::Warning,
                "cannot express",
                "change the setting, or accept the difference for this target",
            ),
            LossKind::Refuses => (
                "DEP002",
                Severity::Error,
                "refuses",
                "change the setting or the declared operator version; render does not write this target until then",
            ),
        };
        out.push(
            Diagnostic::new(
                code,
                sev,
                format!(
                    "deploy target {} {verb} {}: {}",
                    l.target.as_str(),
                    l.setting,
                    l.instead
                ),
            )
            .at(l.loc.or(target_loc))
            .help(help),
        );
    }
}

fn target_cannot_express(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    findings(cx, LossKind::CannotExpress, out);
}

fn target_refuses(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    findings(cx, LossKind::Refuses, out);
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{self, HEALTHY};

    fn with_deploy(extra: &str) -> String {
        format!("{HEALTHY}\n{extra}")
    }

    #[test]
    fn dep001_fires_for_what_cnpg_forces() {
        let toml = with_deploy("[deploy]\ntargets = [\"cnpg\"]\n");
        let d = testing::run("DEP001", &toml);
        assert!(d.iter().any(|d| d.message.contains("auth_file")), "{d:#?}");
        assert!(d.iter().all(|d| d.message.contains("deploy target cnpg")));
    }

    #[test]
    fn dep001_silent_without_deploy_or_for_a_plain_kubernetes_stack() {
        assert!(testing::run("DEP001", HEALTHY).is_empty());
        let toml = with_deploy("[deploy]\ntargets = [\"kubernetes\"]\n");
        assert!(testing::run("DEP001", &toml).is_empty());
    }

    #[test]
    fn dep001_kubernetes_logfile_points_at_it() {
        let toml = with_deploy("[deploy]\ntargets = [\"kubernetes\"]\n").replacen(
            "[pgbouncer]\n",
            "[pgbouncer]\nlogfile = \"/var/log/pgbouncer.log\"\n",
            1,
        );
        let (stack, d) = testing::only("DEP001", &toml);
        assert!(d.message.contains("logfile"), "{}", d.message);
        assert_eq!(
            testing::pointed_text(&stack, &d),
            "\"/var/log/pgbouncer.log\""
        );
    }

    #[test]
    fn dep002_statement_pooling_on_cnpg() {
        let toml = with_deploy("[deploy]\ntargets = [\"cnpg\"]\n").replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"statement\"",
            1,
        );
        let d = testing::run("DEP002", &toml);
        assert!(d.iter().any(|d| d.message.contains("statement")), "{d:#?}");
    }

    #[test]
    fn dep002_parameter_outside_the_declared_release() {
        let toml =
            with_deploy("[deploy]\ntargets = [\"cnpg\"]\n[deploy.cnpg]\nversion = \"1.24.0\"\n")
                .replacen(
                    "[pgbouncer]\n",
                    "[pgbouncer]\nsettings = { pkt_buf = 4096 }\n",
                    1,
                );
        let (stack, d) = testing::only("DEP002", &toml);
        assert!(d.message.contains("pkt_buf"), "{}", d.message);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "pkt_buf")
        );
        // Allowed from 1.25.0: no error, no loss.
        let newer = toml.replace("1.24.0", "1.25.0");
        assert!(testing::run("DEP002", &newer).is_empty());
    }

    #[test]
    fn dep001_compose_host_that_is_no_service() {
        let toml = with_deploy("[deploy]\ntargets = [\"compose\"]\n");
        // HEALTHY's PostgreSQL host is `db`, a service name: nothing lost.
        assert!(testing::run("DEP001", &toml).is_empty());
        // On localhost, inside compose that is PgBouncer's own container.
        let local = toml.replacen("host = \"db\"", "host = \"localhost\"", 1);
        let (stack, d) = testing::only("DEP001", &local);
        assert!(
            d.message.contains("deploy target compose") && d.message.contains("[postgres] host"),
            "{}",
            d.message
        );
        assert_eq!(testing::pointed_text(&stack, &d), "\"localhost\"");
    }
}
