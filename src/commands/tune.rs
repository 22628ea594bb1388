//! `poolstack tune`: PgTune's recommendation for a machine, each value with its reason, as
//! human text, JSON (product.md "JSON of tune --format json") or a postgresql.conf fragment.

use crate::cli::{TuneArgs, TuneFormat};
use crate::diag::InputError;
use crate::outcome::Outcome;
use crate::tune::detect::Machine;
use crate::tune::{self, Inputs, Recommendation, TotalMemory};
use crate::units::Bytes;
use std::io::Write;

/// `machine` reads this machine; it is called only with `--detect` (tests pass fixture trees).
pub fn run(
    args: &TuneArgs,
    machine: impl FnOnce() -> Machine,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome, InputError> {
    let detected = args.detect.then(machine);
    let (memory, mut notes) = memory(args, detected.as_ref())?;
    let (cpus, cpu_note) = cpus(args, detected.as_ref());
    notes.extend(cpu_note);
    let inputs = Inputs {
        cpus,
        connections: args.connections,
        storage: args.storage,
        data_size: args.data_size,
        ..Inputs::new(args.pg_version, args.os, args.workload, memory)
    };
    let rec = tune::recommend(&inputs);
    let text = match args.format {
        TuneFormat::Human => human(&inputs, &notes, &rec),
        TuneFormat::Conf => conf(&inputs, &notes, &rec),
        TuneFormat::Json => {
            for note in &notes {
                let _ = writeln!(err, "poolstack tune: {note}");
            }
            json(&rec)
        }
    };
    out.write_all(text.as_bytes())
        .map_err(|e| InputError::new(format!("cannot write the recommendation: {e}")))?;
    Ok(Outcome::Success)
}

/// The memory to tune for, and what detection said about it.
fn memory(
    args: &TuneArgs,
    detected: Option<&Machine>,
) -> Result<(TotalMemory, Vec<String>), InputError> {
    let found = detected.and_then(|m| m.memory.as_ref());
    match (args.memory, detected, found) {
        (Some(given), None, _) => Ok((given, Vec::new())),
        (Some(given), Some(_), found) => Ok((
            given,
            vec![format!(
                "memory: {given} from --memory ({})",
                not_used(found.map(|d| (d.value.to_string(), d.source.as_str())))
            )],
        )),
        (None, Some(_), Some(d)) => {
            let memory = TotalMemory::from_measured_bytes(d.value.0).map_err(|e| {
                InputError::new(format!("detected {d}, but PgTune cannot tune it: {e}"))
                    .with_help("pass --memory to tune for another amount")
            })?;
            let rounded = if Bytes(memory.kb() * 1024) == d.value {
                String::new()
            } else {
                format!(", {} rounded down to whole MB", d.value)
            };
            Ok((
                memory,
                vec![format!(
                    "memory: {memory} detected from {}{rounded}",
                    d.source
                )],
            ))
        }
        (None, Some(_), None) => Err(InputError::new(
            "could not detect this machine's memory: no cgroup limit and no /proc/meminfo",
        )
        .with_help("pass --memory, e.g. --memory 16GB")),
        (None, None, _) => Err(InputError::new("tune needs the memory PostgreSQL can use")
            .with_help(
                "pass --memory (e.g. --memory 16GB), or --detect to read it from this machine",
            )),
    }
}

/// The CPUs to tune for (none: PgTune's empty field), and what detection said about them.
fn cpus(args: &TuneArgs, detected: Option<&Machine>) -> (Option<u32>, Option<String>) {
    let Some(machine) = detected else {
        return (args.cpus, None);
    };
    let found = machine.cpus.as_ref();
    match (args.cpus, found) {
        (Some(given), found) => (
            Some(given),
            Some(format!(
                "CPUs: {given} from --cpus ({})",
                not_used(found.map(|d| (d.value.to_string(), d.source.as_str())))
            )),
        ),
        (None, Some(d)) => (
            Some(d.value),
            Some(format!("CPUs: {} detected from {}", d.value, d.source)),
        ),
        (None, None) => (
            None,
            Some("CPUs: not detected, so no parallel settings (pass --cpus)".to_string()),
        ),
    }
}

fn not_used(found: Option<(String, &str)>) -> String {
    match found {
        Some((value, source)) => format!("detected {value} from {source}, not used"),
        None => "nothing detected".to_string(),
    }
}

fn describe_inputs(i: &Inputs) -> String {
    let cpus = i
        .cpus
        .map_or("CPUs not given".to_string(), |n| format!("{n} CPUs"));
    let connections = i
        .connections
        .map_or(String::new(), |n| format!(", {n} connections"));
    format!(
        "PostgreSQL {} on {}, {} workload, {} RAM, {cpus}{connections}, {} storage, data size {}",
        i.pg_version,
        i.os.as_str(),
        i.workload.as_str(),
        i.memory,
        i.storage.as_str(),
        i.data_size.as_str()
    )
}

/// PgTune's warning lines as comments (`#` alone for the empty line between blocks).
fn warning_comments(rec: &Recommendation) -> String {
    rec.warnings
        .iter()
        .map(|w| {
            if w.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {w}\n")
            }
        })
        .collect()
}

/// `name = value  (reason)`, one per line, after the inputs and PgTune's warnings.
fn human(inputs: &Inputs, notes: &[String], rec: &Recommendation) -> String {
    let mut text = format!("{}\n", describe_inputs(inputs));
    for note in notes {
        text.push_str(&format!("{note}\n"));
    }
    if !rec.warnings.is_empty() {
        text.push('\n');
        text.push_str(&warning_comments(rec));
    }
    text.push('\n');
    for s in &rec.settings {
        text.push_str(&format!("{} = {}  ({})\n", s.name, s.value, s.reason));
    }
    text
}

/// PgTune's postgresql.conf layout: warnings, the inputs it echoes, then the settings.
fn conf(inputs: &Inputs, notes: &[String], rec: &Recommendation) -> String {
    let mut text = String::new();
    if !rec.warnings.is_empty() {
        text.push_str(&warning_comments(rec));
        text.push('\n');
    }
    text.push_str(&format!("# DB Version: {}\n", inputs.pg_version));
    text.push_str(&format!("# OS Type: {}\n", inputs.os.as_str()));
    text.push_str(&format!("# DB Type: {}\n", inputs.workload.as_str()));
    text.push_str(&format!(
        "# Total Memory (RAM): {}\n",
        inputs.memory.as_entered()
    ));
    if let Some(n) = inputs.cpus {
        text.push_str(&format!("# CPUs num: {n}\n"));
    }
    if let Some(n) = inputs.connections {
        text.push_str(&format!("# Connections num: {n}\n"));
    }
    text.push_str(&format!("# Data Storage: {}\n", inputs.storage.as_str()));
    for note in notes {
        text.push_str(&format!("# {note}\n"));
    }
    text.push('\n');
    for s in &rec.settings {
        text.push_str(&format!("{} = {}\n", s.name, s.value));
    }
    text
}

/// `{"version":1,"settings":{…},"reasons":{…},"warnings":[…]}`, settings in PgTune's order.
fn json(rec: &Recommendation) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let object = |pairs: Vec<(&str, &str)>| {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("    {}: {}", quote(k), quote(v)))
            .collect();
        format!("{{\n{}\n  }}", body.join(",\n"))
    };
    let settings = object(
        rec.settings
            .iter()
            .map(|s| (s.name, s.value.as_str()))
            .collect(),
    );
    let reasons = object(
        rec.settings
            .iter()
            .map(|s| (s.name, s.reason.as_str()))
            .collect(),
    );
    let warnings = if rec.warnings.is_empty() {
        "[]".to_string()
    } else {
        let lines: Vec<String> = rec
            .warnings
            .iter()
            .map(|w| format!("    {}", quote(w)))
            .collect();
        format!("[\n{}\n  ]", lines.join(",\n"))
    };
    format!(
        "{{\n  \"version\": 1,\n  \"settings\": {settings},\n  \"reasons\": {reasons},\n  \"warnings\": {warnings}\n}}\n"
    )
}
