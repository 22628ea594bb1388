//! LIV — live checks (`poolstack doctor`).

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "LIV001",
        name: "live-value-differs",
        severity: Severity::Warning,
        summary: "doctor: a running server's value differs from the manifest",
        doc: LIV001_DOC,
        check: None,
    },
    Rule {
        code: "LIV002",
        name: "pending-restart",
        severity: Severity::Info,
        summary: "doctor: a changed setting waits for a restart (PostgreSQL) or is ignored by RELOAD (PgBouncer)",
        doc: LIV002_DOC,
        check: None,
    },
    Rule {
        code: "LIV003",
        name: "budget-nearly-full",
        severity: Severity::Warning,
        summary: "doctor: current server connections at or above 75 % of the connection budget",
        doc: LIV003_DOC,
        check: None,
    },
    Rule {
        code: "LIV004",
        name: "live-secret-mismatch",
        severity: Severity::Error,
        summary: "doctor: a userlist secret type that does not match how the role's password is stored",
        doc: LIV004_DOC,
        check: None,
    },
];

const LIV001_DOC: &str = "\
Checks, with `poolstack doctor`, each setting the manifest decides against what the running
servers report: PostgreSQL's `pg_settings` and PgBouncer's `SHOW CONFIG` (key, value, default,
changeable). It points at the manifest entry the value comes from and shows both values.

Why it matters: a rendered file that was never deployed, a reload that failed halfway, or a value
overridden elsewhere (`ALTER SYSTEM` in postgresql.auto.conf wins over postgresql.conf; `-c` on
the command line wins over both) means the stack runs with numbers the cross-checks never saw.
PgBouncer makes this easy to miss: on RELOAD with a bad line it logs `WARNING config file loading
failed` and keeps running with the lines before it applied, and 1.18 still answers `RELOAD` to the
admin client.

How to fix: deploy the rendered files and reload or restart — the help says which, from the
parameter's context or the option's reloadability in the declared version (the same
classification as `render`'s apply plan; an option RELOAD ignores is LIV002 alone); look for the override
(`SELECT name, setting, source, sourcefile FROM pg_settings WHERE name = '…'`, the
PgBouncer log); or, if the live value is the right one, put it in the manifest.

Facts: ../reference/pgbouncer/facts.md §1 (fatal vs reload) and §1a cases 50, 52;
../reference/postgres/conf-syntax.md \"Includes and precedence\".";

const LIV002_DOC: &str = "\
Checks, with `poolstack doctor`, for settings whose new value is in the files but not in effect:
PostgreSQL parameters with `pg_settings.pending_restart = true` (context postmaster:
shared_buffers, max_connections, …), and PgBouncer options that RELOAD ignores (listen_port,
listen_addr, unix_socket_dir and the other options PgBouncer marks not changeable in
`SHOW CONFIG`).

Why it matters: the change looks deployed and is not. PostgreSQL says so only in its log:
`parameter \"shared_buffers\" cannot be changed without restarting the server`; PgBouncer says
nothing at all — a new listen_port is silently ignored until the process restarts. Cross-checks
that assume the new max_connections are wrong until then.

How to fix: plan a restart of the server named in the message (for PgBouncer with
`so_reuseport` and several instances, restart them one by one).

Facts: ../reference/postgres/conf-syntax.md \"Startup vs reload behaviour\";
../reference/pgbouncer/facts.md §1 (no_reload_keys) and §1a case 51.";

const LIV003_DOC: &str = "\
Checks, with `poolstack doctor`, the server connections in use right now (PostgreSQL
`pg_stat_activity` client backends, PgBouncer `SHOW POOLS`) against the connection budget the
manifest allows, and warns at 75 % or more. The usage figure itself is printed in the summary
(`budget: used N of M`).

Why it matters: the budget is what keeps PostgreSQL below max_connections; running near it
leaves no room for a deploy that briefly doubles the app pods, a reserve pool kicking in, or an
operator's session. Past it, logins fail with `FATAL: remaining connection slots are reserved…`
and then `FATAL: sorry, too many clients already`, and PgBouncer clients wait and time out.

How to fix: find who holds the connections (idle in transaction, a leaking app pool), lower the
apps' pool sizes, or raise the budget and max_connections together (a restart).

Facts: ../reference/pgbouncer/facts.md §7 item 3; ../reference/postgres/crosscheck-facts.md
§1.2 (reserved slots, client capacity).";

const LIV004_DOC: &str = "\
Checks, with `poolstack doctor`, each userlist.txt secret against how the running PostgreSQL
stores that role's password (`pg_authid.rolpassword`: an md5 hash or a SCRAM-SHA-256 verifier)
— the live counterpart of AUT002.

Why it matters: PgBouncer logs in to PostgreSQL with the userlist secret. An md5 hash cannot
answer a SCRAM challenge, a SCRAM secret works only when it is byte-identical to the stored one
and the client itself logged in with SCRAM, and an md5 entry under auth_type scram-sha-256 cannot
authenticate clients at all. Clients see `FATAL: server login failed: wrong password type`,
`SASL authentication failed` (log: `SCRAM authentication failed: user has MD5 secret`) or
`password authentication failed for user \"…\"`. A cluster created by an image on PostgreSQL 14
or later stores SCRAM by default, so an md5 userlist generated by hand is this mistake.

How to fix: regenerate the userlist with the stored type (`poolstack render` with the password
available, or `poolstack userlist --hash scram-sha-256`), or re-set the role's password with the
type the userlist expects (`SET password_encryption = 'scram-sha-256'; ALTER ROLE … PASSWORD …`).

Facts: ../reference/pgbouncer/facts.md §4 (which auth_type accepts which secret, server-side
login) and §4a (end-to-end matrix).";
