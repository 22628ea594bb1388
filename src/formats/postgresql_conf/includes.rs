//! Include directives, processed in place as `ParseConfigFp` does: `include`,
//! `include_if_exists` and `include_dir`, relative to the including file's directory.
//!
//! Where poolstack differs from the server, it is to keep reading: a missing file is a FIL004
//! warning (the path may exist only on the deployed host), and an indirect cycle is reported
//! as recursion at once instead of after ten levels of nesting.

use super::syntax::{Item, parse_file};
use super::{ConfDocument, ConfEntry};
use crate::diag::{Diagnostic, InputError, Severity};
use crate::formats::{directives, text};
use crate::source::{FileId, SourceMap};
use std::path::{Path, PathBuf};

/// `CONF_FILE_MAX_DEPTH` in guc-file.l: the top-level file is depth 0.
const MAX_DEPTH: usize = 10;

enum Directive {
    Include,
    IncludeIfExists,
    IncludeDir,
}

fn directive(name: &str) -> Option<Directive> {
    // guc_name_compare: directive names are case-insensitive too.
    match name.to_ascii_lowercase().as_str() {
        "include" => Some(Directive::Include),
        "include_if_exists" => Some(Directive::IncludeIfExists),
        "include_dir" => Some(Directive::IncludeDir),
        _ => None,
    }
}

pub struct Reader<'s> {
    sources: &'s mut SourceMap,
    doc: ConfDocument,
    /// Files being read, outermost first (canonical paths where they resolve), to stop cycles.
    stack: Vec<PathBuf>,
    /// Files read completely, by identity: each is read once, however often it is included.
    done: std::collections::HashMap<PathBuf, FileId>,
}

/// A path for recursion checks: canonical when the file exists, else as written.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The directory relative includes of `file` resolve against (AbsoluteConfigLocation).
fn base_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl<'s> Reader<'s> {
    pub fn new(sources: &'s mut SourceMap) -> Reader<'s> {
        Reader {
            sources,
            doc: ConfDocument::default(),
            stack: Vec::new(),
            done: std::collections::HashMap::new(),
        }
    }

    pub fn finish(self) -> ConfDocument {
        self.doc
    }

    pub fn read_top(&mut self, file: FileId) -> Result<(), InputError> {
        self.read_file(file, 0)
    }

    fn read_file(&mut self, file: FileId, depth: usize) -> Result<(), InputError> {
        self.doc.files.push(file);
        self.doc
            .directives
            .push(directives::scan(file, self.sources, &['#'])?);
        let path = self.sources.get(file).path.clone();
        self.stack.push(identity(&path));
        let items = parse_file(file, &self.sources.get(file).text);
        for item in items {
            match item {
                Item::Error(d) => self.doc.findings.push(d),
                Item::Setting(entry) => match directive(&entry.name) {
                    None => self.doc.entries.push(entry),
                    Some(kind) => self.include(&path, &entry, kind, depth + 1)?,
                },
            }
        }
        if let Some(identity) = self.stack.pop() {
            self.done.insert(identity, file);
        }
        Ok(())
    }

    fn include(
        &mut self,
        from: &Path,
        entry: &ConfEntry,
        kind: Directive,
        depth: usize,
    ) -> Result<(), InputError> {
        let target = base_dir(from).join(&entry.value);
        let at = Some(entry.value_loc.clone());
        let error = |msg: String, help: &str| {
            Diagnostic::new("CAT008", Severity::Error, msg)
                .at(at.clone())
                .help(help.to_string())
        };
        if depth > MAX_DEPTH {
            self.doc.findings.push(error(
                format!(
                    "could not open configuration file \"{}\": maximum nesting depth exceeded",
                    target.display()
                ),
                "PostgreSQL follows includes at most 10 levels deep: include the files from a higher level",
            ));
            return Ok(());
        }
        match kind {
            Directive::IncludeDir => self.include_dir(&target, entry, depth),
            Directive::Include | Directive::IncludeIfExists => {
                if self.stack.contains(&identity(&target)) {
                    self.doc.findings.push(error(
                        format!("configuration file recursion in \"{}\"", target.display()),
                        "remove the include: the file is already being read (directly or through a cycle of includes)",
                    ));
                    return Ok(());
                }
                let strict = matches!(kind, Directive::Include);
                self.include_file(&target, entry, depth, strict)
            }
        }
    }

    fn include_file(
        &mut self,
        path: &Path,
        entry: &ConfEntry,
        depth: usize,
        strict: bool,
    ) -> Result<(), InputError> {
        if !path.exists() {
            if strict {
                self.doc.findings.push(not_here(entry, path, "file"));
            }
            return Ok(());
        }
        if let Some(&earlier) = self.done.get(&identity(path)) {
            let shown = self.sources.get(earlier).display.clone();
            self.doc.findings.push(
                Diagnostic::new(
                    "CAT006",
                    Severity::Warning,
                    format!("{shown} is included again after it was read: PostgreSQL reads it again here (its settings win again over anything set since), poolstack reads each file once"),
                )
                .at(Some(entry.value_loc.clone()))
                .help("include each file once"),
            );
            return Ok(());
        }
        match text::read(path) {
            Ok(text) => {
                let file = self.sources.add(path, text);
                self.read_file(file, depth)
            }
            Err(e) => {
                self.doc.findings.push(
                    Diagnostic::new(
                        "FIL004",
                        Severity::Warning,
                        format!("{}; its settings were not checked", e.message),
                    )
                    .at(Some(entry.value_loc.clone()))
                    .help(e.help.unwrap_or_else(|| {
                        "PostgreSQL refuses to start when an included file cannot be read".into()
                    })),
                );
                Ok(())
            }
        }
    }

    fn include_dir(
        &mut self,
        dir: &Path,
        entry: &ConfEntry,
        depth: usize,
    ) -> Result<(), InputError> {
        let listing = match std::fs::read_dir(dir) {
            Ok(listing) => listing,
            Err(e) => {
                let finding = if dir.exists() {
                    Diagnostic::new(
                        "FIL004",
                        Severity::Warning,
                        format!(
                            "cannot read the directory `{}` ({}): {}; its settings were not checked",
                            entry.value,
                            dir.display(),
                            text::io_reason(&e)
                        ),
                    )
                    .at(Some(entry.value_loc.clone()))
                    .help("`include_dir` names a directory of `.conf` files")
                } else {
                    not_here(entry, dir, "directory")
                };
                self.doc.findings.push(finding);
                return Ok(());
            }
        };
        // GetConfFilesInDir: names ending in ".conf" (case-sensitive), not starting with ".",
        // not directories; read in strcmp order.
        let mut files: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let name = name.as_encoded_bytes();
                name.len() >= 6 && !name.starts_with(b".") && name.ends_with(b".conf")
            })
            .map(|e| e.path())
            .filter(|p| !p.is_dir())
            .collect();
        files.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        for file in files {
            if self.stack.contains(&identity(&file)) {
                self.doc.findings.push(
                    Diagnostic::new(
                        "CAT008",
                        Severity::Error,
                        format!("configuration file recursion in \"{}\"", file.display()),
                    )
                    .at(Some(entry.value_loc.clone()))
                    .help("the directory holds a file that is already being read: move the include_dir or the file"),
                );
                continue;
            }
            self.include_file(&file, entry, depth, true)?;
        }
        Ok(())
    }
}

/// FIL004: a missing `include` file or `include_dir` directory.
fn not_here(entry: &ConfEntry, path: &Path, what: &str) -> Diagnostic {
    Diagnostic::new(
        "FIL004",
        Severity::Warning,
        format!(
            "`{}` ({}): no such {what} here; its settings were not checked",
            entry.value,
            path.display()
        ),
    )
    .at(Some(entry.value_loc.clone()))
    .help(format!(
        "PostgreSQL refuses to start when an included {what} is missing: fix the path (it is relative to the including file's directory), or use `include_if_exists` for a file that is optional"
    ))
}
