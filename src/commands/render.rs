//! `poolstack render [MANIFEST] [--out DIR] [--check] [--force]`.

use super::Io;
use crate::auth::{self, SecretKind};
use crate::cli::{PlanFormat, RenderArgs};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::header::{self, HeaderState};
use crate::formats::userlist::Userlist;
use crate::fsutil::{self, Action, Links, PendingFile, WriteError};
use crate::outcome::Outcome;
use crate::render::existing::secret_types;
use crate::render::{self, Existing, ExpectedSecrets, FileKind, RenderPlan, RenderedFile};
use crate::report::{self, human};
use crate::rules::Summary;
use crate::secrets::{Need, Secrets};
use crate::source::display_path;
use crate::stack::{self, Stack};
use std::collections::BTreeMap;
use std::path::Path;

mod many;

pub fn run(args: &RenderArgs, io: &mut Io<'_>) -> Result<Outcome, InputError> {
    match &args.manifests[..] {
        [one] if !one.is_dir() => run_one(args, one, io),
        // Without --check, a directory stands for its stack.toml, as for `check`.
        [dir] if !args.check => run_one(args, &dir.join("stack.toml"), io),
        _ => many::run(args, io),
    }
}

/// Render (or with `--check` compare) the stack of one manifest.
fn run_one(args: &RenderArgs, manifest: &Path, io: &mut Io<'_>) -> Result<Outcome, InputError> {
    let loaded = crate::manifest::load(manifest)?;
    let stack = stack::resolve::resolve(&loaded, args.out.as_deref())?;
    let need = if args.check {
        Need::IfAvailable
    } else {
        Need::All
    };
    let secrets = Secrets::resolve(&stack, need)?;
    let existing = Existing::read(&stack);
    let plan = render::plan(&stack, &secrets, &existing)?;
    for t in &plan.refused_targets {
        let _ = writeln!(
            io.err,
            "poolstack: deploy target {} is not written: it refuses a setting of this stack (DEP002; `poolstack check` shows which)",
            t.as_str()
        );
    }

    // Never write (or call clean) a file the target would refuse.
    let blocking: Vec<&Diagnostic> = stack
        .findings
        .iter()
        .filter(|d| d.code.starts_with("CAT") && d.severity == Severity::Error)
        .collect();
    let json = args.format == PlanFormat::Json;
    if !blocking.is_empty() {
        for d in &blocking {
            let _ = write!(io.err, "{}", human::render(d, &stack.sources, io.color));
        }
        if json {
            let owned: Vec<Diagnostic> = blocking.iter().map(|d| (*d).clone()).collect();
            refused_json(&owned, &stack.sources, manifest, "", io);
        }
        let _ = writeln!(
            io.err,
            "poolstack: refusing to render: {} error{} in settings the target would reject; nothing was written",
            blocking.len(),
            plural(blocking.len())
        );
        return Ok(Outcome::Refused);
    }

    // Read back what was built, as the servers would (a template override can break a file).
    let verified = render::verify::verify(&stack, &plan)?;
    let errors: Vec<&Diagnostic> = verified.errors().collect();
    if !errors.is_empty() {
        for d in &errors {
            let _ = write!(io.err, "{}", human::render(d, &verified.sources, io.color));
        }
        if json {
            let owned: Vec<Diagnostic> = errors.iter().map(|d| (*d).clone()).collect();
            refused_json(&owned, &verified.sources, manifest, "", io);
        }
        let _ = writeln!(
            io.err,
            "poolstack: refusing to render: {} error{} in the files it built (the server would refuse them); nothing was written",
            errors.len(),
            plural(errors.len())
        );
        return Ok(Outcome::Refused);
    }

    // The read-back's warnings join the stack's findings (render's one-line count).
    let mut stack = stack;
    verified.merge_into(&mut stack);
    // How each change takes effect: read what is on disk before anything is written.
    let apply = crate::plan::build(&stack, &plan);
    let deploy_changes = changed_deploy_targets(&plan);
    let outcome = if json {
        // stdout is the plan alone: what would go there goes to stderr, in the order written.
        let merged = Merged::default();
        let (mut out, mut err) = (merged.clone(), merged.clone());
        let mut inner = Io {
            out: &mut out,
            err: &mut err,
            color: io.color,
        };
        let outcome = if args.check {
            Ok(check(&plan, &secrets, &mut inner))
        } else {
            write(&stack, &plan, &existing, args.force, &mut inner)
        };
        let _ = io.err.write_all(&merged.0.borrow());
        if let Ok(Outcome::Refused) = outcome {
            let said = String::from_utf8_lossy(&merged.0.borrow()).into_owned();
            refused_json(&[], &stack.sources, manifest, &said, io);
        }
        outcome
    } else if args.check {
        Ok(check(&plan, &secrets, io))
    } else {
        write(&stack, &plan, &existing, args.force, io)
    };
    let outcome = outcome?;
    if outcome != Outcome::Refused {
        show_plan(&apply, json, io);
        if !json && !args.check && outcome == Outcome::Success {
            show_deploy_steps(&stack, &deploy_changes, io);
        }
    }
    Ok(outcome)
}

/// `--format json` when render refuses: stdout is still one JSON document — the plan's keys
/// (empty: nothing is applied), `"refused": true`, the findings that refuse (as `check --format
/// json` writes them) and what render said on stderr, line by line.
fn refused_json(
    diags: &[Diagnostic],
    sources: &crate::source::SourceMap,
    manifest: &Path,
    said: &str,
    io: &mut Io<'_>,
) {
    let report = report::Report::new(diags, sources, Some(display_path(manifest)));
    let mut doc = report::json::value(&report);
    doc["refused"] = serde_json::json!(true);
    doc["changes"] = serde_json::json!([]);
    doc["steps"] = serde_json::json!([]);
    doc["messages"] = said
        .lines()
        .filter_map(|l| l.strip_prefix("poolstack: "))
        .collect::<Vec<_>>()
        .into();
    let _ = writeln!(
        io.out,
        "{}",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    );
}

/// The deploy targets whose files render is about to change (read before anything is written).
fn changed_deploy_targets(plan: &RenderPlan) -> Vec<crate::manifest::deploy::DeployTarget> {
    let mut out = Vec::new();
    for f in &plan.files {
        if let FileKind::Deploy { target, .. } = f.kind
            && std::fs::read(&f.path).ok().as_deref() != Some(f.contents.as_bytes())
            && !out.contains(&target)
        {
            out.push(target);
        }
    }
    out
}

/// How a changed deploy target takes effect: the command of its own tool.
fn show_deploy_steps(
    stack: &Stack,
    changed: &[crate::manifest::deploy::DeployTarget],
    io: &mut Io<'_>,
) {
    use crate::manifest::deploy::DeployTarget;
    if changed.is_empty() {
        return;
    }
    let dir = display_path(&stack.outputs.base.join(crate::defaults::OUT_DEPLOY));
    let _ = writeln!(io.out, "\nDeploy targets changed:");
    for t in changed {
        let step = match t {
            DeployTarget::Compose => format!(
                "docker compose -f {dir}/compose.yaml up -d   (a changed config label recreates PgBouncer)"
            ),
            DeployTarget::Kubernetes => format!(
                "kubectl apply -f {dir}/kubernetes/   (a changed checksum/config rolls the Deployment)"
            ),
            DeployTarget::Cnpg => format!("kubectl apply -f {dir}/cnpg/pooler.yaml"),
        };
        let _ = writeln!(io.out, "  $ {step}");
    }
}

/// One buffer behind two writers (stdout's and stderr's text, kept in the order written).
#[derive(Clone, Default)]
struct Merged(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Merged {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn show_plan(apply: &crate::plan::Plan, json: bool, io: &mut Io<'_>) {
    if json {
        let text =
            serde_json::to_string_pretty(&crate::plan::show::json(apply)).unwrap_or_default();
        let _ = writeln!(io.out, "{text}");
    } else {
        let _ = write!(io.out, "\n{}", crate::plan::show::human(apply));
    }
}

/// A file render writes, as it is on disk now (bounded: a device in its place is not read).
fn read_output(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    fsutil::read_bounded(path, crate::formats::text::MAX_FILE_BYTES)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `render --check`: compare, write nothing, exit 1 on drift.
fn check(plan: &RenderPlan, secrets: &Secrets, io: &mut Io<'_>) -> Outcome {
    let mut drift = 0usize;
    for file in &plan.files {
        let shown = display_path(&file.path);
        let on_disk = read_output(&file.path).ok();
        match on_disk {
            None => {
                drift += 1;
                let _ = writeln!(io.out, "{shown}: missing (render would create it)");
            }
            Some(bytes) if bytes == file.contents.as_bytes() => {}
            Some(bytes) => {
                drift += 1;
                let old = String::from_utf8_lossy(&bytes);
                if file.kind.is_secret() {
                    let _ = write!(
                        io.out,
                        "{}",
                        describe_secret_drift(&file.kind, &shown, &old, &file.contents, secrets)
                    );
                } else {
                    let diff = similar::TextDiff::from_lines(old.as_ref(), file.contents.as_str());
                    let _ = write!(
                        io.out,
                        "{}",
                        diff.unified_diff().context_radius(3).header(
                            &format!("{shown} (on disk)"),
                            &format!("{shown} (rendered)")
                        )
                    );
                }
            }
        }
    }
    drift += check_unbuilt(&plan.unbuilt_secrets, io);
    if drift == 0 {
        let _ = writeln!(
            io.out,
            "poolstack: {} files up to date",
            plan.files.len() + count_unbuilt(&plan.unbuilt_secrets)
        );
        Outcome::Success
    } else {
        let _ = writeln!(
            io.err,
            "poolstack: {drift} {} from the manifest; run `poolstack render` to update {}",
            if drift == 1 {
                "file differs"
            } else {
                "files differ"
            },
            if drift == 1 { "it" } else { "them" }
        );
        Outcome::Drift
    }
}

fn count_unbuilt(e: &ExpectedSecrets) -> usize {
    e.entries().iter().filter(|(_, x)| x.is_some()).count()
}

fn describe_secret_drift(
    kind: &FileKind,
    shown: &str,
    old: &str,
    new: &str,
    secrets: &Secrets,
) -> String {
    let before = secret_types(kind, old);
    let after = secret_types(kind, new);
    let mut out = format!("{shown}: differs (secrets are not shown)\n");
    for (user, k) in &after {
        match before.get(user) {
            None => out.push_str(&format!("  + {user} ({})\n", k.as_str())),
            Some(b) if b != k => {
                out.push_str(&format!("  ~ {user}: {} → {}\n", b.as_str(), k.as_str()))
            }
            Some(_) => {
                let verifies = match (kind, secrets.get(user)) {
                    (FileKind::Userlist, Some(pw)) => Userlist::parse(old)
                        .get(user)
                        .is_some_and(|e| auth::verifies(user, pw.expose(), &e.secret)),
                    (FileKind::Deploy { .. }, Some(pw)) => {
                        Userlist::parse(&render::existing::embedded_userlist(old))
                            .get(user)
                            .is_some_and(|e| auth::verifies(user, pw.expose(), &e.secret))
                    }
                    (_, Some(pw)) => render::existing::role_verifiers(old)
                        .get(user)
                        .is_some_and(|v| auth::verifies(user, pw.expose(), v)),
                    _ => true,
                };
                if !verifies {
                    out.push_str(&format!(
                        "  ~ {user}: the {} secret no longer matches the password\n",
                        k.as_str()
                    ));
                }
            }
        }
    }
    for (user, k) in &before {
        if !after.contains_key(user) {
            out.push_str(&format!("  - {user} ({})\n", k.as_str()));
        }
    }
    if matches!(kind, FileKind::RolesSql) && before == after {
        out.push_str("  (the SQL around the verifiers differs)\n");
    }
    out
}

/// Secret files whose passwords are unknown: compare users and secret types only (FIL003).
fn check_unbuilt(e: &ExpectedSecrets, io: &mut Io<'_>) -> usize {
    let mut drift = 0;
    for (kind, entry) in e.entries() {
        let Some((path, expected)) = entry else {
            continue;
        };
        let shown = display_path(path);
        let Ok(bytes) = read_output(path) else {
            drift += 1;
            let _ = writeln!(io.out, "{shown}: missing (render would create it)");
            continue;
        };
        let on_disk = secret_types(&kind, &String::from_utf8_lossy(&bytes));
        let expected: BTreeMap<String, SecretKind> = expected.iter().cloned().collect();
        if on_disk != expected {
            drift += 1;
            let _ = writeln!(
                io.out,
                "{shown}: users or secret types differ (secrets are not shown)"
            );
            for (user, k) in &expected {
                match on_disk.get(user) {
                    None => {
                        let _ = writeln!(io.out, "  + {user} ({})", k.as_str());
                    }
                    Some(b) if b != k => {
                        let _ = writeln!(io.out, "  ~ {user}: {} → {}", b.as_str(), k.as_str());
                    }
                    _ => {}
                }
            }
            for (user, k) in &on_disk {
                if !expected.contains_key(user) {
                    let _ = writeln!(io.out, "  - {user} ({})", k.as_str());
                }
            }
        }
        let note = Diagnostic::new(
            "FIL003",
            Severity::Info,
            format!("{shown} was compared by users and secret types only: the passwords are not available, so its secrets were not verified"),
        )
        .help("set the password variables to verify the secrets too");
        let _ = writeln!(io.err, "info[{}]: {}", note.code, note.message);
    }
    drift
}

/// Write every file (all or nothing), after the safety checks.
fn write(
    stack: &Stack,
    plan: &RenderPlan,
    existing: &Existing,
    force: bool,
    io: &mut Io<'_>,
) -> Result<Outcome, InputError> {
    let pending: Vec<PendingFile<'_>> = plan
        .files
        .iter()
        .map(|f| PendingFile {
            path: &f.path,
            contents: f.contents.as_bytes(),
            secret: f.kind.is_secret(),
        })
        .collect();
    let links = Links::StayInside(&stack.outputs.base);
    // Targets render never writes (through a symlink out of the output directory): not even with --force.
    if let Err(e) = fsutil::write::check_all(&pending, links) {
        return write_failed(e, io);
    }
    let mut refusals = Vec::new();
    for file in &plan.files {
        refusals.extend(refusal(stack, file));
    }
    if !refusals.is_empty() && !force {
        for r in &refusals {
            let _ = writeln!(io.err, "poolstack: {r}");
        }
        let _ = writeln!(
            io.err,
            "poolstack: refusing to render; nothing was written. Use --force to overwrite anyway."
        );
        return Ok(Outcome::Refused);
    }
    let written = match fsutil::write_all(&pending, links) {
        Ok(w) => w,
        Err(e) => return write_failed(e, io),
    };
    if plan.files.iter().any(|f| f.kind == FileKind::Userlist) {
        for u in &stack.users {
            if let Some(n) = existing
                .userlist_secret(&u.name.value)
                .and_then(auth::unverifiable_iterations)
            {
                let _ = writeln!(
                    io.out,
                    "{}",
                    super::userlist::unverified_note(&u.name.value, n)
                );
            }
        }
    }
    for w in &written {
        let shown = display_path(&w.path);
        let line = match w.action {
            Action::Created => format!("wrote {shown} (new, mode {:04o})", w.mode),
            Action::Replaced => format!("wrote {shown}"),
            Action::Unchanged => format!("unchanged {shown}"),
        };
        let _ = writeln!(io.out, "{line}");
        for note in &w.notes {
            let _ = writeln!(io.out, "  note: {note}");
        }
    }
    // Findings never change render's exit code; they are counted here and shown by `check`.
    let files = super::check::facts::gather(stack, plan);
    let (findings, _) = super::check::findings(stack, &files, &super::check::Flags::default())?;
    let counts = report::nonzero_counts(&Summary::of(&findings));
    if counts.is_empty() {
        let _ = writeln!(
            io.out,
            "poolstack: rendered {} files; no findings",
            plan.files.len()
        );
    } else {
        let _ = writeln!(
            io.out,
            "poolstack: rendered with {counts}; run `poolstack check` for details"
        );
    }
    Ok(Outcome::Success)
}

/// A target that cannot or must not be written: nothing was (exit 1 for a refusal, 2 otherwise).
fn write_failed(e: WriteError, io: &mut Io<'_>) -> Result<Outcome, InputError> {
    match e {
        WriteError::Refused(m) => {
            let _ = writeln!(io.err, "poolstack: {m}");
            let _ = writeln!(io.err, "poolstack: refusing to render; nothing was written");
            Ok(Outcome::Refused)
        }
        WriteError::Failed(m) => Err(InputError::new(format!(
            "cannot write the rendered files: {m}"
        ))
        .with_help("nothing was written; fix the path or permissions and run again")),
    }
}

/// Why writing `file` would lose something, if it would.
fn refusal(stack: &Stack, file: &RenderedFile) -> Vec<String> {
    let shown = display_path(&file.path);
    let Ok(bytes) = read_output(&file.path) else {
        return Vec::new();
    };
    if bytes == file.contents.as_bytes() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    match file.kind {
        FileKind::Userlist => {
            let existing = Userlist::parse(&text);
            // Users PgBouncer never loads (after a `#` line) would be lost just the same.
            let mut unknown: Vec<String> = existing
                .entries
                .iter()
                .map(|e| e.user.clone())
                .chain(existing.users_lost_after_break(&text))
                .filter(|u| stack.user(u).is_none())
                .collect();
            unknown.dedup();
            if unknown.is_empty() {
                Vec::new()
            } else {
                let one = unknown.len() == 1;
                vec![format!(
                    "{shown} has {} the manifest does not know ({}); rendering would drop {}. Add {} to [[users]], or use --force",
                    if one { "a user" } else { "users" },
                    unknown.join(", "),
                    if one { "it" } else { "them" },
                    if one { "it" } else { "them" }
                )]
            }
        }
        _ => match header::inspect(&text) {
            HeaderState::Intact => Vec::new(),
            HeaderState::Edited => vec![format!(
                "{shown} was edited by hand since poolstack wrote it (its checksum no longer matches); move the change into the manifest, or use --force"
            )],
            HeaderState::Foreign => vec![format!(
                "{shown} exists and was not written by poolstack; move it away, or use --force to replace it"
            )],
        },
    }
}
