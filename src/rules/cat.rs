//! CAT — settings knowledge: findings come from resolving `*.settings` and (later) from reading hand-written files.

use super::Rule;
use crate::diag::Severity;

pub const RULES: &[Rule] = &[
    Rule {
        code: "CAT001",
        name: "unknown-setting",
        severity: Severity::Error,
        summary: "A PostgreSQL parameter or PgBouncer option that exists in no version",
        doc: CAT001_DOC,
        check: None,
    },
    Rule {
        code: "CAT002",
        name: "invalid-value",
        severity: Severity::Error,
        summary: "A value the target refuses: wrong type, unknown enum value or unit, out of range, or a time that does not convert exactly",
        doc: CAT002_DOC,
        check: None,
    },
    Rule {
        code: "CAT003",
        name: "not-in-version",
        severity: Severity::Error,
        summary: "A setting that exists, but not yet in the declared version",
        doc: CAT003_DOC,
        check: None,
    },
    Rule {
        code: "CAT004",
        name: "renamed-or-removed",
        severity: Severity::Error,
        summary: "A setting the declared version removed or renamed",
        doc: CAT004_DOC,
        check: None,
    },
    Rule {
        code: "CAT005",
        name: "parse-trap",
        severity: Severity::Warning,
        summary: "A value the target accepts but reads differently from what was meant (kept quotes, octal, wrap-around, rounding to 0)",
        doc: CAT005_DOC,
        check: None,
    },
    Rule {
        code: "CAT006",
        name: "duplicate-setting",
        severity: Severity::Warning,
        summary: "The same setting twice: the last one silently wins",
        doc: CAT006_DOC,
        check: None,
    },
    Rule {
        code: "CAT007",
        name: "wrong-section",
        severity: Severity::Error,
        summary: "A PgBouncer key in the wrong section ([databases] key under [pgbouncer], or the reverse)",
        doc: CAT007_DOC,
        check: None,
    },
    Rule {
        code: "CAT008",
        name: "syntax-error",
        severity: Severity::Error,
        summary: "A line the target's configuration parser rejects",
        doc: CAT008_DOC,
        check: None,
    },
];

const CAT001_DOC: &str = "\
Checks every PostgreSQL parameter and PgBouncer option poolstack would write (and, for
hand-written files, every one it reads) against the settings catalogs, and reports a name that
exists in no version, with the closest valid name (`max_client_connections` → `max_client_conn`).
PgBouncer names are case-sensitive (`POOL_MODE` is unknown); PostgreSQL names are not, and
PostgreSQL also accepts the aliases `sort_mem` and `vacuum_mem` and any `prefix.name` parameter
(extensions define those).

Why it matters: neither server skips an unknown name. PgBouncer refuses to start:
`ERROR unknown parameter: pgbouncer/max_client_connections` then `FATAL cannot load config file`
(on RELOAD it keeps running, but only the lines before the bad one are applied). An unknown key in
a [databases] entry is `unrecognized connection parameter: <key>` and rejects the whole file.
PostgreSQL logs `unrecognized configuration parameter \"shard_buffers\" in file \"…\" line N` and
`FATAL: configuration file \"…\" contains errors`: the server does not start, and on a reload
nothing in the file is applied.

How to fix: use the suggested name, or remove the setting. If it belongs to an extension, write
it with the extension's prefix (`pg_stat_statements.max`).

Facts: ../reference/pgbouncer/facts.md §1 (unknown_key) and §1a cases 02, 05, 29, 37;
../reference/postgres/conf-syntax.md \"Names\".";

const CAT002_DOC: &str = "\
Checks that each value is one the target accepts: the right type, a known enum value, a unit the
parameter takes (PostgreSQL units are case-sensitive: `7gb` is invalid), a value within the
parameter's min/max, no unit suffix on a PgBouncer time (`30s`), 0/1 rather than `yes`/`on` for a
PgBouncer boolean, no unrendered `${VAR}` in pgbouncer.ini or a PostgreSQL file, no inline
`; comment` after a typed PgBouncer value (it becomes part of the value), no unquoted fractional
size in postgresql.conf (`1.5GB`), no inline comment in `listen_addr` (PgBouncer looks the whole
text up as an address and does not start). For manifest values it also checks that a duration
converts exactly to the target's unit: `connect_timeout = \"600ms\"` on a seconds option would become
0, which means wait forever; and that a PgBouncer integer fits the C type PgBouncer stores it in
(`default_pool_size = 3000000000` would silently become -1294967296): poolstack never writes a
value PgBouncer would wrap. `check` and `render` find these by reading back the files poolstack
builds, and report each at the manifest line it comes from (for a derived value, at its inputs).

Why it matters: PgBouncer refuses to start on a value it cannot parse: `ERROR invalid value
\"30s\" for parameter server_idle_timeout in configuration (pgbouncer.ini:11)` then `FATAL cannot
load config file`; the same for `yes` on log_connections, `transaction ; inline comment` as a
pool_mode, `20 connections` as an integer. PostgreSQL logs `invalid value for parameter
\"shared_buffers\": \"7gb\"` with `HINT: Valid units for this parameter are \"B\", \"kB\", \"MB\",
\"GB\", and \"TB\".`, or `0 is outside the valid range for parameter \"max_connections\" (1 ..
262143)`, and does not start; `shared_buffers = 1.5GB` unquoted is `syntax error … near token
\"GB\"`.

How to fix: write the value in the target's own syntax — the help names the accepted values or
units. In the manifest, use a unit the target can represent exactly (`\"1s\"`, not `\"600ms\"`, for
an option in seconds).

Facts: ../reference/pgbouncer/facts.md §1 (value types) and §1a cases 03, 07, 08, 10, 11, 12, 14,
15; ../reference/postgres/conf-syntax.md \"Values, units, rounding\".";

const CAT003_DOC: &str = "\
Checks that each setting exists in the version the manifest declares (`[postgres] version`,
`[pgbouncer] version`): `max_prepared_statements` appeared in PgBouncer 1.21, the per-database
`reserve_pool_size` key in 1.24 (`reserve_pool` before), `[peers]` in 1.19,
`reserved_connections` in PostgreSQL 16. The message says which version introduced it.

Why it matters: to an older server the setting is simply unknown. PgBouncer 1.18 with
`max_prepared_statements = 100` logs `ERROR unknown parameter: pgbouncer/max_prepared_statements`
and `FATAL cannot load config file`; a newer [databases] key is `unrecognized connection
parameter: reserve_pool_size`; PostgreSQL 15 with `reserved_connections = 3` logs
`unrecognized configuration parameter \"reserved_connections\"` and refuses to start. A
configuration copied from newer documentation is the usual cause.

How to fix: remove the setting, or declare the version you actually run if it is new enough
(then upgrade the server first).

Facts: ../reference/pgbouncer/facts.md §1a cases 01, 35, 40 and §2 (`since`);
../reference/postgres/conf-syntax.md \"Version-dependent names\".";

const CAT004_DOC: &str = "\
Checks for settings the declared PostgreSQL version removed or renamed, and names the
replacement: `wal_keep_segments` became `wal_keep_size` (in MB) in 13, `stats_temp_directory`
was removed in 15, `force_parallel_mode` became `debug_parallel_query` in 16. (No PgBouncer
`[pgbouncer]` key was removed or renamed between 1.5 and today.)

Why it matters: the old name is unknown to the new server: `unrecognized configuration parameter
\"wal_keep_segments\" in file \"…\" line N` and `FATAL: configuration file \"…\" contains errors`
— the server does not start after a major upgrade that kept the old postgresql.conf.

How to fix: use the replacement, converting the value where its unit changed
(wal_keep_size = wal_keep_segments × 16MB), or remove a setting that has none.

Facts: ../reference/postgres/guc-versions.md (renames and removals per major);
../reference/postgres/conf-syntax.md \"Version-dependent names\".";

const CAT005_DOC: &str = "\
Checks for values the target accepts without complaint but reads differently from what the
author meant: an inline `;` or `#` after a string PgBouncer value (it becomes part of the value),
quotes in a `[pgbouncer]` value (kept literally: `admin_users = \"admin\"` means the user
`\"admin\"`), a leading `0` or `0x` that makes an integer octal or hex (`010` is 8), a PgBouncer
integer that is negative or overflows its C type and wraps (`99999999999` becomes 1215752191; in
a manifest that is CAT002, since poolstack never writes it), a per-database
or per-user number that `atoi()` turns into 0 (`pool_size=abc`), and a duration below the
parameter's resolution that rounds to 0 (`statement_timeout = '100us'` disables the timeout).
Text inside a quoted connection-string value is not a comment.

Why it matters: nothing fails at startup, so the mistake shows up later as behaviour:
`server_reset_query = DISCARD ALL # comment` sends the comment to the server; with
`admin_users = \"admin\"` the admin console answers `not allowed` to admin, because the admin
user is `\"admin\"`, quotes included; a pool of size 0 never opens a connection; a timeout meant
to protect the server is off.

How to fix: write the value plainly — no quotes or comments on the line, decimal integers,
durations the parameter can represent (at least its unit: 1ms for statement_timeout).

Facts: ../reference/pgbouncer/facts.md §1 (values, value types, per-db atoi) and §1a cases 09,
16, 24, 49f, 49j; ../reference/postgres/conf-syntax.md \"Silent zeroing trap\" and octal
`max_connections = 0100`.";

const CAT006_DOC: &str = "\
Checks for the same setting written twice — in one section, across included files, or once under
an alias (`sort_mem` and `work_mem`) — and points at both places.

Why it matters: both servers accept it silently and the last occurrence wins: PgBouncer for
`[pgbouncer]` keys and for whole [databases]/[users] entries, PostgreSQL in include-expanded order
(a setting after `include_dir` overrides the fragments; pg_file_settings marks the earlier ones
`applied = f`). Whoever edits the first occurrence sees no effect.

Where the later occurrence is in poolstack's own rendered fragment (it carries poolstack's header)
and the earlier one in another file — a stock postgresql.conf that sets max_connections and
shared_buffers, then `include_dir = 'conf.d'` — the override is the fragment's purpose: the
finding is an info.

How to fix: keep one occurrence, the one that should win, and delete the other.

Facts: ../reference/pgbouncer/facts.md §1 (duplicates) and §1a cases 18, 19;
../reference/postgres/conf-syntax.md \"Last one wins\".";

const CAT007_DOC: &str = "\
Checks that PgBouncer keys sit in the section that defines them: per-database keys such as
`pool_size`, `client_encoding` or `timezone` are connection-string keys of a [databases] entry,
not `[pgbouncer]` options; `[pgbouncer]` options such as `server_tls_sslmode` do not belong in a
[databases] entry.

Why it matters: the other section does not know the key, and PgBouncer refuses to start:
`ERROR unknown parameter: pgbouncer/pool_size` then `FATAL cannot load config file`, or for a
[databases] entry `syntax error in connection string` / `unrecognized connection parameter`. The
popular edoburu/docker-pgbouncer image writes `POOL_SIZE` and `TIMEZONE` into `[pgbouncer]` and
fails exactly this way.

How to fix: move the key to its section — in the manifest, per-database keys go in the
database's `settings = { … }` (or its first-class keys such as `pool_size`), global options in
`[pgbouncer]` / `[pgbouncer.settings]`.

Facts: ../reference/pgbouncer/facts.md §3 (section keys), §5 (edoburu bugs) and §6 (kmsarabu).";

const CAT008_DOC: &str = "\
Checks that every line of a configuration file parses the way its server parses it: a section
heading or junk line PgBouncer does not know (`*CONNECTION POOL SETTINGS*`), a key before any
section, a quoted database name before PgBouncer 1.25 (or a name with spaces or non-ASCII
characters), an unterminated quote, or a postgresql.conf line that is not `name = value`.

Why it matters: PgBouncer stops at the line: `ERROR syntax error in configuration
(pgbouncer.ini:4), stopping loading`, `ERROR invalid section \"foo\" in configuration`,
`load_init_file: value without section: max_client_conn`, each followed by `FATAL cannot load
config file`. PostgreSQL logs `syntax error in file \"…/50-poolstack.conf\" line 1, near token
\"GB\"` and does not start. In a hand-written file this is a finding, not an unusable input: the
rest of the file is still checked.

How to fix: correct the line as the message says — quote PostgreSQL values that are not plain
numbers or words (paths, `pg_catalog.english`, `'1.5GB'`), turn stray text into a comment (`;`
or `#` at the start of the line), write database names without quotes or declare PgBouncer
1.25.

Facts: ../reference/pgbouncer/facts.md §1 and §1a cases 21, 22, 23, 32, 47, 48, 49b;
../reference/postgres/conf-syntax.md \"Line grammar\" and its consequences.";
