//! `poolstack init [-o stack.toml] [--yes] [--detect]`.

use crate::cli::InitArgs;
use crate::diag::InputError;
use crate::outcome::Outcome;
use crate::wizard::{self, Answers};
use std::io::{IsTerminal, Write};

/// Detected machine figures: memory text, CPUs, and where they came from.
pub type Detected = Option<(String, Option<u32>, String)>;

pub fn run(
    args: &InitArgs,
    detected: Detected,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, InputError> {
    let terminal = std::io::stdin().is_terminal();
    if !args.yes && !terminal {
        return Err(
            InputError::new("init asks questions, but there is no terminal")
                .with_help("run it on a terminal, or pass --yes to take every default"),
        );
    }
    if args.output.exists() {
        let overwrite = !args.yes
            && inquire::Confirm::new(&format!("{} exists. Overwrite it?", args.output.display()))
                .with_default(false)
                .prompt()
                .map_err(|e| InputError::new(format!("cannot ask: {e}")))?;
        if !overwrite {
            // The same refusal (exit 1) as `import` over an existing manifest.
            let _ = writeln!(
                err,
                "poolstack init: {} already exists; nothing was written (choose another path with -o, or remove it)",
                args.output.display()
            );
            return Ok(Outcome::Refused);
        }
    }
    let answers = if args.yes {
        let mut a = Answers {
            stack_name: default_name(),
            ..Answers::default()
        };
        if args.detect
            && let Some((mem, cpus, source)) = &detected
        {
            a.memory = Some(mem.clone());
            a.cpus = *cpus;
            a.detected_from = Some(source.clone());
            let _ = writeln!(
                out,
                "detected {mem}{} ({source})",
                cpus.map(|c| format!(", {c} CPUs")).unwrap_or_default()
            );
        }
        a.database = a.stack_name.clone();
        a
    } else {
        wizard::interview(if args.detect || terminal {
            detected
        } else {
            None
        })?
    };
    let text = wizard::manifest_text(&answers);
    // Never write a manifest poolstack itself would refuse.
    let loaded = crate::manifest::parse(&args.output, text.clone())?;
    crate::stack::resolve::resolve(&loaded, None)?;
    crate::fsutil::write_all(
        &[crate::fsutil::PendingFile {
            path: &args.output,
            contents: text.as_bytes(),
            secret: false,
        }],
        crate::fsutil::Links::Follow,
    )
    .map_err(|e| InputError::new(format!("cannot write {}: {e}", args.output.display())))?;
    let password_hint: String = wizard::password_variables(&answers)
        .iter()
        .map(|v| format!("{v}=… "))
        .collect();
    let _ = writeln!(out, "wrote {}", args.output.display());
    let _ = writeln!(
        out,
        "next:\n  poolstack check {0}\n  {password_hint}poolstack render {0}",
        args.output.display()
    );
    Ok(Outcome::Success)
}

/// The current directory's name when it makes a tidy stack name, else "app".
fn default_name() -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| {
            !n.is_empty()
                && n.len() <= 40
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .map(|n| n.replace('-', "_"))
        .unwrap_or_else(|| "app".to_string())
}

/// This machine's memory and CPUs with where they came from, when `--detect` asks for them (the
/// interview still offers them only when PostgreSQL runs here).
pub fn detect_machine(wanted: bool) -> Detected {
    if !wanted && !std::io::stdin().is_terminal() {
        return None;
    }
    let machine = crate::tune::detect::this_machine();
    let memory = machine.memory?;
    // Whole MB, as PgTune and the manifest's sizes take it.
    let mb = memory.value.0 >> 20;
    let text = if mb % 1024 == 0 {
        format!("{}GB", mb / 1024)
    } else {
        format!("{mb}MB")
    };
    let mut source = memory.source.clone();
    if let Some(c) = &machine.cpus {
        source = format!("{source}; {c}");
    }
    Some((text, machine.cpus.map(|c| c.value), source))
}
