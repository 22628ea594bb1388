//! What `check` and `import` share about hand-written config files named on the command line:
//! recognising each file's kind, and the `--pg-version` / `--pgbouncer-version` flags.

use crate::diag::InputError;
use crate::stack::files;
use std::path::Path;

/// The kind of a config file: by its name, else by its first lines. `None` when neither says.
pub fn kind_of(path: &Path) -> Option<files::Kind> {
    files::Kind::by_name(path).or_else(|| by_content(path))
}

/// A file whose name says nothing: its first lines decide. An unreadable file is reported
/// when it is read.
fn by_content(path: &Path) -> Option<files::Kind> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    files::Kind::by_content(&String::from_utf8_lossy(&head))
}

/// `--pg-version` / `--pgbouncer-version`, checked as a manifest's versions would be.
pub fn versions(
    pg_version: Option<u32>,
    pgbouncer_version: Option<&str>,
) -> Result<files::Versions, InputError> {
    use crate::catalog::pgbouncer::PgbVersion;
    use crate::catalog::postgres::SUPPORTED_MAJORS;
    let postgres = match pg_version {
        Some(v) if !SUPPORTED_MAJORS.contains(&v) => {
            return Err(InputError::new(format!(
                "--pg-version {v}: poolstack knows PostgreSQL {} to {}",
                SUPPORTED_MAJORS.start(),
                SUPPORTED_MAJORS.end()
            )));
        }
        other => other,
    };
    let pgbouncer = match pgbouncer_version {
        Some(text) => Some(
            PgbVersion::parse(text)
                .filter(|v| v.is_supported())
                .ok_or_else(|| {
                    InputError::new(format!(
                        "--pgbouncer-version {text}: poolstack knows PgBouncer {} to {}",
                        PgbVersion::MIN_SUPPORTED,
                        PgbVersion::MAX_SUPPORTED
                    ))
                    .with_help("write a release such as 1.18 or 1.21.0")
                })?,
        ),
        None => None,
    };
    Ok(files::Versions {
        postgres,
        pgbouncer,
    })
}
