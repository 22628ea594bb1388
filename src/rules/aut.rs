//! AUT — authentication and secrets.

mod salt;

use super::fil::{file_label, file_place};
use super::{Context, FileRole, Rule};
use crate::auth::SecretKind;
use crate::diag::{Diagnostic, Severity};
use crate::formats::userlist::BrokenReason;
use crate::manifest::{AuthType, PasswordEncryption, PasswordSource};
use crate::source::Loc;
use crate::stack::{Origin, Setting, Stack, User};

pub const RULES: &[Rule] = &[
    Rule {
        code: "AUT001",
        name: "plaintext-secret-in-manifest",
        severity: Severity::Error,
        summary: "A password is written in the manifest instead of coming from env, a file or a prompt",
        doc: AUT001_DOC,
        check: Some(plaintext_secret_in_manifest),
    },
    Rule {
        code: "AUT002",
        name: "secret-type-mismatch",
        severity: Severity::Error,
        summary: "A userlist secret cannot work with auth_type or with how PostgreSQL stores the role's password",
        doc: AUT002_DOC,
        check: Some(secret_type_mismatch),
    },
    Rule {
        code: "AUT003",
        name: "md5-deprecated",
        severity: Severity::Warning,
        summary: "md5 authentication or password storage on PostgreSQL 14+ (deprecated in 18)",
        doc: AUT003_DOC,
        check: Some(md5_deprecated),
    },
    Rule {
        code: "AUT004",
        name: "secret-file-permissions",
        severity: Severity::Error,
        summary: "userlist.txt, roles.sql or a password file is readable or writable by others (world)",
        doc: AUT004_DOC,
        check: Some(secret_file_permissions),
    },
    Rule {
        code: "AUT005",
        name: "console-user-missing",
        severity: Severity::Error,
        summary: "admin_users or stats_users names a user that is not in the userlist",
        doc: AUT005_DOC,
        check: Some(console_user_missing),
    },
    Rule {
        code: "AUT006",
        name: "trust-on-network",
        severity: Severity::Error,
        summary: "auth_type trust/any while PgBouncer listens beyond localhost",
        doc: AUT006_DOC,
        check: Some(trust_on_network),
    },
    Rule {
        code: "AUT007",
        name: "userlist-format",
        severity: Severity::Error,
        summary: "userlist.txt has a `#` line, an unparsable entry, or an md5 hash PgBouncer reads as plaintext",
        doc: AUT007_DOC,
        check: Some(userlist_format),
    },
    Rule {
        code: "AUT008",
        name: "secrets-in-git",
        severity: Severity::Warning,
        summary: "A file holding secrets or verifiers is in a git work tree and not ignored",
        doc: AUT008_DOC,
        check: Some(secrets_in_git),
    },
    Rule {
        code: "AUT009",
        name: "plaintext-userlist-entry",
        severity: Severity::Warning,
        summary: "A hand-written userlist.txt holds a plaintext password a user does not need",
        doc: AUT009_DOC,
        check: Some(plaintext_userlist_entry),
    },
    Rule {
        code: "AUT010",
        name: "scram-salt-unknown",
        severity: Severity::Error,
        summary: "A SCRAM userlist entry for a role managed elsewhere whose stored verifier (salt) is not known",
        doc: salt::AUT010_DOC,
        check: Some(salt::scram_salt_unknown),
    },
];

const AUT001_DOC: &str = "\
What it checks: a `[[users]]` entry whose password is a string written in the manifest
(`password = \"secret\"`).

Why it matters: the manifest is meant to be committed and shared; a password in it ends up in
git history, CI logs and every copy of the repository. poolstack never prints it, but everyone who
reads the file can log in as that role.

How to fix: take the password from the environment, a file or a prompt:
`password = { env = \"APP_PASSWORD\" }`, `password = { file = \"secrets/app\" }` (mode 0600, ignored
by git) or `password = { prompt = true }`, and change the password, since it has been exposed.

Facts: docs/product.md (\"A password value written in the manifest is AUT001\").";

const AUT002_DOC: &str = "\
What it checks: for every user, the secret type userlist.txt holds (userlist_hash, or `auto`:
the role storage's type, plaintext for forced `user=` pools) against PgBouncer's auth_type and
against how PostgreSQL stores the role's password — as roles.sql writes it for `role = true`, per
password_encryption (the version's default when not set: scram-sha-256 from 14, md5 before) for
`role = false`, as read from a roles.sql or by `doctor` where those are the input. The PgBouncer
cases below were run on PgBouncer 1.18 and PostgreSQL 15:
- an md5 entry with auth_type = scram-sha-256: PgBouncer cannot run SCRAM with an md5 secret; the
  client gets `SASL authentication failed` (PgBouncer logs
  `SCRAM authentication failed: user has MD5 secret`);
- an md5 entry for a role stored as SCRAM: PgBouncer cannot answer the server's SCRAM challenge
  with an md5 hash; clients get `server login failed: wrong password type`. The MT5 seed document
  makes this mistake: generate_userlist.sh writes md5 hashes, while the postgres image on
  PostgreSQL 14+ stores the role's password as SCRAM;
- a SCRAM entry for a role stored as md5: `server login failed: wrong password type`;
- a SCRAM entry for the forced user of a `[databases]` entry (`user=`): PgBouncer can log in with a
  SCRAM secret only after a client logged in as that user with SCRAM in the same process, so the
  pool fails (`server login failed: wrong password type`; log `password is SCRAM secret but client
  authentication did not provide SCRAM keys`) until then — forced users need a plaintext secret;
- a SCRAM entry with auth_type plain, trust or any: no client logs in with SCRAM, so PgBouncer
  never has the keys for the server login: `server login failed: wrong password type`;
- md5 storage under a pg_hba method (hba_method) of scram-sha-256: PostgreSQL accepts only SCRAM
  secrets there and refuses the login (`password authentication failed for user \"…\"`). This
  case is PostgreSQL's documented pg_hba behaviour; the runs above used the md5 method, under which
  SCRAM-stored roles still log in with SCRAM.
A SCRAM entry whose salt differs from the stored verifier also fails (`password authentication
failed for user \"…\"` from the server); that needs the stored verifier itself, so it is reported
only where it is known (a roles.sql read as input, or `doctor`, LIV004) — not from a manifest.
A role managed elsewhere (`role = false`) and stored as SCRAM therefore needs either the very
verifier PostgreSQL holds (copied, as etc/mkauth.py does), a plaintext entry, or `role = true` so
that roles.sql stores the same verifier userlist.txt holds.

How to fix: `userlist_hash = \"auto\"` with auth_type = \"scram-sha-256\" and SCRAM storage
(`role = true`, password_encryption = \"scram-sha-256\"); plaintext (`auto` does this) for forced
users.

Facts: reference/pgbouncer/facts.md §4 (which auth_type accepts which secret; server-side login
with a userlist secret) and §4a (the [RUN] matrix, forced users, client error texts).";

const AUT003_DOC: &str = "\
What it checks: with PostgreSQL 14 or later, PgBouncer auth_type = md5, md5 secrets in
userlist.txt, or password_encryption = md5.

Why it matters: scram-sha-256 is PostgreSQL's default from 14. An md5 hash is
password-equivalent — whoever reads userlist.txt or pg_authid can log in without knowing the
password — and md5 is weak against offline guessing. PostgreSQL 18 deprecates md5 passwords:
CREATE/ALTER ROLE with one emits a warning (md5_password_warnings), and a future major release
removes them, at which point every md5-stored role stops logging in.

How to fix: auth_type = \"scram-sha-256\" (poolstack's default), password_encryption =
\"scram-sha-256\" (the default from 14), userlist_hash = \"auto\", and set each password again so
that it is stored as SCRAM (roles.sql does this for `role = true`).

Facts: reference/postgres/guc-versions.md (password_encryption default md5 → scram-sha-256 in 14;
md5_password_warnings and the deprecation in 18); reference/pgbouncer/facts.md §7 item 5.";

const AUT004_DOC: &str = "\
What it checks: userlist.txt, roles.sql, or a user's password file on disk with a mode that lets
others (world) read or write it. Group access is allowed: it is the pooler's own (Debian installs
/etc/pgbouncer/userlist.txt as postgres:postgres 0640, and PgBouncer runs as postgres).

Why it matters: md5 and SCRAM verifiers are as good as the password for logging in through
PgBouncer (an md5 hash is password-equivalent to PostgreSQL too), and password files hold the
password itself. Any local account or container sharing the volume can read them.

How to fix: `chmod o-rwx FILE`. poolstack writes a new secret file with mode 0600 and keeps an
existing one's owner, group and mode, removing only access for others (it says so when it does).

Facts: docs/product.md (userlist.txt and roles.sql: 0600 when new, world access removed);
reference/pgbouncer/facts.md §4 (md5 formula: the hash is all a client needs).";

const AUT005_DOC: &str = "\
What it checks: every name in PgBouncer's admin_users and stats_users has an entry in the userlist
that PgBouncer actually loads (entries after a `#` line are not loaded, see AUT007). Under
auth_type pam, ldap or cert the userlist is not used for logins and the rule is silent.

Why it matters: the admin console (`psql -p 6432 -U admin pgbouncer`, used for SHOW POOLS, RELOAD,
PAUSE) authenticates against the userlist like any database. A console user without an entry
cannot log in: `password authentication failed`, or `\"trust\" authentication failed` under trust,
which still requires the user to exist.

How to fix: add a userlist entry for the user (`[[users]]` with admin/stats = true does both), or
remove it from admin_users/stats_users.

Facts: reference/pgbouncer/facts.md §4a (admin console, client error texts: unknown user under md5
and trust).";

const AUT006_DOC: &str = "\
What it checks: auth_type trust or any while listen_addr contains anything other than localhost,
a loopback address, or nothing (unix socket only). poolstack's default listen_addr is `*`.

Why it matters: trust accepts any password, and any also ignores the user name; PgBouncer then
logs in to PostgreSQL with the userlist's secret. Everyone who can reach the port is a database
user — including the admin console for admin_users.

How to fix: auth_type = \"scram-sha-256\"; or, if trust is intended for a local sidecar,
listen_addr = \"127.0.0.1\" (or \"\" for the unix socket only).

Facts: reference/pgbouncer/facts.md §2 (auth_type, listen_addr) and §4a (under trust, any password
is accepted).";

const AUT007_DOC: &str = "\
What it checks: a hand-written userlist.txt as PgBouncer reads it:
- a line starting with `#`: only `;` starts a comment; PgBouncer logs `broken auth file` and stops
  reading, so every later user is silently missing (their logins fail with
  `password authentication failed`);
- an entry that does not parse: a line not starting with `\"`, an unterminated quote, a user name
  with no secret after it (PgBouncer then takes the next line's user as the secret, and that user
  is lost), a field too long (`username too long in auth file` / `password too long in auth
  file`), a NUL byte or a byte order mark;
- an md5 hash with uppercase hex digits: PgBouncer recognises md5 only as `md5` + 32 lowercase hex
  digits, takes anything else as the plaintext password, and the login fails;
- 32 hex digits without the `md5` prefix: taken as a plaintext password (a random hex password
  looks the same: if it really is one, prefer a SCRAM verifier, see AUT009).
A userlist that poolstack renders never has these problems.

How to fix: comment with `;` (`; poolstack: ignore CODE reason` for suppressions), write one
`\"user\" \"secret\"` entry per line, lowercase md5 hashes, and prefix md5 hashes with `md5`.

Facts: reference/pgbouncer/facts.md §4 (parser: comments, quoting, secret detection, limits) and
§4a (userlist edge cases [RUN]); §7 item 5.";

const AUT008_DOC: &str = "\
What it checks: userlist.txt, roles.sql or a user's password file inside a git work tree and not
ignored by it. (The .env files poolstack renders hold only `${VAR}` references, never a password.)

Why it matters: the next `git add -A` publishes password-equivalent verifiers (or the password
itself) to everyone with access to the repository, forever — history keeps them after the file is
deleted.

How to fix: add the file to .gitignore; if it was ever committed, `git rm --cached FILE` and change
the passwords.

Facts: reference/pgbouncer/facts.md §4 (md5 verifiers are password-equivalent); docs/product.md
(secrets never appear in output).";

const AUT009_DOC: &str = "\
What it checks: a plaintext password in a hand-written userlist.txt, except for users that a
`[databases]` entry forces (`user=`), which need one.

Why it matters: whoever reads the file has the password itself, which often works beyond this
database. A verifier is enough for client logins under md5 and scram-sha-256. Forced users are
the exception: PgBouncer can log in to the server with a SCRAM secret only after that user
logged in with SCRAM itself, so forced users need plaintext (or `password=` in the connection
string).

How to fix: replace the entry with the role's SCRAM verifier, byte-identical to the one PostgreSQL
stores (copied as etc/mkauth.py does, or written together with roles.sql by `poolstack userlist`
/ `render`).

Facts: reference/pgbouncer/facts.md §4 (secret detection, server-side login with a userlist
secret) and §4a (forced_user_db_entry); §8 (\"warn on plaintext\").";

fn first_loc(candidates: &[Option<&Loc>]) -> Option<Loc> {
    candidates.iter().flatten().next().map(|l| (*l).clone())
}

fn plaintext_secret_in_manifest(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for user in &cx.stack.users {
        let Some(pw) = &user.password else {
            continue;
        };
        if !matches!(pw.value, PasswordSource::Literal(_)) {
            continue;
        }
        let var = format!(
            "{}_PASSWORD",
            user.name
                .value
                .to_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        out.push(
            Diagnostic::new(
                "AUT001",
                Severity::Error,
                format!(
                    "the password of user `{}` is written in the manifest ({}): everyone who reads the file or its history can log in as `{}`",
                    user.name.value,
                    pw.origin.describe(&cx.stack.sources),
                    user.name.value
                ),
            )
            .at(pw.loc().cloned())
            .help(format!(
                "write password = {{ env = \"{var}\" }} (or {{ file = \"…\" }}, {{ prompt = true }}), and change the password: it has been exposed"
            )),
        );
    }
}

/// Where a user's userlist secret type comes from: `from stack.toml:41`, or the derivation.
fn userlist_text(stack: &Stack, user: &User) -> String {
    format!(
        "from {}",
        user.userlist_secret.origin.describe(&stack.sources)
    )
}

/// `PostgreSQL 16 stores the role's password as scram-sha-256 (why)`.
fn stored_text(stack: &Stack, stored: &Setting<SecretKind>) -> String {
    let pg = &stack.postgres;
    let why = match &stored.origin {
        Origin::Derived { formula, .. } => {
            let pe = &pg.password_encryption;
            match &pe.origin {
                Origin::Default(reason) => format!("{formula}, by default: {reason}"),
                other => format!("{formula}, set at {}", other.describe(&stack.sources)),
            }
        }
        other => other.describe(&stack.sources),
    };
    let server = pg
        .major()
        .map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}"));
    format!(
        "{server} stores the role's password as {} ({why})",
        stored.value
    )
}

/// AUT002's fix for a hand-written userlist whose entry must become the role's verifier.
const FILE_HELP_SCRAM_VERIFIER: &str = "replace the entry with the role's SCRAM verifier, byte-identical to the one PostgreSQL stores (SELECT rolpassword FROM pg_authid, as etc/mkauth.py copies it), or with the plaintext password; `poolstack userlist --hash scram-sha-256` writes one";

fn secret_type_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let auth = &pgb.auth_type;
    let auth_text = format!(
        "auth_type = {} ({})",
        auth.value.as_str(),
        auth.origin.describe(&stack.sources)
    );
    // Hand-written files: the fix is in userlist.txt and pgbouncer.ini, not in a manifest.
    let files = stack.manifest_path.is_none();
    let hba_scram = stack
        .postgres
        .hba_method
        .as_ref()
        .filter(|h| h.value.trim().eq_ignore_ascii_case("scram-sha-256"));
    for user in &stack.users {
        let name = &user.name.value;
        let listed = user.userlist_secret.value;
        // Unknown for hand-written files: the comparisons with the role's storage stay silent.
        let stored = user.stored_secret.as_ref().map(|s| s.value);
        let listed_loc = user.userlist_secret.loc();
        let stored_loc = user.stored_secret.as_ref().and_then(|s| s.loc());
        // Worded only for a finding: most of 10,000 users have none.
        let role_note = || {
            if user.role.value {
                format!(
                    "set role = true ({}) so that roles.sql stores the same verifier userlist.txt holds",
                    user.role.origin.describe(&stack.sources)
                )
            } else {
                "set role = true for `NAME` so that roles.sql stores the same SCRAM verifier userlist.txt holds".replace("NAME", name)
            }
        };
        let mut push = |message: String,
                        primary: Option<Loc>,
                        help: String,
                        related: Vec<(Option<&Loc>, String)>| {
            let mut d = Diagnostic::new("AUT002", Severity::Error, message)
                .at(primary)
                .help(help);
            for (loc, msg) in related {
                if loc.is_some() && loc != d.primary.as_ref() {
                    d = d.related(loc.cloned(), msg);
                }
            }
            out.push(d);
        };
        if listed == SecretKind::Md5 && auth.value == AuthType::ScramSha256 {
            push(
                format!(
                    "user `{name}` has an md5 secret in userlist.txt ({}) but {auth_text}: PgBouncer cannot run SCRAM with an md5 secret, and the client gets `SASL authentication failed` (PgBouncer logs `SCRAM authentication failed: user has MD5 secret`)",
                    userlist_text(stack, user)
                ),
                first_loc(&[listed_loc, auth.loc()]),
                if files {
                    FILE_HELP_SCRAM_VERIFIER.to_string()
                } else if stored == Some(SecretKind::ScramSha256) {
                    format!(
                        "set userlist_hash = \"auto\" (SCRAM, the role's storage type) and {}",
                        role_note()
                    )
                } else {
                    "store the role as SCRAM (password_encryption = \"scram-sha-256\", then set the password again) and set userlist_hash = \"auto\"".to_string()
                },
                vec![(auth.loc(), "auth_type = scram-sha-256 set here".to_string())],
            );
        }
        if listed == SecretKind::Md5
            && let Some(stored_setting) = user
                .stored_secret
                .as_ref()
                .filter(|s| s.value == SecretKind::ScramSha256)
        {
            push(
                format!(
                    "user `{name}` has an md5 secret in userlist.txt ({}), but {}: PgBouncer cannot answer the server's SCRAM challenge with an md5 hash, and clients get `server login failed: wrong password type`",
                    userlist_text(stack, user),
                    stored_text(stack, stored_setting)
                ),
                first_loc(&[listed_loc, stored_loc, user.role.loc()]),
                if files {
                    FILE_HELP_SCRAM_VERIFIER.to_string()
                } else {
                    format!(
                        "set userlist_hash = \"auto\" (a SCRAM verifier) and {}; or userlist_hash = \"plain\"",
                        role_note()
                    )
                },
                vec![
                    (user.role.loc(), format!("role = {} here", user.role.value)),
                    (
                        stored_loc,
                        "the role's storage type comes from here".to_string(),
                    ),
                ],
            );
        }
        if listed == SecretKind::ScramSha256
            && let Some(stored_setting) = user
                .stored_secret
                .as_ref()
                .filter(|s| s.value == SecretKind::Md5)
        {
            push(
                format!(
                    "user `{name}` has a SCRAM secret in userlist.txt ({}), but {}: PgBouncer cannot log in to an md5-stored role with a SCRAM secret, and clients get `server login failed: wrong password type`",
                    userlist_text(stack, user),
                    stored_text(stack, stored_setting)
                ),
                first_loc(&[listed_loc, stored_loc]),
                if files {
                    "store the role as SCRAM: with password_encryption = scram-sha-256, set its password again (ALTER ROLE … PASSWORD), then copy the new verifier into userlist.txt byte for byte".to_string()
                } else {
                    "store the role as SCRAM: password_encryption = \"scram-sha-256\" (then set the password again; roles.sql does for role = true), keeping userlist_hash = \"auto\"".to_string()
                },
                vec![(
                    stored_loc,
                    "the role's storage type comes from here".to_string(),
                )],
            );
        }
        if listed == SecretKind::ScramSha256 {
            for db in &stack.databases {
                let Some(forced) = db.forced_user.as_ref().filter(|f| &f.value == name) else {
                    continue;
                };
                push(
                    format!(
                        "user `{name}` is the forced user of database `{}` (user = {}, {}) but has a SCRAM secret in userlist.txt ({}): PgBouncer can log in with a SCRAM secret only after a client logged in as `{name}` with SCRAM in the same process, so the pool fails with `server login failed: wrong password type` (log: `password is SCRAM secret but client authentication did not provide SCRAM keys`)",
                        db.name.value,
                        forced.value,
                        forced.origin.describe(&stack.sources),
                        userlist_text(stack, user)
                    ),
                    first_loc(&[listed_loc, forced.loc()]),
                    if files {
                        "give the forced user its plaintext password in userlist.txt, or password= in its [databases] entry".to_string()
                    } else {
                        "set userlist_hash = \"auto\" (plaintext for forced users) or \"plain\""
                            .to_string()
                    },
                    vec![(
                        forced.loc(),
                        format!("database `{}` forces user `{name}` here", db.name.value),
                    )],
                );
            }
            if matches!(
                auth.value,
                AuthType::Plain | AuthType::Trust | AuthType::Any
            ) {
                push(
                    format!(
                        "user `{name}` has a SCRAM secret in userlist.txt ({}) but {auth_text}: no client logs in with SCRAM, so PgBouncer never gets the keys it needs to log in to the server with that secret: `server login failed: wrong password type`",
                        userlist_text(stack, user)
                    ),
                    first_loc(&[listed_loc, auth.loc()]),
                    if files {
                        "set auth_type = scram-sha-256 in pgbouncer.ini, or give the user its plaintext password in userlist.txt".to_string()
                    } else {
                        "set auth_type = \"scram-sha-256\", or userlist_hash = \"plain\""
                            .to_string()
                    },
                    vec![(
                        auth.loc(),
                        format!("auth_type = {} set here", auth.value.as_str()),
                    )],
                );
            }
        }
        if let Some(stored_setting) = user
            .stored_secret
            .as_ref()
            .filter(|s| s.value == SecretKind::Md5)
            && let Some(hba) = hba_scram
        {
            push(
                format!(
                    "for role `{name}`, {}, but hba_method = {} ({}): PostgreSQL accepts only SCRAM secrets under scram-sha-256 and refuses PgBouncer's login with `password authentication failed for user \"{name}\"`",
                    stored_text(stack, stored_setting),
                    hba.value,
                    hba.origin.describe(&stack.sources)
                ),
                first_loc(&[stored_loc, hba.loc()]),
                "set password_encryption = \"scram-sha-256\" and set the password again (roles.sql does for role = true); or hba_method = \"md5\", which also accepts SCRAM-stored roles".to_string(),
                vec![(hba.loc(), "hba_method = scram-sha-256 set here".to_string())],
            );
        }
    }
}

fn md5_deprecated(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    // Without a declared major this stays silent: md5 is PostgreSQL's default before 14.
    let Some(version) = stack.postgres.major() else {
        return;
    };
    if version < 14 {
        return;
    }
    let why = if version >= 18 {
        format!(
            "PostgreSQL {version} deprecates md5 passwords — CREATE/ALTER ROLE with one warns (md5_password_warnings) and a future major release removes them, locking out every md5-stored role"
        )
    } else {
        format!(
            "scram-sha-256 is PostgreSQL's default from 14 (here {version}); an md5 hash is password-equivalent and weak against offline guessing, and PostgreSQL 18 deprecates it"
        )
    };
    // (where, what, how to fix), in order; a place is reported once.
    let mut found: Vec<(Option<Loc>, String, &str)> = Vec::new();
    let files = stack.manifest_path.is_none();
    let pe = &stack.postgres.password_encryption;
    if pe.value == PasswordEncryption::Md5 {
        found.push((
            pe.loc().cloned(),
            format!(
                "password_encryption = md5 ({})",
                pe.origin.describe(&stack.sources)
            ),
            "set password_encryption = \"scram-sha-256\" (the default from 14) and set each password again",
        ));
    }
    if let Some(pgb) = &stack.pgbouncer {
        if pgb.auth_type.value == AuthType::Md5 {
            found.push((
                pgb.auth_type.loc().cloned(),
                format!(
                    "PgBouncer auth_type = md5 ({})",
                    pgb.auth_type.origin.describe(&stack.sources)
                ),
                if files {
                    "set auth_type = scram-sha-256 in pgbouncer.ini (with SCRAM verifiers in userlist.txt)"
                } else {
                    "set auth_type = \"scram-sha-256\" (poolstack's default)"
                },
            ));
        }
        // md5 userlist secrets, grouped by where their type comes from.
        let mut groups: Vec<(Option<Loc>, String, Vec<&str>)> = Vec::new();
        for user in &stack.users {
            if user.userlist_secret.value != SecretKind::Md5 {
                continue;
            }
            let loc = user.userlist_secret.loc().cloned();
            match groups.iter_mut().find(|g| g.0 == loc && loc.is_some()) {
                Some(g) => g.2.push(&user.name.value),
                None => groups.push((
                    loc,
                    user.userlist_secret.origin.describe(&stack.sources),
                    vec![&user.name.value],
                )),
            }
        }
        if let Some(file) = &stack.userlist_file {
            for e in file.entries.iter().filter(|e| e.kind == SecretKind::Md5) {
                let loc = Some(e.secret_loc.clone());
                if !groups.iter().any(|g| g.0 == loc) {
                    let place = Origin::Imported(e.secret_loc.clone()).describe(&stack.sources);
                    groups.push((loc, place, vec![&e.user]));
                }
            }
        }
        for (loc, origin, users) in groups {
            if loc.is_some() && found.iter().any(|f| f.0 == loc) {
                continue;
            }
            let names: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
            found.push((
                loc,
                format!(
                    "userlist.txt holds md5 secrets for {} ({origin})",
                    names.join(", ")
                ),
                if files {
                    "use SCRAM secrets: the roles' own verifiers (SELECT rolpassword FROM pg_authid, with password_encryption = scram-sha-256); `poolstack userlist --hash scram-sha-256` writes them"
                } else {
                    "use SCRAM secrets: userlist_hash = \"auto\" with password_encryption = \"scram-sha-256\""
                },
            ));
        }
    }
    for (loc, what, help) in found {
        out.push(
            Diagnostic::new("AUT003", Severity::Warning, format!("{what}: {why}"))
                .at(loc)
                .help(help),
        );
    }
}

/// A hand-written .env whose DATABASE_URL carries a password value.
fn env_with_password(cx: &Context<'_>, fact: &super::FileFact) -> bool {
    fact.role == FileRole::Env
        && cx
            .stack
            .apps
            .iter()
            .any(|a| a.url.password_in_file && a.env_file.value == fact.path)
}

/// Secret-bearing file roles: userlist.txt, roles.sql, password files.
fn holds_secrets(role: FileRole) -> bool {
    matches!(
        role,
        FileRole::Userlist | FileRole::RolesSql | FileRole::PasswordFile
    )
}

fn secret_file_permissions(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for fact in cx.files.iter().filter(|f| holds_secrets(f.role)) {
        let Some(mode) = fact.mode else {
            continue;
        };
        let world: Vec<&str> = [(0o004, "read"), (0o002, "write")]
            .into_iter()
            .filter(|(bit, _)| mode & bit != 0)
            .map(|(_, what)| what)
            .collect();
        if world.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                "AUT004",
                Severity::Error,
                format!(
                    "{} has mode {:04o}: others (world) can {} it, and it holds password-equivalent secrets",
                    file_label(fact),
                    mode & 0o7777,
                    world.join(" and ")
                ),
            )
            .at(file_place(cx.stack, fact))
            .help(format!("chmod o-rwx {}", fact.path.display())),
        );
    }
}

fn console_user_missing(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    // Hand-written pgbouncer.ini without its userlist: who is in it is unknown.
    if !stack.coverage.users {
        return;
    }
    if matches!(
        pgb.auth_type.value,
        AuthType::Pam | AuthType::Ldap | AuthType::Cert
    ) {
        return;
    }
    let failure = if pgb.auth_type.value == AuthType::Trust {
        "`\"trust\" authentication failed`"
    } else {
        "`password authentication failed`"
    };
    let lists = [
        ("admin_users", &pgb.admin_users),
        ("stats_users", &pgb.stats_users),
    ];
    for (list, names) in lists {
        for name in names {
            let (known, lost_at) = match &stack.userlist_file {
                Some(file) => (
                    file.get(&name.value).is_some(),
                    file.broken
                        .as_ref()
                        .filter(|b| b.users_lost.contains(&name.value)),
                ),
                None => (stack.user(&name.value).is_some(), None),
            };
            if known {
                continue;
            }
            let why = match lost_at {
                Some(b) => format!(
                    "its userlist.txt entry comes after the line where PgBouncer stops reading ({})",
                    Origin::Imported(b.loc.clone()).describe(&stack.sources)
                ),
                None => "it has no userlist.txt entry".to_string(),
            };
            let mut d = Diagnostic::new(
                "AUT005",
                Severity::Error,
                format!(
                    "`{}` is listed in {list} ({}) but {why}: the admin console refuses it with {failure}",
                    name.value,
                    name.origin.describe(&stack.sources)
                ),
            )
            .at(name.loc().cloned())
            .help(if stack.manifest_path.is_some() {
                format!(
                    "add a userlist entry for `{}` (a [[users]] entry), or remove it from {list}",
                    name.value
                )
            } else {
                format!(
                    "add a userlist.txt entry for `{}`, or remove it from {list}",
                    name.value
                )
            });
            if let Some(b) = lost_at {
                d = d.related(Some(b.loc.clone()), "PgBouncer stops reading here");
            }
            out.push(d);
        }
    }
}

/// Whether a listen_addr item keeps PgBouncer on this machine.
fn is_local_address(item: &str) -> bool {
    let item = item.trim();
    item.is_empty()
        || item.eq_ignore_ascii_case("localhost")
        || item == "::1"
        || item.starts_with("127.")
}

fn trust_on_network(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    if !matches!(pgb.auth_type.value, AuthType::Trust | AuthType::Any) {
        return;
    }
    let addr = &pgb.listen_addr;
    if addr.value.split(',').all(is_local_address) {
        return;
    }
    out.push(
        Diagnostic::new(
            "AUT006",
            Severity::Error,
            format!(
                "auth_type = {} ({}) lets anyone log in without a valid password, and listen_addr = {} ({}) accepts connections from other machines on port {}",
                pgb.auth_type.value.as_str(),
                pgb.auth_type.origin.describe(&stack.sources),
                if addr.value.is_empty() { "\"\"" } else { addr.value.as_str() },
                addr.origin.describe(&stack.sources),
                pgb.listen_port.value
            ),
        )
        .at(first_loc(&[pgb.auth_type.loc(), addr.loc()]))
        .help("set auth_type = \"scram-sha-256\"; or, for a local sidecar, listen_addr = \"127.0.0.1\" (\"\" for the unix socket only)")
        .related(addr.loc().cloned(), "listen_addr set here"),
    );
}

fn userlist_format(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(file) = &stack.userlist_file else {
        return;
    };
    if let Some(b) = &file.broken {
        let lost = if b.users_lost.is_empty() {
            "every later entry is ignored".to_string()
        } else {
            let names: Vec<String> = b.users_lost.iter().map(|u| format!("`{u}`")).collect();
            format!(
                "{} never load{} and their logins fail",
                names.join(", "),
                if b.users_lost.len() == 1 { "s" } else { "" }
            )
        };
        let logged = match b.reason.pgbouncer_message() {
            Some(m) => format!("PgBouncer logs `{m}` and stops reading"),
            None => "PgBouncer stops reading silently".to_string(),
        };
        let help = match b.reason {
            BrokenReason::HashComment => {
                "start comment lines with ';' (`; poolstack: ignore CODE reason` for suppressions)"
            }
            BrokenReason::ByteOrderMark => "save the file as UTF-8 without a byte order mark",
            BrokenReason::NulByte => "remove the NUL byte",
            _ => "write each entry as \"user\" \"secret\" on one line",
        };
        out.push(
            Diagnostic::new(
                "AUT007",
                Severity::Error,
                format!("userlist.txt: {}: {logged}: {lost}", b.reason.describe()),
            )
            .at(Some(b.loc.clone()))
            .help(help),
        );
    }
    for e in &file.entries {
        if e.secret_on_later_line {
            out.push(
                Diagnostic::new(
                    "AUT007",
                    Severity::Error,
                    format!(
                        "userlist.txt: the entry for `{}` has no secret on its line: PgBouncer takes the next quoted field (the next line's user name) as its secret, and that user is lost",
                        e.user
                    ),
                )
                .at(Some(e.user_loc.clone()))
                .help("write each entry as \"user\" \"secret\" on one line"),
            );
        } else if e.uppercase_md5 {
            out.push(
                Diagnostic::new(
                    "AUT007",
                    Severity::Error,
                    format!(
                        "userlist.txt: the secret of `{}` looks like an md5 hash with uppercase letters: PgBouncer recognises md5 only as `md5` + 32 lowercase hex digits and takes this as a plaintext password, so logins fail with `password authentication failed`",
                        e.user
                    ),
                )
                .at(Some(e.secret_loc.clone()))
                .help("write the hash in lowercase, with a lowercase `md5` prefix"),
            );
        } else if e.unprefixed_md5 {
            out.push(
                Diagnostic::new(
                    "AUT007",
                    Severity::Error,
                    format!(
                        "userlist.txt: the secret of `{}` is 32 hex digits without the `md5` prefix: PgBouncer takes it as a plaintext password, so an md5 hash here makes logins fail with `password authentication failed`",
                        e.user
                    ),
                )
                .at(Some(e.secret_loc.clone()))
                .help("prefix an md5 hash with `md5` (md5 + hex(md5(password ‖ user))); if it really is a random hex password, use a SCRAM verifier instead"),
            );
        }
    }
}

fn secrets_in_git(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for fact in cx
        .files
        .iter()
        .filter(|f| f.tracked_by_git && (holds_secrets(f.role) || env_with_password(cx, f)))
    {
        out.push(
            Diagnostic::new(
                "AUT008",
                Severity::Warning,
                format!(
                    "{} holds password-equivalent secrets and is inside a git work tree without being ignored: the next commit publishes them",
                    file_label(fact),
                ),
            )
            .at(file_place(cx.stack, fact))
            .help(format!(
                "add {} to .gitignore (and `git rm --cached` it if it was committed, then change the passwords)",
                fact.path.display()
            )),
        );
    }
}

fn plaintext_userlist_entry(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(file) = &stack.userlist_file else {
        return;
    };
    let forced = |user: &str| {
        stack
            .databases
            .iter()
            .any(|db| db.forced_user.as_ref().is_some_and(|f| f.value == user))
    };
    for e in &file.entries {
        if e.kind != SecretKind::Plain
            || e.empty
            || e.uppercase_md5
            || e.unprefixed_md5
            || e.secret_on_later_line
            || forced(&e.user)
        {
            continue;
        }
        out.push(
            Diagnostic::new(
                "AUT009",
                Severity::Warning,
                format!(
                    "userlist.txt holds the plaintext password of `{}`: whoever reads the file has the password itself; only users forced by a [databases] `user=` need one",
                    e.user
                ),
            )
            .at(Some(e.secret_loc.clone()))
            .help(format!(
                "replace it with `{}`'s SCRAM verifier, byte-identical to the one PostgreSQL stores (poolstack userlist --hash scram-sha-256 writes it together with roles.sql)",
                e.user
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::userlist::Userlist;
    use crate::rules::FileFact;
    use crate::rules::testing::{self, HEALTHY, healthy_with};
    use crate::stack::Setting;
    use crate::stack::handwritten::HandUserlist;
    use std::path::{Path, PathBuf};

    /// 1-based line of the first line of `toml` starting with `key`.
    fn line_of(toml: &str, key: &str) -> usize {
        toml.lines()
            .position(|l| l.starts_with(key))
            .map_or(0, |i| i + 1)
    }

    /// HEALTHY with a hand-written userlist.txt holding `text`.
    fn with_userlist(text: &str) -> Stack {
        let mut stack = testing::stack(HEALTHY);
        let file = stack
            .sources
            .add(Path::new("userlist.txt"), text.to_string());
        let parsed = Userlist::parse(text);
        stack.userlist_file = Some(HandUserlist::from_parsed(file, &parsed, text));
        stack
    }

    const SCRAM: &str = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$9XNQe6oPDk1yGVC0NNEtE6Ga3XV5jyDdfA0Ikr6Td0s=:JCj/BtdyEd3x8mTj0ri7VHFqBEEiUhDgg2pQs1/iAuU=";

    #[test]
    fn healthy_is_silent() {
        for code in [
            "AUT001", "AUT002", "AUT003", "AUT004", "AUT005", "AUT006", "AUT007", "AUT008",
            "AUT009", "AUT010",
        ] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code} fired");
        }
    }

    #[test]
    fn aut001_literal_password() {
        let toml = healthy_with(
            "password = { env = \"APP_PASSWORD\" }",
            "password = \"hunter2\"",
        )
        .replacen(
            "pre_ping = true",
            "pre_ping = true\npassword_env = \"APP_PASSWORD\"",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        // It points at the value, which the source text shows starred out.
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"*******\"");
        assert!(d[0].message.contains("user `app`"));
        assert!(!d[0].message.contains("hunter2"), "never print the secret");
        assert!(d[0].help.as_deref().unwrap_or("").contains("APP_PASSWORD"));
    }

    // ---- AUT002, one test per case

    #[test]
    fn aut002_md5_entry_with_scram_auth_type() {
        // password_encryption md5 + auto: md5 userlist and md5 storage; auth_type scram (default).
        let toml = healthy_with(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"md5\"");
        assert!(
            d[0].message.contains("SASL authentication failed"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message
                .contains("auth_type = scram-sha-256 (poolstack's default")
        );
    }

    #[test]
    fn aut002_md5_entry_for_scram_stored_role() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"md5\"\nuserlist_hash = \"md5\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"md5\"");
        assert_eq!(
            testing::line(&stack, &d[0]),
            line_of(&toml, "userlist_hash")
        );
        let m = &d[0].message;
        assert!(
            m.contains("server login failed: wrong password type"),
            "{m}"
        );
        assert!(m.contains("as scram-sha-256"), "{m}");
        assert!(m.contains("PostgreSQL 16"), "{m}");
    }

    #[test]
    fn aut002_md5_entry_for_unmanaged_role_on_14_plus() {
        // The seed's mistake: md5 userlist in front of a role the image created (role = false).
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"md5\"\nuserlist_hash = \"md5\"",
        )
        .replacen(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false",
            1,
        );
        let d = testing::run("AUT002", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("role managed elsewhere"),
            "{}",
            d[0].message
        );
        assert!(d[0].help.as_deref().unwrap_or("").contains("role = true"));
    }

    #[test]
    fn aut002_scram_entry_for_md5_stored_role() {
        let toml = healthy_with(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"",
        )
        .replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nuserlist_hash = \"scram-sha-256\"",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"scram-sha-256\"");
        assert!(
            d[0].message.contains("stores the role's password as md5"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message
                .contains("server login failed: wrong password type")
        );
    }

    #[test]
    fn aut002_scram_entry_for_forced_user() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nuser = \"app\"\n\n[[users]]",
        )
        .replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nuserlist_hash = \"scram-sha-256\"",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"scram-sha-256\"");
        assert!(
            d[0].message.contains("forced user of database `app`"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("did not provide SCRAM keys"));
        assert_eq!(d[0].related.len(), 1);
    }

    #[test]
    fn aut002_forced_user_with_auto_is_plaintext_and_fine() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nuser = \"app\"\n\n[[users]]",
        );
        assert!(testing::run("AUT002", &toml).is_empty());
    }

    #[test]
    fn aut002_scram_entry_with_trust() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"trust\"\nlisten_addr = \"127.0.0.1\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"trust\"");
        assert!(
            d[0].message.contains("auth_type = trust (stack.toml:"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("wrong password type"));
    }

    #[test]
    fn aut002_scram_entry_with_plain() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"plain\"",
        );
        let d = testing::run("AUT002", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("auth_type = plain"));
    }

    #[test]
    fn aut002_md5_storage_under_scram_hba() {
        let toml = healthy_with(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"\nhba_method = \"scram-sha-256\"",
        )
        .replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"md5\"",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"md5\"");
        assert!(
            d[0].message
                .contains("hba_method = scram-sha-256 (stack.toml:"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message
                .contains("password authentication failed for user \"app\"")
        );
    }

    // ---- AUT003

    #[test]
    fn aut003_md5_auth_type_and_userlist() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"md5\"\nuserlist_hash = \"md5\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT003", &stack, &[]);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.severity == Severity::Warning));
        assert!(
            d[0].message.contains("auth_type = md5 (stack.toml:"),
            "{}",
            d[0].message
        );
        assert!(
            d[1].message.contains("md5 secrets for `app`"),
            "{}",
            d[1].message
        );
        assert!(d[1].message.contains("default from 14 (here 16)"));
        assert!(
            d.iter()
                .all(|d| testing::pointed_text(&stack, d) == "\"md5\"")
        );
    }

    #[test]
    fn aut003_password_encryption_md5_reported_once() {
        // userlist auto follows password_encryption: one finding, at password_encryption.
        let toml = healthy_with(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT003", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.starts_with("password_encryption = md5"));
    }

    #[test]
    fn aut003_stronger_on_18() {
        let toml = healthy_with("version = 16", "version = 18").replacen(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"",
            1,
        );
        let d = testing::run("AUT003", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("PostgreSQL 18 deprecates md5"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn aut003_silent_before_14() {
        let toml = healthy_with("version = 16", "version = 13").replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"md5\"",
            1,
        );
        assert!(testing::run("AUT003", &toml).is_empty());
    }

    // ---- AUT004 / AUT008

    fn fact(role: FileRole, path: &str, mode: u32, tracked: bool) -> FileFact {
        FileFact {
            path: PathBuf::from(path),
            role,
            mode: Some(mode),
            tracked_by_git: tracked,
            ..FileFact::default()
        }
    }

    #[test]
    fn aut004_world_readable_userlist() {
        let stack = testing::stack(HEALTHY);
        let files = [fact(
            FileRole::Userlist,
            "pgbouncer/userlist.txt",
            0o644,
            false,
        )];
        let d = testing::run_with_files("AUT004", &stack, &files);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert!(d[0].message.contains("mode 0644"), "{}", d[0].message);
        assert!(d[0].message.contains("others (world) can read it"));
        assert_eq!(
            d[0].help.as_deref(),
            Some("chmod o-rwx pgbouncer/userlist.txt")
        );
    }

    #[test]
    fn aut004_points_at_a_hand_written_file() {
        let mut stack = testing::stack(HEALTHY);
        stack
            .sources
            .add(Path::new("roles.sql"), "CREATE ROLE app;\n".to_string());
        let files = [fact(FileRole::RolesSql, "roles.sql", 0o602, false)];
        let d = testing::run_with_files("AUT004", &stack, &files);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::line(&stack, &d[0]), 1);
        assert!(
            d[0].message
                .contains("mode 0602: others (world) can write it,"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn aut004_silent_for_0600_group_access_and_other_files() {
        let stack = testing::stack(HEALTHY);
        let files = [
            fact(FileRole::Userlist, "userlist.txt", 0o600, false),
            // Debian's own userlist: postgres:postgres 0640 — the group is the pooler's.
            fact(
                FileRole::Userlist,
                "/etc/pgbouncer/userlist.txt",
                0o640,
                false,
            ),
            fact(FileRole::RolesSql, "roles.sql", 0o660, false),
            fact(FileRole::PgbouncerIni, "pgbouncer.ini", 0o644, false),
        ];
        assert!(testing::run_with_files("AUT004", &stack, &files).is_empty());
    }

    #[test]
    fn aut008_userlist_in_git() {
        let stack = testing::stack(HEALTHY);
        let files = [
            fact(FileRole::Userlist, "pgbouncer/userlist.txt", 0o600, true),
            fact(
                FileRole::PgbouncerIni,
                "pgbouncer/pgbouncer.ini",
                0o644,
                true,
            ),
        ];
        let d = testing::run_with_files("AUT008", &stack, &files);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert!(d[0].message.contains("pgbouncer/userlist.txt"));
        assert!(d[0].help.as_deref().unwrap_or("").contains(".gitignore"));
    }

    #[test]
    fn aut008_silent_when_ignored() {
        let stack = testing::stack(HEALTHY);
        let files = [fact(FileRole::Userlist, "userlist.txt", 0o600, false)];
        assert!(testing::run_with_files("AUT008", &stack, &files).is_empty());
    }

    // ---- AUT005

    #[test]
    fn aut005_admin_user_after_a_hash_line() {
        let mut stack = with_userlist(&format!(
            "\"app\" \"{SCRAM}\"\n# admins\n\"admin\" \"{SCRAM}\"\n"
        ));
        let text = "admin_users = admin\n".to_string();
        let file = stack.sources.add(Path::new("pgbouncer.ini"), text);
        if let Some(b) = stack.pgbouncer.as_mut() {
            b.admin_users.push(Setting::new(
                "admin".to_string(),
                Origin::Imported(Loc { file, span: 14..19 }),
            ));
        }
        let d = testing::run_with_files("AUT005", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "admin");
        assert!(
            d[0].message.contains("admin_users (pgbouncer.ini:1)"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("userlist.txt:2"), "{}", d[0].message);
        assert!(d[0].message.contains("password authentication failed"));
    }

    #[test]
    fn aut005_stats_user_not_in_users() {
        let mut stack = testing::stack(HEALTHY);
        let loc = stack.users[0].name.loc().cloned();
        if let Some(b) = stack.pgbouncer.as_mut() {
            b.stats_users.push(Setting::new(
                "monitor".to_string(),
                loc.map(Origin::Manifest).unwrap_or(Origin::Default("test")),
            ));
        }
        let d = testing::run_with_files("AUT005", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("`monitor` is listed in stats_users"));
    }

    // ---- AUT006

    #[test]
    fn aut006_trust_on_all_addresses() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"trust\"\nuserlist_hash = \"plain\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("AUT006", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"trust\"");
        assert!(
            d[0].message
                .contains("listen_addr = * (poolstack's default)"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("port 6432"));
    }

    #[test]
    fn aut006_silent_on_localhost() {
        let toml = healthy_with(
            "pool_mode = \"transaction\"",
            "pool_mode = \"transaction\"\nauth_type = \"trust\"\nuserlist_hash = \"plain\"\nlisten_addr = \"127.0.0.1,::1\"",
        );
        assert!(testing::run("AUT006", &toml).is_empty());
    }

    // ---- AUT007

    #[test]
    fn aut007_hash_comment_loses_later_users() {
        let stack = with_userlist(&format!(
            "\"app\" \"{SCRAM}\"\n# reporting users\n\"report\" \"{SCRAM}\"\n"
        ));
        let d = testing::run_with_files("AUT007", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::line(&stack, &d[0]), 2);
        assert!(
            d[0].message.contains("broken auth file"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message.contains("`report` never loads"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn aut007_uppercase_md5() {
        let stack = with_userlist("\"app\" \"md54E8E284407A8E714C4D7C4722E72AC3F\"\n");
        let d = testing::run_with_files("AUT007", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            testing::pointed_text(&stack, &d[0]),
            "md54E8E284407A8E714C4D7C4722E72AC3F"
        );
        assert!(d[0].message.contains("uppercase"));
    }

    #[test]
    fn aut007_unprefixed_md5() {
        let stack = with_userlist("\"app\" \"4e8e284407a8e714c4d7c4722e72ac3f\"\n");
        let d = testing::run_with_files("AUT007", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("without the `md5` prefix"));
    }

    #[test]
    fn aut007_entry_without_secret() {
        let stack = with_userlist(&format!("\"app\"\n\"report\" \"{SCRAM}\"\n"));
        let d = testing::run_with_files("AUT007", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::line(&stack, &d[0]), 1);
        assert!(
            d[0].message.contains("no secret on its line"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn aut007_silent_on_a_clean_file() {
        let stack = with_userlist(&format!("; users\n\"app\" \"{SCRAM}\"\n"));
        assert!(testing::run_with_files("AUT007", &stack, &[]).is_empty());
    }

    // ---- AUT009

    #[test]
    fn aut009_plaintext_entry() {
        let stack = with_userlist("\"app\" \"hunter2\"\n");
        let d = testing::run_with_files("AUT009", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "hunter2");
        assert!(d[0].message.contains("plaintext password of `app`"));
        assert!(!d[0].message.contains("hunter2"));
    }

    #[test]
    fn aut009_forced_user_may_have_plaintext() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nuser = \"app\"\n\n[[users]]",
        );
        let mut stack = testing::stack(&toml);
        let text = "\"app\" \"hunter2\"\n";
        let file = stack
            .sources
            .add(Path::new("userlist.txt"), text.to_string());
        stack.userlist_file = Some(HandUserlist::from_parsed(
            file,
            &Userlist::parse(text),
            text,
        ));
        assert!(testing::run_with_files("AUT009", &stack, &[]).is_empty());
    }
}
