//! `poolstack userlist`: create or update PgBouncer's auth_file — the replacement for
//! `generate_userlist.sh`. Merges into an existing file (other users and lines kept, in order),
//! keeps entries that still verify byte for byte, writes atomically with mode 0600, and never
//! prints a secret. A file PgBouncer would misread is reported, not rewritten.

use crate::auth::{self, SecretKind};
use crate::cli::{HashArg, UserlistArgs};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::userlist::{self, BrokenReason, Userlist};
use crate::fsutil::{self, Action, Links, PendingFile};
use crate::outcome::Outcome;
use crate::report::human;
use crate::secrets::{Need, Password, Secrets};
use crate::source::{Loc, SourceMap};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

mod from_postgres;
mod guards;

use guards::{check_sources, warn_unknown_salts};

/// Up to this many users, each gets its own line of output without --verbose.
const LIST_UP_TO: usize = 10;
/// The largest userlist read (PgBouncer's own limit per line is 2 KiB; 10,000 users fit in 25 MiB).
const USERLIST_LIMIT: u64 = 64 * 1024 * 1024;

/// One user to write: name, password, and the secret type wanted.
struct Wanted {
    user: String,
    /// `None` for a verifier copied from the server.
    password: Option<Password>,
    kind: SecretKind,
    /// The secret already chosen (copied from the server, or shared with render and roles.sql).
    chosen: Option<String>,
    /// A SCRAM entry whose salt PostgreSQL cannot know (AUT010): said on stderr.
    salt_unknown: bool,
}

pub fn run(
    args: &UserlistArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    color: bool,
) -> Result<Outcome, InputError> {
    check_sources(args)?;
    let existing_bytes = match crate::fsutil::read_bounded(&args.output, USERLIST_LIMIT) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(InputError::new(format!(
                "cannot read {}: {e}",
                args.output.display()
            )));
        }
    };
    let existing_text = existing_bytes
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let existing_bytes = existing_bytes.unwrap_or_default();
    let existing = Userlist::parse_bytes(&existing_bytes);

    // Lines PgBouncer would misread: report them, change nothing.
    let problems = misread_lines(&args.output, &existing_text, &existing);
    if !problems.is_empty() {
        let mut sources = SourceMap::default();
        let file = sources.add(&args.output, existing_text.clone());
        crate::stack::files::redact_userlist(&mut sources, file, &existing);
        for d in &problems {
            let _ = write!(err, "{}", human::render(d, &sources, color));
        }
        let _ = writeln!(
            err,
            "poolstack: {} has {} line{} PgBouncer would misread; fix {} by hand (nothing was written)",
            args.output.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            if problems.len() == 1 { "it" } else { "them" }
        );
        return Ok(Outcome::Refused);
    }

    let mut notes = Vec::new();
    let wanted = match &args.from_postgres {
        Some(url) => from_postgres::wanted(args, url, &mut notes),
        None => wanted_users(args, &existing),
    };
    // Said also when no entry can be written (e.g. a password file that was ignored).
    for n in &notes {
        let _ = writeln!(err, "poolstack: {n}");
    }
    let wanted = wanted?;
    let secrets = compute_secrets(&wanted, &existing)?;
    let (text, report) = merge(&existing_bytes, &existing, &wanted, &secrets);
    warn_unknown_salts(&wanted, &secrets, &existing, args.verbose, err);
    let written = fsutil::write_all(
        &[PendingFile {
            path: &args.output,
            contents: &text,
            secret: true,
        }],
        Links::Follow,
    )
    .map_err(|e| {
        InputError::new(format!("cannot write {}: {e}", args.output.display()))
            .with_help("nothing was changed")
    })?;
    // Each user's line for a handful of users (or --verbose); beyond that, the summary alone.
    if args.verbose || report.len() <= LIST_UP_TO {
        for line in &report {
            let _ = writeln!(out, "{line}");
        }
    }
    for w in &wanted {
        if let Some(n) = existing
            .get(&w.user)
            .and_then(|e| auth::unverifiable_iterations(&e.secret))
        {
            let _ = writeln!(out, "{}", unverified_note(&w.user, n));
        }
    }
    let count = |w: &str| report.iter().filter(|l| l.starts_with(w)).count();
    let (state, mode, write_notes) = match written.first() {
        Some(w) => (
            match w.action {
                Action::Created => "created",
                Action::Replaced => "updated",
                Action::Unchanged => "unchanged",
            },
            w.mode,
            w.notes.as_slice(),
        ),
        None => ("unchanged", 0o600, &[][..]),
    };
    let _ = writeln!(
        out,
        "poolstack: {} ({state}, mode {mode:04o}): {} added, {} updated, {} kept",
        args.output.display(),
        count("added"),
        count("updated"),
        count("kept")
    );
    for note in write_notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if args.from_postgres.is_some() {
        let _ = writeln!(
            out,
            "poolstack: these are the verifiers PostgreSQL stores; for a manifest's `role = false` users, add `verifier = {{ userlist = \"{}\" }}` (path relative to the manifest) so render keeps them byte for byte",
            args.output.display()
        );
    }
    Ok(Outcome::Success)
}

/// What is said of an existing verifier too costly to verify (it was replaced).
pub fn unverified_note(user: &str, iterations: i64) -> String {
    format!(
        "note: `{user}`: the existing SCRAM verifier was not verified: {iterations} iterations (poolstack verifies up to {}); it was replaced by a new one",
        auth::MAX_VERIFY_ITERATIONS
    )
}

/// AUT007-style findings for lines PgBouncer would read differently than their author meant.
fn misread_lines(path: &Path, text: &str, list: &Userlist) -> Vec<Diagnostic> {
    let file = crate::source::FileId(0);
    let _ = path;
    let mut out = Vec::new();
    if let Some(b) = &list.broken {
        let lost = list.users_lost_after_break(text);
        let lost = if lost.is_empty() {
            String::new()
        } else {
            format!("; PgBouncer never loads {}", lost.join(", "))
        };
        let help = match b.reason {
            BrokenReason::HashComment => {
                "PgBouncer's auth_file takes only `;` comments: write `;` instead of `#`"
            }
            _ => "each line must be `\"user\" \"secret\"` (a `\"` inside a field is doubled)",
        };
        out.push(
            Diagnostic::new(
                "AUT007",
                Severity::Error,
                format!("line {}: {}{lost}", b.line, b.reason.describe()),
            )
            .at(Some(Loc {
                file,
                span: b.span.clone(),
            }))
            .help(help),
        );
    }
    for e in &list.entries {
        let message = if auth::looks_like_uppercase_md5(&e.secret) {
            Some(
                "an md5 hash with uppercase hex (or an uppercase MD5 prefix) is taken as a plaintext password",
            )
        } else if auth::looks_like_unprefixed_md5(&e.secret) {
            Some("32 hex digits without the `md5` prefix are taken as a plaintext password")
        } else if e.secret_line != e.line {
            Some(
                "the secret starts on another line: PgBouncer pairs the user with the next line's text",
            )
        } else {
            None
        };
        if let Some(m) = message {
            out.push(
                Diagnostic::new("AUT007", Severity::Error, format!("`{}`: {m}", e.user))
                    .at(Some(Loc { file, span: e.secret_span.clone() }))
                    .help("rewrite the entry (`md5` + 32 lowercase hex digits), or remove it and let poolstack userlist write it"),
            );
        }
    }
    out
}

/// Each wanted user's secret, reusing the existing entry when it still verifies. SCRAM costs one
/// PBKDF2 run per user whether it verifies or creates, so the work is spread over every core.
fn compute_secrets(wanted: &[Wanted], existing: &Userlist) -> Result<Vec<String>, InputError> {
    // Last entry wins, as in PgBouncer; an index keeps 10,000-user files linear.
    let by_user: HashMap<&str, &str> = existing
        .entries
        .iter()
        .map(|e| (e.user.as_str(), e.secret.as_str()))
        .collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let heavy = wanted
        .iter()
        .any(|w| w.kind == SecretKind::ScramSha256 && w.chosen.is_none())
        || existing
            .entries
            .iter()
            .any(|e| e.kind() == SecretKind::ScramSha256);
    let one = |w: &Wanted| -> Result<String, InputError> {
        if let Some(chosen) = &w.chosen {
            return Ok(chosen.clone());
        }
        let previous = by_user.get(w.user.as_str()).copied();
        let password = w
            .password
            .as_ref()
            .map(Password::expose)
            .unwrap_or_default();
        auth::secret_for(w.kind, &w.user, password, previous)
            .map_err(|e| InputError::new(format!("cannot compute the secret of `{}`: {e}", w.user)))
    };
    if !heavy || threads == 1 || wanted.len() < 2 {
        return wanted.iter().map(one).collect();
    }
    let chunk = wanted.len().div_ceil(threads);
    let results: Vec<Result<Vec<String>, InputError>> = std::thread::scope(|s| {
        let handles: Vec<_> = wanted
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(InputError::new("a worker thread failed")))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(wanted.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// The new file, and a line per user: added / updated / kept. Lines it does not change are copied
/// byte for byte, whatever their encoding.
fn merge(
    bytes: &[u8],
    existing: &Userlist,
    wanted: &[Wanted],
    secrets: &[String],
) -> (Vec<u8>, Vec<String>) {
    let wanted_index: HashMap<&str, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, w)| (w.user.as_str(), i))
        .collect();
    // line → (wanted user, the entry's current secret)
    let mut replace: HashMap<usize, (usize, &str)> = HashMap::new();
    for e in &existing.entries {
        if let Some(&i) = wanted_index.get(e.user.as_str()) {
            replace.insert(e.line, (i, e.secret.as_str()));
        }
    }
    let present: HashSet<&str> = existing.entries.iter().map(|e| e.user.as_str()).collect();
    let mut report = Vec::new();
    let mut out = Vec::with_capacity(bytes.len() + wanted.len() * 48);
    for (n, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        match replace.get(&(n + 1)) {
            Some(&(i, old)) if old == secrets[i] => {
                out.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    out.push(b'\n');
                }
                report.push(format!("kept {}", wanted[i].user));
            }
            Some(&(i, _)) => {
                out.extend_from_slice(
                    userlist::format_entry(&wanted[i].user, &secrets[i]).as_bytes(),
                );
                report.push(format!(
                    "updated {} ({})",
                    wanted[i].user,
                    wanted[i].kind.as_str()
                ));
            }
            None => {
                out.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    out.push(b'\n');
                }
            }
        }
    }
    for (i, w) in wanted.iter().enumerate() {
        if !present.contains(w.user.as_str()) {
            out.extend_from_slice(userlist::format_entry(&w.user, &secrets[i]).as_bytes());
            report.push(format!("added {} ({})", w.user, w.kind.as_str()));
        }
    }
    report.dedup();
    (out, report)
}

fn hash_kind(h: HashArg) -> SecretKind {
    match h {
        HashArg::Md5 => SecretKind::Md5,
        HashArg::ScramSha256 => SecretKind::ScramSha256,
        HashArg::Plain => SecretKind::Plain,
    }
}

/// Who to write, from --manifest, --user or --batch. `existing` is the -o file: with
/// --manifest, an entry there that still verifies may be reused like render's own.
fn wanted_users(args: &UserlistArgs, existing: &Userlist) -> Result<Vec<Wanted>, InputError> {
    let default_kind = args.hash.map(hash_kind).unwrap_or(SecretKind::ScramSha256);
    let mut wanted = Vec::new();
    if let Some(path) = &args.manifest {
        let loaded = crate::manifest::load(path)?;
        let stack = crate::stack::resolve::resolve(&loaded, None)?;
        let secrets = Secrets::resolve(&stack, Need::All)?;
        let mut stack = stack;
        if let Some(h) = args.hash {
            for u in &mut stack.users {
                u.userlist_secret.value = hash_kind(h);
            }
        }
        // One salt per user: the same choice render makes, from the same files.
        let rendered = crate::render::Existing::read(&stack);
        let chosen = crate::render::verifiers::choose(&stack, &secrets, &rendered, Some(existing))?;
        if let Some((path, user)) = chosen.rejected.first() {
            return Err(InputError::new(format!(
                "the verifier of user `{user}` in {} does not accept the password the manifest gives: every login with that password would fail (AUT010)",
                path.display()
            ))
            .with_help("give the role's current password, or copy its current verifier again with `poolstack userlist --from-postgres URL --user NAME -o FILE`"));
        }
        for (u, c) in stack.users.iter().zip(chosen.secrets) {
            let Some(pw) = secrets.get(&u.name.value) else {
                continue;
            };
            let kind = u.userlist_secret.value;
            wanted.push(Wanted {
                user: u.name.value.clone(),
                password: Some(pw.clone()),
                kind,
                chosen: Some(c.userlist),
                salt_unknown: kind == SecretKind::ScramSha256
                    && !u.role.value
                    && u.verifier.is_none(),
            });
        }
    } else if let Some(user) = args.user.first() {
        let password = single_password(args, user)?;
        wanted.push(Wanted {
            user: user.clone(),
            password: Some(password),
            kind: default_kind,
            chosen: None,
            salt_unknown: false,
        });
    } else if let Some(batch) = &args.batch {
        for (user, password) in read_batch(batch)? {
            wanted.push(Wanted {
                user,
                password: Some(password),
                kind: default_kind,
                chosen: None,
                salt_unknown: false,
            });
        }
    }
    for w in &wanted {
        let password = w
            .password
            .as_ref()
            .map(Password::expose)
            .unwrap_or_default();
        if password.is_empty() {
            return Err(
                InputError::new(format!("the password of `{}` is empty", w.user))
                    .with_help("PgBouncer refuses empty passwords: every login would fail"),
            );
        }
        userlist::check_entry(&w.user, password).map_err(|p| {
            InputError::new(format!("cannot write `{}`: {p}", w.user.escape_debug()))
        })?;
    }
    Ok(wanted)
}

fn single_password(args: &UserlistArgs, user: &str) -> Result<Password, InputError> {
    if let Some(var) = &args.password_env {
        return match std::env::var(var) {
            Ok(v) => Ok(Password::new(v)),
            Err(_) => Err(InputError::new(format!("${var} is not set (or not UTF-8)"))
                .with_help(format!("set it for this command, e.g. `{var}=… poolstack userlist --user {user} --password-env {var}`"))),
        };
    }
    if let Some(path) = &args.password_file {
        return read_password_file(path).map(Password::new);
    }
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            InputError::new(format!("cannot read the password from standard input: {e}"))
        })?;
        return Ok(Password::new(
            line.trim_end_matches(['\n', '\r']).to_string(),
        ));
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            InputError::new("no terminal to type the password on").with_help(
                "give it with --password-env VAR, --password-file FILE or --password-stdin",
            ),
        );
    }
    let typed = rpassword::prompt_password(format!("Password for {user}: "))
        .map_err(|e| InputError::new(format!("cannot read the password: {e}")))?;
    Ok(Password::new(typed))
}

fn read_password_file(path: &Path) -> Result<String, InputError> {
    let bytes = crate::fsutil::read_bounded(path, 1024 * 1024).map_err(|e| {
        InputError::new(format!(
            "cannot read the password file {}: {e}",
            path.display()
        ))
    })?;
    let mut s = String::from_utf8(bytes).map_err(|_| {
        InputError::new(format!(
            "the password file {} is not UTF-8 text",
            path.display()
        ))
    })?;
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

/// `user<TAB>password` lines from a file or `-` (standard input).
fn read_batch(path: &Path) -> Result<Vec<(String, Password)>, InputError> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(USERLIST_LIMIT).read_to_string(&mut text))
    };
    read.map_err(|e| InputError::new(format!("cannot read the batch {}: {e}", path.display())))?;
    let mut out: Vec<(String, Password)> = Vec::new();
    // User → the line it was first given on.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let shown = match path == Path::new("-") {
        true => "standard input".to_string(),
        false => path.display().to_string(),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let Some((user, password)) = line.split_once('\t') else {
            return Err(InputError::new(format!(
                "{}:{}: expected `user<TAB>password`",
                path.display(),
                n + 1
            ))
            .with_help("separate the user name and the password with one tab"));
        };
        if user.is_empty() {
            return Err(InputError::new(format!(
                "{}:{}: empty user name",
                path.display(),
                n + 1
            )));
        }
        if let Some(&first) = seen.get(user) {
            return Err(InputError::new(format!(
                "{shown}:{}: user `{}` is given twice, on lines {first} and {}",
                n + 1,
                user.escape_debug(),
                n + 1
            ))
            .with_help(
                "keep one of the two lines: poolstack does not guess which password is meant",
            ));
        }
        seen.insert(user.to_string(), n + 1);
        out.push((user.to_string(), Password::new(password.to_string())));
    }
    if out.is_empty() {
        return Err(InputError::new(format!(
            "{} holds no `user<TAB>password` line",
            path.display()
        )));
    }
    Ok(out)
}
