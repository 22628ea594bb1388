//! pgbouncer.ini settings checked against the PgBouncer catalog: what the file means to the
//! declared version (the effective options, databases and users) and everything that version
//! would refuse (CAT001–CAT003, CAT007, CAT008) or read differently than written (CAT005,
//! CAT006).
//!
//! Without a declared version nothing is assumed: values are read by the newest version's
//! rules, and a key that only some versions accept is an info finding that says which.

use crate::catalog::pgbouncer::{
    self, PgbName, PgbOption, PgbTrap, PgbValue, PgbValueError, PgbVersion, Section,
};
use crate::diag::{Diagnostic, Severity};
use crate::formats::pgbouncer_ini::{ConnstrErrorKind, IniDocument, IniEntry, parse_connstr};
use crate::source::{Loc, SourceMap};
use std::collections::HashMap;

/// The first release that reads a single-quoted key (`'my db' = …`).
const QUOTED_KEYS_SINCE: PgbVersion = PgbVersion::new(1, 25);

/// One effective setting read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOption {
    /// The catalog's name of the key.
    pub name: &'static str,
    /// The value as written (connection-string values unquoted).
    pub raw: String,
    pub value: PgbValue,
    pub key_loc: Loc,
    pub value_loc: Loc,
}

/// A `[databases]` or `[users]` entry: its name and connection-string keys (the last of each
/// key wins).
#[derive(Debug, Clone, PartialEq)]
pub struct IniConnstrEntry {
    pub name: String,
    pub name_loc: Loc,
    pub value_loc: Loc,
    pub params: Vec<FileOption>,
}

impl IniConnstrEntry {
    pub fn param(&self, key: &str) -> Option<&FileOption> {
        self.params.iter().find(|p| p.name == key)
    }
}

/// A `[databases]` entry.
pub type IniDatabase = IniConnstrEntry;
/// A `[users]` entry.
pub type IniUser = IniConnstrEntry;

/// What a pgbouncer.ini means, and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct IniSettings {
    /// Effective `[pgbouncer]` options: the last occurrence of each key wins (PgBouncer's rule);
    /// only keys the version knows, with values it accepts; in order of first appearance.
    pub options: Vec<FileOption>,
    /// The last entry of a name wins; in order of first appearance.
    pub databases: Vec<IniDatabase>,
    pub users: Vec<IniUser>,
    /// The reader's findings, then CAT001–CAT008 of the entries.
    pub findings: Vec<Diagnostic>,
}

impl IniSettings {
    /// The effective `[pgbouncer]` option called `name`.
    pub fn option(&self, name: &str) -> Option<&FileOption> {
        self.options.iter().find(|o| o.name == name)
    }

    pub fn database(&self, name: &str) -> Option<&IniDatabase> {
        self.databases.iter().find(|d| d.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&IniUser> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// Check every entry of `doc` against `version` (`None`: no version declared).
pub fn check(doc: &IniDocument, version: Option<PgbVersion>, sources: &SourceMap) -> IniSettings {
    check_as(doc, version, sources, Author::Hand)
}

/// Who wrote the file: the same reading, but a value PgBouncer would wrap is a trap a person may
/// have fallen into (CAT005) and a value poolstack must never write (CAT002).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Hand,
    Poolstack,
}

/// [`check`], for a file written by `author`.
pub fn check_as(
    doc: &IniDocument,
    version: Option<PgbVersion>,
    sources: &SourceMap,
    author: Author,
) -> IniSettings {
    let mut cx = Checker {
        version,
        author,
        findings: doc.findings.clone(),
    };
    let skipped = cx.sections(doc);
    let mut options: Vec<FileOption> = Vec::new();
    let mut databases = Named::default();
    let mut users = Named::default();
    for entry in &doc.entries {
        if skipped.contains(&entry.section) {
            continue;
        }
        cx.quoted_key(entry);
        match entry.section {
            Section::Pgbouncer => {
                let parsed = cx.global(entry);
                let name = parsed.as_ref().map(|o| o.name);
                // A refused later value leaves no effective value: PgBouncer does not start.
                let key = name.unwrap_or(entry.key.as_str());
                options.retain(|o| o.name != key);
                if let Some(o) = parsed {
                    options.push(o);
                }
            }
            Section::Databases => {
                cx.reserved_database(entry);
                let params = cx.connstr(entry);
                let db = IniDatabase {
                    name: entry.key.clone(),
                    name_loc: entry.key_loc.clone(),
                    value_loc: entry.value_loc.clone(),
                    params,
                };
                databases.put(db.name.clone(), db);
            }
            Section::Users => {
                let params = cx.connstr(entry);
                let user = IniUser {
                    name: entry.key.clone(),
                    name_loc: entry.key_loc.clone(),
                    value_loc: entry.value_loc.clone(),
                    params,
                };
                users.put(user.name.clone(), user);
            }
            Section::Peers => {
                cx.peer_id(entry);
                cx.connstr(entry);
            }
        }
    }
    cx.findings.extend(duplicates::findings(doc, sources));
    IniSettings {
        options,
        databases: databases.items,
        users: users.items,
        findings: cx.findings,
    }
}

/// Entries by name: the last of a name wins, in the place of the first (a map keeps this
/// linear for files with thousands of databases).
struct Named<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Named<T> {
    fn put(&mut self, name: String, item: T) {
        match self.index.get(&name) {
            Some(&i) => self.items[i] = item,
            None => {
                self.index.insert(name, self.items.len());
                self.items.push(item);
            }
        }
    }
}

struct Checker {
    version: Option<PgbVersion>,
    author: Author,
    findings: Vec<Diagnostic>,
}

/// How a section's entries are described in messages.
fn where_(section: Section) -> &'static str {
    match section {
        Section::Pgbouncer => "[pgbouncer]",
        Section::Databases => "a [databases] connection string",
        Section::Users => "a [users] entry",
        Section::Peers => "a [peers] entry",
    }
}

/// ` (in a [databases] connection string)`, nothing for `[pgbouncer]`.
fn in_where(section: Section) -> String {
    match section {
        Section::Pgbouncer => String::new(),
        other => format!(" (in {})", where_(other)),
    }
}

const DECLARE_HELP: &str =
    "declare the version: `; poolstack: pgbouncer 1.18` or --pgbouncer-version";

impl Checker {
    fn push(&mut self, d: Diagnostic) {
        self.findings.push(d);
    }

    fn target(&self) -> String {
        match self.version {
            Some(v) => format!("PgBouncer {v}"),
            None => "PgBouncer".to_string(),
        }
    }

    /// `[peers]` before 1.19; returns the sections whose entries are not checked further.
    fn sections(&mut self, doc: &IniDocument) -> Vec<Section> {
        let mut skipped = Vec::new();
        for header in &doc.sections {
            let Some(section) = header.section else {
                continue;
            };
            let since = section.since();
            match self.version {
                Some(v) if v < since => {
                    skipped.push(section);
                    self.push(
                        Diagnostic::new(
                            "CAT003",
                            Severity::Error,
                            format!("PgBouncer {v} has no {section} section (invalid section \"{}\"): it was introduced in {since}", section.name()),
                        )
                        .at(Some(header.loc.clone()))
                        .help(format!("remove the section, or declare `; poolstack: pgbouncer {since}` if you run that version: PgBouncer {v} refuses to start with it")),
                    );
                }
                None if since > PgbVersion::MIN_SUPPORTED => self.push(
                    Diagnostic::new(
                        "CAT003",
                        Severity::Info,
                        format!("the {section} section needs PgBouncer ≥ {since}: older versions refuse to start with it"),
                    )
                    .at(Some(header.loc.clone()))
                    .help(DECLARE_HELP),
                ),
                _ => {}
            }
        }
        skipped
    }

    /// `'my db' = …`: a syntax error before 1.25.
    fn quoted_key(&mut self, entry: &IniEntry) {
        if !entry.key_quoted {
            return;
        }
        match self.version {
            Some(v) if v < QUOTED_KEYS_SINCE => self.push(
                Diagnostic::new(
                    "CAT008",
                    Severity::Error,
                    format!("PgBouncer {v} cannot read the quoted key `{}`: quoted names need PgBouncer 1.25 (syntax error in configuration, stopping loading)", entry.key),
                )
                .at(Some(entry.key_loc.clone()))
                .help("rename it to letters, digits and _ . * - only, or declare `; poolstack: pgbouncer 1.25` if you run it"),
            ),
            None => self.push(
                Diagnostic::new(
                    "CAT008",
                    Severity::Info,
                    format!("the quoted key `{}` needs PgBouncer ≥ 1.25: older versions stop loading the file here (syntax error)", entry.key),
                )
                .at(Some(entry.key_loc.clone()))
                .help(DECLARE_HELP),
            ),
            _ => {}
        }
    }

    fn reserved_database(&mut self, entry: &IniEntry) {
        if entry.key == "pgbouncer" {
            self.push(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    "database name \"pgbouncer\" is reserved for PgBouncer's admin console: PgBouncer refuses to start",
                )
                .at(Some(entry.key_loc.clone()))
                .help("choose another name; clients reach the console by connecting to the database `pgbouncer`"),
            );
        }
    }

    /// loader.c `parse_peer`: the key is the peer's id, `strtonum(name, 1, 0xFFFF)`.
    fn peer_id(&mut self, entry: &IniEntry) {
        let valid = entry.key.bytes().all(|b| b.is_ascii_digit())
            && entry
                .key
                .parse::<u32>()
                .is_ok_and(|id| (1..=0xFFFF).contains(&id));
        if !valid {
            self.push(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    format!("the [peers] key `{}` is not a peer id: PgBouncer wants a number from 1 to 65535 and refuses to start", entry.key),
                )
                .at(Some(entry.key_loc.clone()))
                .help("name each peer by its `peer_id` (the other PgBouncer's [pgbouncer] peer_id)"),
            );
        }
    }

    /// What `key` is in `section`; a finding (and `None`) when the version does not take it.
    fn classify(
        &mut self,
        section: Section,
        key: &str,
        key_loc: &Loc,
    ) -> Option<&'static PgbOption> {
        let what = match section {
            Section::Pgbouncer => "parameter",
            Section::Databases | Section::Peers => "connection parameter",
            Section::Users => "user parameter",
        };
        match pgbouncer::classify(section, key, self.version) {
            PgbName::Known(opt) => {
                if opt.is_unreleased() {
                    self.push(
                        Diagnostic::new(
                            "CAT003",
                            Severity::Error,
                            format!("`{key}` is not in any PgBouncer release yet (only on master, after {}): every release refuses it ({})", PgbVersion::MAX_SUPPORTED, where_(section)),
                        )
                        .at(Some(key_loc.clone()))
                        .help("remove it until a release has it"),
                    );
                    return None;
                }
                // The section's own info already covers keys as old as the section.
                let floor = PgbVersion::MIN_SUPPORTED.max(section.since());
                if self.version.is_none() && opt.since > floor {
                    self.push(
                        Diagnostic::new(
                            "CAT003",
                            Severity::Info,
                            format!("`{key}` needs PgBouncer ≥ {}: older versions refuse to start with it{}", opt.since, in_where(section)),
                        )
                        .at(Some(key_loc.clone()))
                        .help(DECLARE_HELP),
                    );
                }
                Some(opt)
            }
            PgbName::NotYet {
                option,
                introduced_in,
            } => {
                let v = self.target();
                let msg = if option.is_unreleased() {
                    format!(
                        "`{key}` is not in any PgBouncer release yet (only on master): {v} refuses it ({})",
                        where_(section)
                    )
                } else {
                    format!(
                        "`{key}` does not exist in {v} ({}): it was introduced in {introduced_in}",
                        where_(section)
                    )
                };
                self.push(
                    Diagnostic::new("CAT003", Severity::Error, msg)
                        .at(Some(key_loc.clone()))
                        .help(format!("remove it, or declare `; poolstack: pgbouncer {introduced_in}` if you run that version: {v} refuses to start with it (unknown {what}: {key})")),
                );
                None
            }
            PgbName::WrongSection { belongs_to } => {
                let fix = match belongs_to {
                    Section::Pgbouncer => format!("move it to [pgbouncer] as `{key} = …`"),
                    Section::Databases => format!(
                        "move it into a [databases] connection string: `mydb = host=… {key}=…`"
                    ),
                    Section::Users => format!("move it into a [users] entry: `alice = {key}=…`"),
                    Section::Peers => "move it into a [peers] entry".to_string(),
                };
                self.push(
                    Diagnostic::new(
                        "CAT007",
                        Severity::Error,
                        format!("`{key}` is a {belongs_to} key, not valid in {}: PgBouncer refuses to start (unknown {what}: {key})", where_(section)),
                    )
                    .at(Some(key_loc.clone()))
                    .help(fix),
                );
                None
            }
            PgbName::Unknown { suggestion } => {
                let msg = match section {
                    Section::Pgbouncer => format!(
                        "unknown parameter `{key}` in [pgbouncer]: PgBouncer refuses to start"
                    ),
                    Section::Databases | Section::Peers => format!(
                        "unrecognized connection parameter `{key}` in {}: PgBouncer refuses to start",
                        where_(section)
                    ),
                    Section::Users => format!(
                        "unrecognized user parameter `{key}` in [users]: PgBouncer refuses to start"
                    ),
                };
                let help = match suggestion {
                    Some(s) => format!("did you mean `{s}`? (PgBouncer names are case-sensitive)"),
                    None => "remove it, or check the spelling in the PgBouncer documentation"
                        .to_string(),
                };
                self.push(
                    Diagnostic::new("CAT001", Severity::Error, msg)
                        .at(Some(key_loc.clone()))
                        .help(help),
                );
                None
            }
        }
    }

    /// A `[pgbouncer]` entry; the effective option when the version accepts key and value.
    fn global(&mut self, entry: &IniEntry) -> Option<FileOption> {
        let opt = self.classify(Section::Pgbouncer, &entry.key, &entry.key_loc)?;
        self.value(opt, &entry.value, &entry.value_loc, false)
            .map(|value| FileOption {
                name: opt.name,
                raw: entry.value.clone(),
                value,
                key_loc: entry.key_loc.clone(),
                value_loc: entry.value_loc.clone(),
            })
    }

    /// Parse `raw` as `opt`; CAT002 when refused, CAT005 for each trap.
    fn value(
        &mut self,
        opt: &PgbOption,
        raw: &str,
        loc: &Loc,
        in_connstr: bool,
    ) -> Option<PgbValue> {
        if let Some(placeholder) = placeholder(opt.name, raw) {
            self.placeholder_finding(opt.name, placeholder, loc);
            return None;
        }
        if opt.name == "auth_dbname" && raw == "pgbouncer" {
            self.push(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    "`auth_dbname` = `pgbouncer`: PgBouncer cannot use the reserved \"pgbouncer\" database as an auth_dbname",
                )
                .at(Some(loc.clone()))
                .help("name a real [databases] entry that can run auth_query"),
            );
            return None;
        }
        match pgbouncer::parse_value_in(opt, raw, self.version) {
            Err(e) => {
                // Only for a finding: formatting it for every value costs on big files.
                let v = self.target();
                let help = match &e {
                    PgbValueError::InlineComment { .. } => {
                        "move the comment to its own line starting with `;`".to_string()
                    }
                    PgbValueError::UnitSuffix { .. } => {
                        "write a plain number of seconds: `30`, not `30s`".to_string()
                    }
                    PgbValueError::BoolWord { .. } => "write 1 or 0".to_string(),
                    PgbValueError::Invalid { .. } => {
                        let allowed = self.version.map_or(opt.allowed, |v| opt.allowed_for(v));
                        if allowed.is_empty() {
                            format!("fix the value: {v} refuses to start with this one")
                        } else {
                            format!("use one of: {}", allowed.join(", "))
                        }
                    }
                };
                self.push(
                    Diagnostic::new(
                        "CAT002",
                        Severity::Error,
                        format!("{v} would refuse this: {e}"),
                    )
                    .at(Some(loc.clone()))
                    .help(help),
                );
                None
            }
            Ok(value) => {
                for trap in &value.traps {
                    if let Some(d) = self.fatal_trap(opt, raw, *trap, loc) {
                        self.push(d);
                        continue;
                    }
                    let (msg, help) = trap_text(opt.name, raw, *trap, in_connstr);
                    self.push(
                        Diagnostic::new("CAT005", Severity::Warning, msg)
                            .at(Some(loc.clone()))
                            .help(help),
                    );
                }
                Some(value)
            }
        }
    }

    /// A trap that is an error after all: a wrapped integer in a file poolstack writes (it never
    /// writes a value PgBouncer would wrap), and an inline comment in `listen_addr` (PgBouncer
    /// passes the text to getaddrinfo and fails to start).
    fn fatal_trap(
        &self,
        opt: &PgbOption,
        raw: &str,
        trap: PgbTrap,
        loc: &Loc,
    ) -> Option<Diagnostic> {
        let v = self.target();
        match trap {
            PgbTrap::Overflow { wrapped_to } if self.author == Author::Poolstack => {
                let (lo, hi) = pgbouncer::c_range(opt);
                Some(
                    Diagnostic::new(
                        "CAT002",
                        Severity::Error,
                        format!("`{}` = {raw} is outside the range of {v}'s C type for it ({lo} .. {hi}): PgBouncer would silently store {wrapped_to}", opt.name),
                    )
                    .at(Some(loc.clone()))
                    .help(format!("use a value from {lo} to {hi}")),
                )
            }
            PgbTrap::InlineComment if opt.name == "listen_addr" => Some(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    format!("`listen_addr` = `{raw}`: PgBouncer has no inline comments, so it looks up the whole text as an address (getaddrinfo fails) and {v} does not start"),
                )
                .at(Some(loc.clone()))
                .help("move the comment to its own line starting with `;`"),
            ),
            _ => None,
        }
    }

    fn placeholder_finding(&mut self, key: &str, placeholder: &str, loc: &Loc) {
        self.push(
            Diagnostic::new(
                "CAT002",
                Severity::Error,
                format!("`{key}` holds the unrendered placeholder `{placeholder}`: PgBouncer reads it literally"),
            )
            .at(Some(loc.clone()))
            .help("render the template (or substitute the variable) before PgBouncer reads the file"),
        );
    }

    /// A `[databases]` / `[users]` / `[peers]` value; the accepted keys, the last of each.
    fn connstr(&mut self, entry: &IniEntry) -> Vec<FileOption> {
        let pairs = match parse_connstr(&entry.value, &entry.value_loc) {
            Ok(pairs) => pairs,
            Err(e) => {
                // `app = ${DATABASE_URL}` fails to split, but the placeholder is the problem.
                if let Some(placeholder) = placeholder("", &entry.value) {
                    self.placeholder_finding(&entry.key, placeholder, &entry.value_loc);
                    return Vec::new();
                }
                let (code, help) = match e.kind {
                    ConnstrErrorKind::EmptyValue => (
                        "CAT002",
                        "give it a value or remove the key: a connection string has no empty values, not even ''",
                    ),
                    ConnstrErrorKind::MissingEquals => (
                        "CAT008",
                        "write `key=value` pairs separated by spaces; comments must be on their own line",
                    ),
                    ConnstrErrorKind::UnterminatedQuote => (
                        "CAT008",
                        "close the quote; write a quote inside a quoted value as ''",
                    ),
                };
                self.push(
                    Diagnostic::new(
                        code,
                        Severity::Error,
                        format!(
                            "{} in the value of `{}`: PgBouncer refuses to start",
                            e.message, entry.key
                        ),
                    )
                    .at(Some(e.loc))
                    .help(help),
                );
                return Vec::new();
            }
        };
        let mut params: Vec<FileOption> = Vec::with_capacity(pairs.len());
        for (i, pair) in pairs.iter().enumerate() {
            // A handful of pairs: a scan is cheaper than a map (5,000 entries, each its own).
            if let Some(first) = pairs[..i].iter().rev().find(|p| p.key == pair.key) {
                self.push(
                    Diagnostic::new(
                        "CAT006",
                        Severity::Warning,
                        format!("`{}` is set twice in the value of `{}`: `{}={}` is ignored, the later `{}={}` wins", pair.key, entry.key, first.key, first.value, pair.key, pair.value),
                    )
                    .at(Some(first.key_loc.clone()))
                    .related(Some(pair.key_loc.clone()), "this one wins")
                    .help("remove one of them"),
                );
            }
            let Some(opt) = self.classify(entry.section, &pair.key, &pair.key_loc) else {
                continue;
            };
            let parsed = self.value(opt, &pair.value, &pair.value_loc, true);
            params.retain(|p| p.name != opt.name);
            if let Some(value) = parsed {
                params.push(FileOption {
                    name: opt.name,
                    raw: pair.value.clone(),
                    value,
                    key_loc: pair.key_loc.clone(),
                    value_loc: pair.value_loc.clone(),
                });
            }
        }
        params
    }
}

mod duplicates;
mod wording;

use wording::{placeholder, trap_text};

#[cfg(test)]
mod tests;
