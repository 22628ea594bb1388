//! `render --check PATH...`: the drift gate over many stacks (a repository's manifests), each
//! compared exactly as `render --check MANIFEST` compares it, on every core, reported one after
//! the other under a header, then one line for all of them. The exit code is the worst.

use super::super::Io;
use super::run_one;
use crate::cli::RenderArgs;
use crate::commands::discover::{self, Found};
use crate::diag::InputError;
use crate::outcome::Outcome;
use crate::report::human;
use crate::source::display_path;
use std::path::PathBuf;

/// One manifest, compared: what it printed and how it ended.
struct Compared {
    out: Vec<u8>,
    err: Vec<u8>,
    outcome: Outcome,
}

pub fn run(args: &RenderArgs, io: &mut Io<'_>) -> Result<Outcome, InputError> {
    if !args.check {
        return Err(InputError::new(format!(
            "render writes one stack at a time: {} given",
            args.manifests
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_help("name one manifest; `render --check PATH...` compares many"));
    }
    let manifests = manifests(&args.manifests)?;
    if args.out.is_some() && manifests.len() > 1 {
        return Err(
            InputError::new("--out names one output directory: it takes one manifest")
                .with_help("run `render --check --out DIR MANIFEST` once per manifest"),
        );
    }
    if args.format == crate::cli::PlanFormat::Json && manifests.len() > 1 {
        return Err(InputError::new(
            "--format json prints the apply plan of one stack: it takes one manifest",
        )
        .with_help("run `render --check --format json MANIFEST` once per manifest"));
    }
    let color = io.color;
    let compared = crate::parallel::map(&manifests, |path| {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let outcome = {
            let mut one = Io {
                out: &mut out,
                err: &mut err,
                color,
            };
            match run_one(args, path, &mut one) {
                Ok(o) => o,
                Err(e) => {
                    let _ = write!(one.err, "{}", human::render_input_error(&e, color));
                    Outcome::InputError
                }
            }
        };
        Compared { out, err, outcome }
    });
    for (path, c) in manifests.iter().zip(&compared) {
        let _ = writeln!(io.out, "==> {} <==", display_path(path));
        let _ = io.out.write_all(&c.out);
        let _ = io.out.flush();
        let _ = io.err.write_all(&c.err);
        let _ = io.err.flush();
    }
    let _ = io.out.write_all(summary(&manifests, &compared).as_bytes());
    Ok(compared
        .iter()
        .map(|c| c.outcome)
        .max_by_key(|o| o.exit_code())
        .unwrap_or(Outcome::Success))
}

/// The manifests named, and those found in the directories named (hand-written stacks have
/// nothing to render). A directory without any is exit 2.
fn manifests(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out: Vec<PathBuf> = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let found: Vec<PathBuf> = discover::walk(path)?
            .into_iter()
            .filter_map(|f| match f {
                Found::Manifest(p) => Some(p),
                Found::Files { .. } => None,
            })
            .collect();
        if found.is_empty() {
            return Err(InputError::new(format!(
                "{} holds no stack.toml (.gitignore'd directories are skipped)",
                display_path(path)
            ))
            .with_help("name the manifests, or a directory that holds them"));
        }
        out.extend(found);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(crate::fsutil::absolute(p)));
    Ok(out)
}

/// `poolstack: 3 manifests: 1 up to date; drifted: a/stack.toml; could not be read: c/stack.toml`
fn summary(manifests: &[PathBuf], compared: &[Compared]) -> String {
    let named = |want: Outcome| -> Vec<String> {
        manifests
            .iter()
            .zip(compared)
            .filter(|(_, c)| c.outcome == want)
            .map(|(p, _)| display_path(p))
            .collect()
    };
    let mut line = format!(
        "poolstack: {} manifests: {} up to date",
        manifests.len(),
        named(Outcome::Success).len()
    );
    for (want, what) in [
        (Outcome::Drift, "drifted"),
        (Outcome::Refused, "refused"),
        (Outcome::InputError, "could not be read"),
    ] {
        let paths = named(want);
        if !paths.is_empty() {
            line.push_str(&format!("; {what}: {}", paths.join(", ")));
        }
    }
    line.push('\n');
    line
}
