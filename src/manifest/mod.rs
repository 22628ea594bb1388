//! stack.toml: loading, located errors (exit 2), and the checks that need the whole manifest.

pub mod deploy;
pub mod spans;
pub mod types;
pub mod write;

use crate::diag::InputError;
use crate::source::{FileId, Loc, SourceMap};
pub use spans::{Seg, SpanIndex, path};
use std::path::{Path, PathBuf};
pub use types::*;

/// A parsed manifest with everything needed to point back into it.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub index: SpanIndex,
    pub sources: SourceMap,
    pub file: FileId,
    /// The manifest's path as given.
    pub path: PathBuf,
    /// The directory outputs are relative to by default.
    pub dir: PathBuf,
}

impl LoadedManifest {
    /// The location of the value at `p`, or of the key when asked, if the manifest wrote it.
    pub fn loc(&self, p: &[Seg]) -> Option<Loc> {
        self.index.value(p).map(|span| Loc {
            file: self.file,
            span,
        })
    }

    pub fn key_loc(&self, p: &[Seg]) -> Option<Loc> {
        self.index.key(p).map(|span| Loc {
            file: self.file,
            span,
        })
    }

    fn error_at(&self, p: &[Seg], message: impl Into<String>) -> InputError {
        match self.loc(p) {
            Some(loc) => InputError::located(message, loc, &self.sources),
            None => InputError::new(message),
        }
    }
}

/// Read and parse `path`. Every failure is an [`InputError`] with file:line:column where there is one.
pub fn load(path: &Path) -> Result<LoadedManifest, InputError> {
    let bytes =
        crate::fsutil::read_bounded(path, crate::formats::text::MAX_FILE_BYTES).map_err(|e| {
            InputError::new(format!("cannot read manifest {}: {e}", path.display())).with_help(
            "pass the path of a stack.toml (poolstack init writes one), or run from its directory",
        )
        })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = crate::formats::text::line_col(e.as_bytes(), e.utf8_error().valid_up_to());
        InputError::new(format!(
            "{}:{at}: not UTF-8 text (an invalid byte)",
            path.display(),
        ))
        .with_help("save the manifest as UTF-8")
    })?;
    parse(path, text)
}

/// Parse manifest text read from `path`.
pub fn parse(path: &Path, text: String) -> Result<LoadedManifest, InputError> {
    let mut sources = SourceMap::default();
    // Reports draw from the starred copy, from the first error on (a syntax error next to a
    // password must not print it); the parser reads the text as written.
    let secrets = crate::redact::secret_spans(&text);
    let file = sources.add(path, text.clone());
    sources.redact_all(file, secrets);
    let index = SpanIndex::build(&text).map_err(|e| toml_error(&e, file, &sources, None))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|e| toml_error(&e, file, &sources, Some(&index)))?;
    redact_literal_passwords(&manifest, &index, file, &mut sources);
    let dir = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::new()
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_default();
    let loaded = LoadedManifest {
        manifest,
        index,
        sources,
        file,
        path: path.to_path_buf(),
        dir,
    };
    validate(&loaded)?;
    Ok(loaded)
}

/// A password written in the manifest (AUT001) is shown as `*` wherever a report draws its line;
/// the value itself is kept in [`types::PasswordSource::Literal`] for `render`.
fn redact_literal_passwords(
    manifest: &Manifest,
    index: &SpanIndex,
    file: FileId,
    sources: &mut SourceMap,
) {
    for (i, user) in manifest.users.iter().enumerate() {
        if !matches!(user.password, Some(types::PasswordSource::Literal(_))) {
            continue;
        }
        let Some(span) = index.value(&spans::path(&["users", &i.to_string(), "password"])) else {
            continue;
        };
        // Keep the quotes, so the line still reads as a string.
        let quoted = sources.get(file).text.get(span.clone()).is_some_and(|v| {
            v.len() >= 2 && v.starts_with(['"', '\'']) && v.ends_with(['"', '\''])
        });
        let inner = if quoted {
            span.start + 1..span.end - 1
        } else {
            span
        };
        sources.redact(file, inner);
    }
}

/// Turn toml/serde's error into a located input error, with "did you mean" for unknown keys.
fn toml_error(
    e: &toml::de::Error,
    file: FileId,
    sources: &SourceMap,
    index: Option<&SpanIndex>,
) -> InputError {
    let raw = e.message().trim().to_string();
    let (message, help) = explain_serde_message(&raw);
    let (message, help) = match (&e.span(), index) {
        (Some(span), Some(index)) => {
            let table = index
                .innermost(span.start)
                .map(|p| {
                    let text = &sources.get(file).text;
                    // An unknown key's span is the key itself: name the table that holds it.
                    let is_key = index.key(p).is_some_and(|k| k == *span);
                    let owner = if is_key { &p[..p.len() - 1] } else { &p[..] };
                    let _ = text;
                    spans::display(owner)
                })
                .filter(|t| !t.is_empty());
            match table {
                Some(t) => (format!("{message} (in `{t}`)"), help),
                None => (message, help),
            }
        }
        _ => (message, help),
    };
    let mut err = match e.span() {
        Some(span) => InputError::located(message, Loc { file, span }, sources),
        None => InputError {
            message,
            help: None,
            loc: None,
            sources: sources.clone(),
        },
    };
    err.help = help;
    err
}

/// serde's "unknown field `x`, expected one of `a`, `b`" → our wording with the closest key.
fn explain_serde_message(raw: &str) -> (String, Option<String>) {
    // serde names the integer type it read a value as (`integer `5` as i128`): not for users.
    let first_line = raw
        .lines()
        .next()
        .unwrap_or(raw)
        .replace(" as i128", "")
        .replace(" as u128", "");
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = first_line.strip_prefix(prefix)
            && let Some((name, tail)) = rest.split_once('`')
        {
            let expected: Vec<&str> = tail
                .split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s)
                .collect();
            let suggestion = crate::catalog::closest(name, expected.iter().copied());
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None if !expected.is_empty() => format!("expected one of: {}", expected.join(", ")),
                None => format!("remove `{name}`"),
            };
            return (format!("unknown {noun} `{name}`"), Some(help));
        }
    }
    if let Some(rest) = first_line.strip_prefix("missing field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        return (
            format!("missing required key `{name}`"),
            Some(format!("add `{name} = …` to this table")),
        );
    }
    if let Some(rest) = first_line.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        let wanted = match expected {
            "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (without quotes)",
            "i8" | "i16" | "i32" | "i64" | "isize" => "an integer (without quotes)",
            "a boolean" => "true or false (without quotes)",
            "a string" => "a string in double quotes",
            "a sequence" => "a list, e.g. [\"a\", \"b\"]",
            other => other,
        };
        return (
            format!("expected {wanted}, found {found}"),
            Some(format!("write {wanted}")),
        );
    }
    if first_line.starts_with("invalid value: integer")
        && let Some((_, ty)) = first_line.rsplit_once(", expected ")
        && let Some((kind, range)) = integer_range(ty)
    {
        let value = first_line.split('`').nth(1).unwrap_or("the value");
        return (
            format!("{value} is out of range: expected {kind} from {range}"),
            Some(format!("write a number from {range}")),
        );
    }
    (first_line, None)
}

/// The words for an integer type serde names (`u32`): what it holds and its range.
fn integer_range(ty: &str) -> Option<(&'static str, &'static str)> {
    Some(match ty.trim() {
        "u8" => ("a whole number", "0 to 255"),
        "u16" => ("a whole number", "0 to 65535"),
        "u32" => ("a whole number", "0 to 4294967295"),
        "u64" | "usize" => ("a whole number", "0 to 18446744073709551615"),
        "i8" => ("an integer", "-128 to 127"),
        "i16" => ("an integer", "-32768 to 32767"),
        "i32" => ("an integer", "-2147483648 to 2147483647"),
        "i64" | "isize" => ("an integer", "-9223372036854775808 to 9223372036854775807"),
        _ => return None,
    })
}

/// Checks that need more than one key: versions, names, references that make the manifest unusable.
fn validate(m: &LoadedManifest) -> Result<(), InputError> {
    let man = &m.manifest;
    if !crate::catalog::postgres::SUPPORTED_MAJORS.contains(&man.postgres.version) {
        return Err(m
            .error_at(
                &path(&["postgres", "version"]),
                format!(
                    "PostgreSQL {} is not supported: poolstack supports {}",
                    man.postgres.version,
                    crate::catalog::postgres::supported_text()
                ),
            )
            .with_help("write the server's major version, e.g. `version = 16`"));
    }
    if let Some(pgb) = &man.pgbouncer
        && pgb.enabled != Some(false)
    {
        let Some(version) = &pgb.version else {
            return Err(m
                .error_at(&path(&["pgbouncer"]), "missing required key `version` in [pgbouncer]")
                .with_help("add e.g. `version = \"1.21\"` (or `enabled = false` to connect apps straight to PostgreSQL)"));
        };
        use crate::catalog::pgbouncer::PgbVersion;
        let ok = PgbVersion::parse(version).filter(|v| v.is_supported());
        if ok.is_none() {
            return Err(m
                .error_at(
                    &path(&["pgbouncer", "version"]),
                    format!(
                        "PgBouncer version `{version}` is not supported: poolstack supports {}",
                        PgbVersion::supported_text()
                    ),
                )
                .with_help("write the major.minor version, e.g. `version = \"1.21\"`"));
        }
    }
    for (i, u) in man.users.iter().enumerate() {
        if u.name.is_empty() {
            return Err(m.error_at(
                &path(&["users", &i.to_string(), "name"]),
                "a user name cannot be empty",
            ));
        }
    }
    unique(
        m,
        "databases",
        man.databases.iter().map(|d| d.name.as_str()),
    )?;
    unique(m, "users", man.users.iter().map(|u| u.name.as_str()))?;
    unique(m, "apps", man.apps.iter().map(|a| a.name.as_str()))?;
    unique(m, "clients", man.clients.iter().map(|c| c.name.as_str()))?;
    Ok(())
}

fn unique<'a>(
    m: &LoadedManifest,
    table: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), InputError> {
    // name → index of its first entry (a map: 40,000 databases stay linear).
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, name) in names.enumerate() {
        if let Some(&first) = seen.get(name) {
            let mut err = m
                .error_at(
                    &path(&[table, &i.to_string(), "name"]),
                    format!("`{name}` is defined twice in [[{table}]]"),
                )
                .with_help("give each entry its own name, or merge the two entries");
            if let Some(loc) = m.loc(&path(&[table, &first.to_string(), "name"])) {
                err.help = Some(format!(
                    "the first definition is at {}; give each entry its own name, or merge them",
                    m.sources.describe(&loc)
                ));
            }
            return Err(err);
        }
        seen.insert(name, i);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::explain_serde_message;

    /// Rust's type names (i32, i128, u64) never reach users.
    #[test]
    fn serde_messages_name_no_internal_types() {
        for (raw, want) in [
            (
                "invalid value: integer `9999999999`, expected i32",
                "9999999999 is out of range: expected an integer from -2147483648 to 2147483647",
            ),
            (
                "invalid value: integer `70000`, expected u16",
                "70000 is out of range: expected a whole number from 0 to 65535",
            ),
            (
                "invalid value: integer `-1` as i128, expected u64",
                "-1 is out of range: expected a whole number from 0 to 18446744073709551615",
            ),
            (
                "invalid type: integer `5` as i128, expected a string",
                "expected a string in double quotes, found integer `5`",
            ),
        ] {
            let (message, _) = explain_serde_message(raw);
            assert_eq!(message, want);
            for ty in ["i32", "i64", "i128", "u16", "u32", "u64"] {
                assert!(!message.contains(ty), "{message}");
            }
        }
    }
}
