//! PgBouncer keys of `[pgbouncer]`, `[databases]`, `[users]` and `[peers]`: which version
//! introduced each, its default per version, and how PgBouncer parses a value.
//!
//! Facts: `../shared/reference/pgbouncer/options.json` and `facts.md` (value parsing verified on
//! PgBouncer 1.18: `strtol` base 0, float seconds without unit, 0/1 booleans, `atoi` for
//! connection-string numbers).

use std::fmt;
use std::sync::OnceLock;

use super::{
    Radix, c_atoi, c_strtod, c_strtol, closest, format_number, list_cell, opt_cell, table_rows,
};

const OPTIONS_TSV: &str = include_str!("data/pgb_options.tsv");
const DEFAULTS_TSV: &str = include_str!("data/pgb_defaults.tsv");
const ALLOWED_TSV: &str = include_str!("data/pgb_allowed.tsv");

/// A PgBouncer release, by minor version. Patch releases count as their minor (the newest
/// patch of a declared minor is what runs), so a change made in 1.24.1 applies to 1.24.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgbVersion {
    pub major: u16,
    pub minor: u16,
}

impl PgbVersion {
    /// The PgBouncer releases poolstack supports, for every command (the README's "Supported
    /// versions" states them).
    pub const MIN_SUPPORTED: PgbVersion = PgbVersion::new(1, 15);
    pub const MAX_SUPPORTED: PgbVersion = PgbVersion::new(1, 25);
    /// Keys found only on master at snapshot time are treated as introduced here.
    pub const UNRELEASED: PgbVersion = PgbVersion::new(1, 26);

    pub const fn new(major: u16, minor: u16) -> PgbVersion {
        PgbVersion { major, minor }
    }

    /// `"1.21"` or `"1.21.0"` (the patch number is accepted and ignored).
    pub fn parse(s: &str) -> Option<PgbVersion> {
        let mut parts = s.split('.');
        let number = |part: Option<&str>| -> Option<u16> {
            let part = part?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        if let Some(patch) = parts.next() {
            number(Some(patch))?;
        }
        parts
            .next()
            .is_none()
            .then_some(PgbVersion { major, minor })
    }

    /// `PgBouncer 1.15 to 1.25`, for messages.
    pub fn supported_text() -> String {
        format!(
            "PgBouncer {} to {}",
            PgbVersion::MIN_SUPPORTED,
            PgbVersion::MAX_SUPPORTED
        )
    }

    /// Within [`PgbVersion::MIN_SUPPORTED`] ..= [`PgbVersion::MAX_SUPPORTED`].
    pub fn is_supported(self) -> bool {
        (PgbVersion::MIN_SUPPORTED..=PgbVersion::MAX_SUPPORTED).contains(&self)
    }

    /// A version cell of the generated data: "master" is [`PgbVersion::UNRELEASED`].
    fn from_cell(cell: &str) -> Option<PgbVersion> {
        if cell == "master" {
            Some(PgbVersion::UNRELEASED)
        } else {
            PgbVersion::parse(cell)
        }
    }
}

impl fmt::Display for PgbVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A pgbouncer.ini section. Section names are case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Pgbouncer,
    Databases,
    Users,
    Peers,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Pgbouncer,
        Section::Databases,
        Section::Users,
        Section::Peers,
    ];

    /// The name between the brackets.
    pub fn name(self) -> &'static str {
        match self {
            Section::Pgbouncer => "pgbouncer",
            Section::Databases => "databases",
            Section::Users => "users",
            Section::Peers => "peers",
        }
    }

    /// The section called exactly `name` (`Databases` is not a section).
    pub fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.name() == name)
    }

    /// First version that accepts the section (facts.md §3: `[users]` 1.6, `[peers]` 1.19;
    /// 1.18 rejects `[peers]` with `invalid section "peers"`).
    pub fn since(self) -> PgbVersion {
        match self {
            Section::Pgbouncer | Section::Databases => PgbVersion::new(1, 5),
            Section::Users => PgbVersion::new(1, 6),
            Section::Peers => PgbVersion::new(1, 19),
        }
    }
}

impl fmt::Display for Section {
    /// `[pgbouncer]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.name())
    }
}

/// How PgBouncer reads a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgbType {
    /// `strtol` base 0 (`[pgbouncer]`) or `atoi` (connection strings).
    Int,
    /// `strtoul` base 0.
    Uint,
    /// A plain integer, 0 or 1 (`yes`/`on` are rejected).
    Bool,
    /// Float seconds (`strtod`), no unit suffix, not negative.
    Time,
    /// Whole seconds: `atoi` in connection strings, `strtol` for `stats_period`,
    /// `tcp_keepidle`, `tcp_keepintvl`, `query_wait_notify`.
    IntSeconds,
    /// Whole milliseconds (`tcp_user_timeout`).
    Millis,
    /// One of `allowed`, case-insensitive.
    Enum,
    String,
    Path,
    /// Comma-separated list.
    List,
}

impl PgbType {
    fn from_cell(cell: &str) -> Option<PgbType> {
        Some(match cell {
            "int" => PgbType::Int,
            "uint" => PgbType::Uint,
            "bool" => PgbType::Bool,
            "time" => PgbType::Time,
            "int-seconds" => PgbType::IntSeconds,
            "millis" => PgbType::Millis,
            "enum" => PgbType::Enum,
            "string" => PgbType::String,
            "path" => PgbType::Path,
            "list" => PgbType::List,
            _ => return None,
        })
    }

    fn is_integer(self) -> bool {
        matches!(
            self,
            PgbType::Int | PgbType::Uint | PgbType::Bool | PgbType::IntSeconds | PgbType::Millis
        )
    }
}

/// Builds that have a key (`service_name` exists only on Windows; `user`,
/// `unix_socket_group`, `unix_socket_mode` only elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Any,
    Windows,
    Unix,
}

impl Platform {
    fn from_cell(cell: &str) -> Option<Platform> {
        Some(match cell {
            "any" => Platform::Any,
            "windows" => Platform::Windows,
            "unix" => Platform::Unix,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct DefaultStep {
    from: PgbVersion,
    reloadable: bool,
    default: Option<&'static str>,
}

/// One key of one section.
#[derive(Debug, Clone, PartialEq)]
pub struct PgbOption {
    pub section: Section,
    pub name: &'static str,
    pub ty: PgbType,
    /// First version with the key; `<=1.5` in the facts is 1.5, unreleased keys are 1.26.
    pub since: PgbVersion,
    /// Whether RELOAD applies a change, in the newest version (see [`PgbOption::reloadable_in`]).
    pub reloadable: bool,
    /// Enum values, or `"0"`, `"1"` for booleans, in the newest version
    /// (see [`PgbOption::allowed_for`]).
    pub allowed: &'static [&'static str],
    pub platform: Platform,
    /// For a connection-string key: the `[pgbouncer]` option it overrides and falls back to
    /// (`pool_size` -> `default_pool_size`).
    pub inherits: Option<&'static str>,
    defaults: Vec<DefaultStep>,
    allowed_steps: Vec<(PgbVersion, &'static [&'static str])>,
}

impl PgbOption {
    /// PgBouncer's default in version `v`; `None` when the key has no default value there
    /// (or does not exist yet). Defaults are Linux builds' (`tcp_defer_accept` = 1).
    pub fn default_for(&self, v: PgbVersion) -> Option<&'static str> {
        if !self.exists_in(v) {
            return None;
        }
        self.step_for(v).and_then(|step| step.default)
    }

    /// The default every supported release agrees on (for files that declare no version);
    /// `None` when the key is missing from some release or its default changed in between
    /// (`max_prepared_statements`: 0, then 200 from 1.24).
    pub fn default_in_every_release(&self) -> Option<&'static str> {
        if !self.exists_in(PgbVersion::MIN_SUPPORTED) {
            return None;
        }
        let first = self.default_for(PgbVersion::MIN_SUPPORTED)?;
        let changed = self.defaults.iter().any(|step| {
            step.from > PgbVersion::MIN_SUPPORTED
                && step.from <= PgbVersion::MAX_SUPPORTED
                && step.default != Some(first)
        });
        (!changed).then_some(first)
    }

    /// The key is accepted by version `v` (no key was ever removed).
    pub fn exists_in(&self, v: PgbVersion) -> bool {
        v >= self.since
    }

    /// Whether RELOAD applies a change in version `v` (TLS files became reloadable in 1.16).
    pub fn reloadable_in(&self, v: PgbVersion) -> bool {
        self.step_for(v)
            .map_or(self.reloadable, |step| step.reloadable)
    }

    /// Enum values (or 0/1) accepted by version `v`: `ldap` auth only from 1.25.
    pub fn allowed_for(&self, v: PgbVersion) -> &'static [&'static str] {
        self.allowed_steps
            .iter()
            .rev()
            .find(|(from, _)| *from <= v)
            .map_or(self.allowed, |(_, values)| values)
    }

    /// Only on PgBouncer master at the time of the facts snapshot.
    pub fn is_unreleased(&self) -> bool {
        self.since >= PgbVersion::UNRELEASED
    }

    fn step_for(&self, v: PgbVersion) -> Option<&DefaultStep> {
        self.defaults.iter().rev().find(|step| step.from <= v)
    }
}

fn parse_option(cells: &[&'static str]) -> Option<PgbOption> {
    let [section, name, ty, since, reloadable, platform, inherits] = cells else {
        return None;
    };
    Some(PgbOption {
        section: Section::parse(section)?,
        name,
        ty: PgbType::from_cell(ty)?,
        since: PgbVersion::from_cell(since)?,
        reloadable: *reloadable == "1",
        allowed: &[],
        platform: Platform::from_cell(platform)?,
        inherits: opt_cell(inherits),
        defaults: Vec::new(),
        allowed_steps: Vec::new(),
    })
}

fn options_data() -> &'static [PgbOption] {
    static DATA: OnceLock<Vec<PgbOption>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut options: Vec<PgbOption> = table_rows(OPTIONS_TSV, 7)
            .filter_map(|cells| {
                let option = parse_option(&cells);
                debug_assert!(option.is_some(), "bad pgb_options row: {cells:?}");
                option
            })
            .collect();
        let find = |options: &[PgbOption], section: &str, name: &str| {
            let section = Section::parse(section)?;
            options
                .iter()
                .position(|o| o.section == section && o.name == name)
        };
        for c in table_rows(DEFAULTS_TSV, 5) {
            let step = PgbVersion::from_cell(c[2]).map(|from| DefaultStep {
                from,
                reloadable: c[3] == "1",
                default: opt_cell(c[4]),
            });
            let index = find(&options, c[0], c[1]);
            debug_assert!(
                step.is_some() && index.is_some(),
                "bad pgb_defaults row: {c:?}"
            );
            if let (Some(step), Some(option)) = (step, index.and_then(|i| options.get_mut(i))) {
                option.defaults.push(step);
            }
        }
        for c in table_rows(ALLOWED_TSV, 4) {
            let from = PgbVersion::from_cell(c[2]);
            let index = find(&options, c[0], c[1]);
            debug_assert!(
                from.is_some() && index.is_some(),
                "bad pgb_allowed row: {c:?}"
            );
            if let (Some(from), Some(option)) = (from, index.and_then(|i| options.get_mut(i))) {
                let values = list_cell(c[3]);
                option.allowed_steps.push((from, values));
                option.allowed = values;
            }
        }
        options
    })
}

/// Every key of `section`, in every version, sorted by name.
pub fn options(section: Section) -> impl Iterator<Item = &'static PgbOption> {
    options_data().iter().filter(move |o| o.section == section)
}

/// The key called exactly `name` in `section`, in any version. Looked up in an index built once:
/// a 5,000-entry pgbouncer.ini asks for some 20,000 keys.
pub fn get(section: Section, name: &str) -> Option<&'static PgbOption> {
    type Index = std::collections::HashMap<(Section, &'static str), &'static PgbOption>;
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            options_data()
                .iter()
                .map(|o| ((o.section, o.name), o))
                .collect()
        })
        .get(&(section, name))
        .copied()
}

/// How a key reads in a section and version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PgbName<'a> {
    Known(&'a PgbOption),
    /// The key exists, but only from a later version.
    NotYet {
        option: &'a PgbOption,
        introduced_in: PgbVersion,
    },
    /// The key belongs to another section (`pool_size` under `[pgbouncer]`).
    WrongSection {
        belongs_to: Section,
    },
    /// No section of any version has the key.
    Unknown {
        suggestion: Option<&'static str>,
    },
}

/// What `name` is under `section` in `version` (`None`: any version, never `NotYet`). Names
/// are case-sensitive, as in PgBouncer (`POOL_MODE` is unknown, with `pool_mode` suggested).
/// Keys only on master are `NotYet` for every released version.
pub fn classify(section: Section, name: &str, version: Option<PgbVersion>) -> PgbName<'static> {
    if let Some(option) = get(section, name) {
        return match version {
            Some(v) if !option.exists_in(v) => PgbName::NotYet {
                option,
                introduced_in: option.since,
            },
            _ => PgbName::Known(option),
        };
    }
    if let Some(other) = Section::ALL
        .into_iter()
        .find(|&other| other != section && get(other, name).is_some())
    {
        return PgbName::WrongSection { belongs_to: other };
    }
    let candidates = options(section)
        .filter(|o| version.is_none_or(|v| o.exists_in(v)))
        .map(|o| o.name);
    PgbName::Unknown {
        suggestion: closest(name, candidates),
    }
}

/// A value as PgBouncer would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct PgbValue {
    /// What SHOW CONFIG would print: decimal for integers (`0777` -> `511`), seconds for
    /// times, the enum value as catalogued, strings verbatim.
    pub normalized: String,
    pub number: Option<f64>,
    /// Accepted, but probably not what the author meant.
    pub traps: Vec<PgbTrap>,
}

/// A value PgBouncer accepts that likely does not mean what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgbTrap {
    /// A leading `0` made the integer octal (`010` is 8).
    Octal,
    /// `0x` made the integer hexadecimal.
    Hex,
    /// A negative count, accepted without a range check.
    Negative,
    /// The integer does not fit in 32 bits and silently wrapped.
    Overflow { wrapped_to: i64 },
    /// A connection-string number with no digits: `atoi` made it 0 (`pool_size=abc`).
    AtoiZero,
    /// A connection-string number with trailing text `atoi` ignored (`1.5` -> 1, `30s` -> 30).
    AtoiTruncated { to: i64 },
    /// Quotes kept literally as part of the value.
    QuotedString,
    /// `;` or `#` after whitespace: PgBouncer has no inline comments, it is part of the value.
    InlineComment,
}

/// Why PgBouncer would refuse a value. It logs `invalid value "<raw>" for parameter <name>`
/// for all of them (and refuses to start); `Display` adds the reason.
#[derive(Debug, Clone, PartialEq)]
pub enum PgbValueError {
    /// Wrong type or unknown enum value; `reason` says which (for connection strings it is
    /// PgBouncer's own line, e.g. `invalid pool mode: foo`).
    Invalid {
        param: &'static str,
        raw: String,
        reason: String,
    },
    /// A unit on a time (`30s`): PgBouncer times are plain numbers.
    UnitSuffix { param: &'static str, raw: String },
    /// `yes`/`on`/`true`… for a 0/1 option.
    BoolWord { param: &'static str, raw: String },
    /// An inline `; comment` or `# comment` after a typed value: it became part of the value.
    InlineComment { param: &'static str, raw: String },
}

impl PgbValueError {
    pub fn param(&self) -> &'static str {
        match self {
            PgbValueError::Invalid { param, .. }
            | PgbValueError::UnitSuffix { param, .. }
            | PgbValueError::BoolWord { param, .. }
            | PgbValueError::InlineComment { param, .. } => param,
        }
    }

    pub fn raw(&self) -> &str {
        match self {
            PgbValueError::Invalid { raw, .. }
            | PgbValueError::UnitSuffix { raw, .. }
            | PgbValueError::BoolWord { raw, .. }
            | PgbValueError::InlineComment { raw, .. } => raw,
        }
    }

    /// Why the value is refused, in a few words.
    pub fn reason(&self) -> String {
        match self {
            PgbValueError::Invalid { reason, .. } => reason.clone(),
            PgbValueError::UnitSuffix { .. } => {
                "PgBouncer times are plain numbers of seconds, without a unit".to_string()
            }
            PgbValueError::BoolWord { .. } => {
                "PgBouncer booleans are integers: use 1 or 0".to_string()
            }
            PgbValueError::InlineComment { .. } => {
                "PgBouncer has no inline comments: the comment is part of the value".to_string()
            }
        }
    }
}

impl fmt::Display for PgbValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value \"{}\" for parameter {} ({})",
            self.raw(),
            self.param(),
            self.reason()
        )
    }
}

impl std::error::Error for PgbValueError {}

/// The range of the C type PgBouncer stores an integer option in: `CF_UINT` is an unsigned
/// 32-bit int; `CF_INT` and `atoi()` in connection strings a signed one. A value outside it is
/// accepted and wraps ([`PgbTrap::Overflow`]).
pub fn c_range(opt: &PgbOption) -> (i64, i64) {
    if opt.ty == PgbType::Uint {
        (0, i64::from(u32::MAX))
    } else {
        (i64::from(i32::MIN), i64::from(i32::MAX))
    }
}

/// Parse a value exactly as PgBouncer would, for its newest version's enum values; see
/// [`parse_value_in`].
pub fn parse_value(opt: &PgbOption, raw: &str) -> Result<PgbValue, PgbValueError> {
    parse_value_in(opt, raw, None)
}

/// Parse a value as PgBouncer `version` would (`None`: newest).
///
/// `[pgbouncer]` values: integers are `strtol` base 0 with trailing text rejected, negative
/// values accepted and overflow wrapped to 32 bits (both flagged); times are `strtod` seconds,
/// fractions allowed, negatives and unit suffixes rejected; booleans are integers; enums match
/// case-insensitively; strings are verbatim (literal quotes and inline comments flagged).
/// Connection-string values (`[databases]`, `[users]`, `[peers]`, after connection-string
/// unquoting) read numbers with `atoi`: text becomes 0, trailing text is ignored (flagged).
pub fn parse_value_in(
    opt: &PgbOption,
    raw: &str,
    version: Option<PgbVersion>,
) -> Result<PgbValue, PgbValueError> {
    let allowed = version.map_or(opt.allowed, |v| opt.allowed_for(v));
    match (opt.section, opt.ty) {
        (Section::Pgbouncer, _) | (_, PgbType::Bool | PgbType::Time | PgbType::Uint) => {
            parse_ini_value(opt, raw, allowed)
        }
        (_, PgbType::Enum) => parse_enum(opt, raw, allowed, false),
        (_, PgbType::Int | PgbType::IntSeconds | PgbType::Millis) => parse_atoi(opt, raw),
        (_, PgbType::String | PgbType::Path | PgbType::List) => {
            // In a connection string double quotes are literal (dbname="x" means '"x"').
            let quoted = raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"');
            Ok(text_value(raw, quoted.then_some(PgbTrap::QuotedString)))
        }
    }
}

fn text_value(raw: &str, trap: Option<PgbTrap>) -> PgbValue {
    PgbValue {
        normalized: raw.to_string(),
        number: None,
        traps: trap.into_iter().collect(),
    }
}

fn parse_ini_value(
    opt: &PgbOption,
    raw: &str,
    allowed: &'static [&'static str],
) -> Result<PgbValue, PgbValueError> {
    match opt.ty {
        ty if ty.is_integer() => parse_strtol(opt, raw),
        PgbType::Time => parse_time(opt, raw),
        PgbType::Enum => parse_enum(opt, raw, allowed, true),
        _ => {
            let mut traps = Vec::new();
            if is_quoted(raw) {
                traps.push(PgbTrap::QuotedString);
            }
            if inline_comment_at(raw).is_some() {
                traps.push(PgbTrap::InlineComment);
            }
            Ok(PgbValue {
                normalized: raw.to_string(),
                number: None,
                traps,
            })
        }
    }
}

/// Surrounded by a matching pair of single or double quotes.
fn is_quoted(raw: &str) -> bool {
    raw.len() >= 2
        && ((raw.starts_with('"') && raw.ends_with('"'))
            || (raw.starts_with('\'') && raw.ends_with('\'')))
}

/// Byte offset of a `;` or `#` that follows whitespace outside single-quoted SQL text.
fn inline_comment_at(raw: &str) -> Option<usize> {
    let mut in_quotes = false;
    let mut after_space = false;
    for (i, c) in raw.char_indices() {
        match c {
            '\'' => in_quotes = !in_quotes,
            ';' | '#' if after_space && !in_quotes => return Some(i),
            _ => {}
        }
        after_space = c.is_whitespace();
    }
    None
}

/// A number followed by letters only (`30s`, `1.5 min`): an attempted unit.
fn has_unit_suffix(raw: &str, number_end: usize) -> bool {
    let rest = raw.get(number_end..).unwrap_or("").trim_start();
    number_end > 0 && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphabetic())
}

const BOOL_WORDS: &[&str] = &["yes", "no", "on", "off", "true", "false"];

fn invalid(opt: &PgbOption, raw: &str, reason: impl Into<String>) -> PgbValueError {
    PgbValueError::Invalid {
        param: opt.name,
        raw: raw.to_string(),
        reason: reason.into(),
    }
}

/// Why a typed `[pgbouncer]` value failed: the most helpful explanation first.
fn typed_error(opt: &PgbOption, raw: &str, number_end: usize, what: &str) -> PgbValueError {
    let owned = || raw.to_string();
    if inline_comment_at(raw).is_some() {
        PgbValueError::InlineComment {
            param: opt.name,
            raw: owned(),
        }
    } else if opt.ty == PgbType::Bool && BOOL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(raw)) {
        PgbValueError::BoolWord {
            param: opt.name,
            raw: owned(),
        }
    } else if matches!(
        opt.ty,
        PgbType::Time | PgbType::IntSeconds | PgbType::Millis
    ) && has_unit_suffix(raw, number_end)
    {
        PgbValueError::UnitSuffix {
            param: opt.name,
            raw: owned(),
        }
    } else {
        invalid(opt, raw, format!("expected {what}"))
    }
}

/// `cf_set_int` / `cf_set_uint`: `strtol`/`strtoul` base 0, the whole value must parse.
fn parse_strtol(opt: &PgbOption, raw: &str) -> Result<PgbValue, PgbValueError> {
    let parsed = c_strtol(raw);
    if parsed.end == 0 || parsed.end != raw.len() {
        let what = match opt.ty {
            PgbType::Bool => "0 or 1",
            PgbType::IntSeconds => "a whole number of seconds",
            PgbType::Millis => "a whole number of milliseconds",
            _ => "an integer",
        };
        return Err(typed_error(opt, raw, parsed.end, what));
    }
    let mut traps = Vec::new();
    match parsed.radix {
        // unix_socket_mode is documented as an octal file mode.
        Radix::Octal if opt.name != "unix_socket_mode" => traps.push(PgbTrap::Octal),
        Radix::Hex => traps.push(PgbTrap::Hex),
        _ => {}
    }
    if parsed.negative && (parsed.value != 0 || parsed.erange) {
        traps.push(PgbTrap::Negative);
    }
    let stored: i64 = if opt.ty == PgbType::Uint {
        i64::from(parsed.unsigned as u32)
    } else {
        i64::from(parsed.value as i32)
    };
    let exact = if opt.ty == PgbType::Uint {
        !parsed.erange && parsed.unsigned <= u64::from(u32::MAX)
    } else {
        !parsed.erange && stored == parsed.value
    };
    if !exact {
        traps.push(PgbTrap::Overflow { wrapped_to: stored });
    }
    Ok(PgbValue {
        normalized: stored.to_string(),
        number: Some(stored as f64),
        traps,
    })
}

/// `cf_set_time_usec`: `strtod` seconds; the whole value must parse; negative refused.
fn parse_time(opt: &PgbOption, raw: &str) -> Result<PgbValue, PgbValueError> {
    let parsed = c_strtod(raw);
    if parsed.end == 0 || parsed.end != raw.len() {
        return Err(typed_error(opt, raw, parsed.end, "a number of seconds"));
    }
    if parsed.erange || !parsed.value.is_finite() {
        return Err(invalid(opt, raw, "not a finite number of seconds"));
    }
    if parsed.value < 0.0 {
        return Err(invalid(opt, raw, "negative times are refused"));
    }
    let body = raw.trim_start().trim_start_matches('+');
    let hex = body.starts_with("0x") || body.starts_with("0X");
    Ok(PgbValue {
        normalized: format_number(parsed.value),
        number: Some(parsed.value),
        traps: if hex { vec![PgbTrap::Hex] } else { Vec::new() },
    })
}

/// Case-insensitive lookup (`strcasecmp`); the catalogued spelling is the normalized value.
fn parse_enum(
    opt: &PgbOption,
    raw: &str,
    allowed: &'static [&'static str],
    ini: bool,
) -> Result<PgbValue, PgbValueError> {
    if let Some(value) = allowed.iter().find(|v| v.eq_ignore_ascii_case(raw)) {
        return Ok(text_value(value, None));
    }
    if ini && inline_comment_at(raw).is_some() {
        return Err(PgbValueError::InlineComment {
            param: opt.name,
            raw: raw.to_string(),
        });
    }
    let reason = if ini {
        format!("expected one of: {}", allowed.join(", "))
    } else if opt.name == "pool_mode" {
        // loader.c's own wording for connection strings.
        format!("invalid pool mode: {raw}")
    } else {
        format!("invalid {}: {raw}", opt.name)
    };
    Err(invalid(opt, raw, reason))
}

/// Connection-string numbers: `atoi`, never an error except PgBouncer's port check.
fn parse_atoi(opt: &PgbOption, raw: &str) -> Result<PgbValue, PgbValueError> {
    let parsed = c_atoi(raw);
    if opt.name == "port" && parsed.value == 0 {
        return Err(invalid(opt, raw, format!("invalid port: {raw}")));
    }
    let mut traps = Vec::new();
    if parsed.used == 0 {
        traps.push(PgbTrap::AtoiZero);
    } else if parsed.used != raw.len() {
        traps.push(PgbTrap::AtoiTruncated {
            to: i64::from(parsed.value),
        });
    }
    // query_wait_timeout = -1 means "not set" (facts.md §3).
    // A wrapped value may come out negative: that is the overflow, not a negative number.
    if parsed.value < 0 && !parsed.wrapped && opt.name != "query_wait_timeout" {
        traps.push(PgbTrap::Negative);
    }
    if parsed.wrapped {
        traps.push(PgbTrap::Overflow {
            wrapped_to: i64::from(parsed.value),
        });
    }
    Ok(PgbValue {
        normalized: parsed.value.to_string(),
        number: Some(f64::from(parsed.value)),
        traps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> PgbVersion {
        PgbVersion::parse(s).expect("version")
    }

    fn opt(section: Section, name: &str) -> &'static PgbOption {
        get(section, name).expect("known key")
    }

    fn global(name: &str) -> &'static PgbOption {
        opt(Section::Pgbouncer, name)
    }

    fn parse(section: Section, name: &str, raw: &str) -> Result<PgbValue, PgbValueError> {
        parse_value(opt(section, name), raw)
    }

    fn ok(section: Section, name: &str, raw: &str) -> PgbValue {
        parse(section, name, raw).expect("accepted")
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(PgbVersion::parse("1.21"), Some(PgbVersion::new(1, 21)));
        assert_eq!(PgbVersion::parse("1.21.0"), Some(PgbVersion::new(1, 21)));
        assert_eq!(PgbVersion::parse("1.24.1"), Some(PgbVersion::new(1, 24)));
        for bad in [
            "", "1", "1.", ".1", "1.x", "1.2.3.4", "v1.21", "1.21 ", "-1.2", "1.+2",
        ] {
            assert_eq!(PgbVersion::parse(bad), None, "{bad:?}");
        }
        assert!(v("1.9") < v("1.10"));
        assert_eq!(v("1.25").to_string(), "1.25");
        assert_eq!(PgbVersion::MIN_SUPPORTED.to_string(), "1.15");
        assert!(v("1.18").is_supported() && !v("1.14").is_supported() && !v("1.26").is_supported());
    }

    #[test]
    fn sections() {
        assert_eq!(Section::parse("databases"), Some(Section::Databases));
        assert_eq!(Section::parse("Databases"), None);
        assert_eq!(Section::Peers.since(), v("1.19"));
        assert_eq!(Section::Users.to_string(), "[users]");
        // facts.md: 101 [pgbouncer] keys (incl. the Windows-only service_name), 23, 10, 3.
        let counts: Vec<usize> = Section::ALL.iter().map(|&s| options(s).count()).collect();
        assert_eq!(counts, [101, 23, 10, 3]);
    }

    #[test]
    fn key_counts_per_version() {
        // facts.md: 84 [pgbouncer] keys on 1.18/Linux, 100 on master/Linux.
        let linux = |v: PgbVersion| {
            options(Section::Pgbouncer)
                .filter(|o| o.exists_in(v) && o.platform != Platform::Windows)
                .count()
        };
        assert_eq!(linux(v("1.18")), 84);
        assert_eq!(linux(PgbVersion::UNRELEASED), 100);
        assert_eq!(global("service_name").platform, Platform::Windows);
        assert_eq!(global("unix_socket_mode").platform, Platform::Unix);
    }

    #[test]
    fn option_facts() {
        let mps = global("max_prepared_statements");
        assert_eq!(
            (mps.ty, mps.since, mps.reloadable),
            (PgbType::Int, v("1.21"), true)
        );
        assert_eq!(global("server_idle_timeout").ty, PgbType::Time);
        assert_eq!(global("stats_period").ty, PgbType::IntSeconds);
        assert_eq!(global("tcp_user_timeout").ty, PgbType::Millis);
        assert_eq!(global("max_packet_size").ty, PgbType::Uint);
        assert_eq!(global("log_connections").allowed, ["0", "1"]);
        assert_eq!(
            global("pool_mode").allowed,
            ["session", "transaction", "statement"]
        );
        assert!(!global("listen_port").reloadable);
        assert_eq!(global("auth_file").since, v("1.5"));
        assert!(global("pool_idle_timeout").is_unreleased());
        assert_eq!(
            opt(Section::Databases, "pool_size").inherits,
            Some("default_pool_size")
        );
        assert_eq!(
            opt(Section::Databases, "reserve_pool").inherits,
            Some("reserve_pool_size")
        );
        assert_eq!(
            opt(Section::Databases, "reserve_pool_size").since,
            v("1.24")
        );
        assert_eq!(opt(Section::Databases, "reserve_pool").since, v("1.5"));
        assert_eq!(
            opt(Section::Databases, "server_lifetime").ty,
            PgbType::IntSeconds
        );
        assert_eq!(opt(Section::Users, "pool_size").since, v("1.23"));
        assert_eq!(
            opt(Section::Peers, "pool_size").inherits,
            Some("default_pool_size")
        );
    }

    #[test]
    fn defaults_per_version() {
        let mps = global("max_prepared_statements");
        assert_eq!(mps.default_for(v("1.20")), None);
        for minor in 21..=23 {
            assert_eq!(mps.default_for(PgbVersion::new(1, minor)), Some("0"));
        }
        assert_eq!(mps.default_for(v("1.24")), Some("200"));
        assert_eq!(mps.default_for(v("1.25")), Some("200"));
        let sslmode = global("server_tls_sslmode");
        assert_eq!(sslmode.default_for(v("1.19")), Some("disable"));
        assert_eq!(sslmode.default_for(v("1.20")), Some("prefer"));
        let check = global("server_check_query");
        assert_eq!(check.default_for(v("1.24")), Some("select 1"));
        assert_eq!(check.default_for(v("1.25")), Some("<empty>"));
        // Changed in 1.24.1: a declared 1.24 means its newest patch.
        assert!(
            global("auth_query")
                .default_for(v("1.23"))
                .is_some_and(|q| q.contains("pg_shadow"))
        );
        assert!(
            global("auth_query")
                .default_for(v("1.24"))
                .is_some_and(|q| q.contains("pg_authid"))
        );
        assert_eq!(global("tcp_defer_accept").default_for(v("1.16")), None);
        assert_eq!(global("tcp_defer_accept").default_for(v("1.17")), Some("1"));
        assert_eq!(
            global("unix_socket_dir").default_for(v("1.18")),
            Some("/tmp")
        );
        assert_eq!(
            global("client_tls_ciphers").default_for(v("1.20")),
            Some("fast")
        );
        assert_eq!(
            global("client_tls_ciphers").default_for(v("1.21")),
            Some("default")
        );
        assert_eq!(
            global("default_pool_size").default_for(v("1.15")),
            Some("20")
        );
        assert_eq!(global("admin_users").default_for(v("1.15")), Some(""));
        assert_eq!(global("auth_user").default_for(v("1.15")), None);
        assert_eq!(
            opt(Section::Databases, "port").default_for(v("1.15")),
            Some("5432")
        );
        assert_eq!(
            opt(Section::Databases, "pool_size").default_for(v("1.15")),
            None
        );
        assert_eq!(
            opt(Section::Peers, "port").default_for(v("1.19")),
            Some("6432")
        );
    }

    #[test]
    fn reloadable_and_allowed_per_version() {
        let ca = global("client_tls_ca_file");
        assert!(!ca.reloadable_in(v("1.15")));
        assert!(ca.reloadable_in(v("1.16")));
        let auth = global("auth_type");
        assert!(!auth.allowed_for(v("1.24")).contains(&"ldap"));
        assert!(auth.allowed_for(v("1.25")).contains(&"ldap"));
        assert!(auth.allowed.contains(&"ldap"));
        assert!(parse_value_in(auth, "ldap", Some(v("1.24"))).is_err());
        assert!(parse_value_in(auth, "LDAP", Some(v("1.25"))).is_ok());
        assert_eq!(
            parse_value_in(auth, "SCRAM-SHA-256", Some(v("1.18"))).map(|x| x.normalized),
            Ok("scram-sha-256".to_string())
        );
    }

    #[test]
    fn classify_known() {
        let got = classify(Section::Pgbouncer, "pool_mode", Some(v("1.18")));
        assert!(matches!(got, PgbName::Known(o) if o.name == "pool_mode"));
        let got = classify(Section::Databases, "reserve_pool", Some(v("1.15")));
        assert!(matches!(got, PgbName::Known(_)));
        let got = classify(Section::Pgbouncer, "pool_idle_timeout", None);
        assert!(matches!(got, PgbName::Known(_)), "no version: never NotYet");
    }

    #[test]
    fn classify_not_yet() {
        let got = classify(
            Section::Pgbouncer,
            "max_prepared_statements",
            Some(v("1.18")),
        );
        assert!(matches!(got, PgbName::NotYet { introduced_in, .. } if introduced_in == v("1.21")));
        assert!(matches!(
            classify(
                Section::Pgbouncer,
                "max_prepared_statements",
                Some(v("1.21"))
            ),
            PgbName::Known(_)
        ));
        let got = classify(Section::Databases, "reserve_pool_size", Some(v("1.23")));
        assert!(matches!(got, PgbName::NotYet { introduced_in, .. } if introduced_in == v("1.24")));
        let got = classify(Section::Peers, "host", Some(v("1.18")));
        assert!(matches!(got, PgbName::NotYet { introduced_in, .. } if introduced_in == v("1.19")));
        // Unreleased keys are "not yet" for every released version.
        let got = classify(Section::Pgbouncer, "login_notify_message", Some(v("1.25")));
        assert!(matches!(
            got,
            PgbName::NotYet { option, introduced_in } if introduced_in == PgbVersion::UNRELEASED
                && option.name == "login_notify_message"
        ));
    }

    #[test]
    fn classify_wrong_section() {
        for name in ["pool_size", "timezone", "client_encoding", "host"] {
            assert_eq!(
                classify(Section::Pgbouncer, name, Some(v("1.21"))),
                PgbName::WrongSection {
                    belongs_to: Section::Databases
                },
                "{name}"
            );
        }
        assert_eq!(
            classify(Section::Databases, "server_tls_sslmode", None),
            PgbName::WrongSection {
                belongs_to: Section::Pgbouncer
            }
        );
        assert_eq!(
            classify(Section::Users, "default_pool_size", None),
            PgbName::WrongSection {
                belongs_to: Section::Pgbouncer
            }
        );
    }

    #[test]
    fn classify_unknown() {
        assert_eq!(
            classify(
                Section::Pgbouncer,
                "max_client_connections",
                Some(v("1.25"))
            ),
            PgbName::Unknown {
                suggestion: Some("max_client_conn")
            }
        );
        assert_eq!(
            classify(Section::Pgbouncer, "defualt_pool_size", None),
            PgbName::Unknown {
                suggestion: Some("default_pool_size")
            }
        );
        assert_eq!(
            classify(Section::Pgbouncer, "POOL_MODE", Some(v("1.18"))),
            PgbName::Unknown {
                suggestion: Some("pool_mode")
            }
        );
        assert_eq!(
            classify(
                Section::Pgbouncer,
                "completely_bogus_thing",
                Some(v("1.18"))
            ),
            PgbName::Unknown { suggestion: None }
        );
        assert_eq!(
            classify(Section::Databases, "max_prepared_statements", None),
            PgbName::WrongSection {
                belongs_to: Section::Pgbouncer
            }
        );
    }

    #[test]
    fn integers_follow_strtol() {
        let got = ok(Section::Pgbouncer, "default_pool_size", "0x10");
        assert_eq!(
            (got.normalized.as_str(), got.traps.as_slice()),
            ("16", &[PgbTrap::Hex][..])
        );
        let got = ok(Section::Pgbouncer, "max_client_conn", "010");
        assert_eq!(
            (got.normalized.as_str(), got.traps.as_slice()),
            ("8", &[PgbTrap::Octal][..])
        );
        let got = ok(Section::Pgbouncer, "unix_socket_mode", "0777");
        assert_eq!((got.normalized.as_str(), got.traps.len()), ("511", 0));
        let got = ok(Section::Pgbouncer, "default_pool_size", "-1");
        assert_eq!(
            (got.number, got.traps.as_slice()),
            (Some(-1.0), &[PgbTrap::Negative][..])
        );
        let got = ok(Section::Pgbouncer, "max_client_conn", "99999999999");
        assert_eq!(got.normalized, "1215752191");
        assert_eq!(
            got.traps,
            [PgbTrap::Overflow {
                wrapped_to: 1_215_752_191
            }]
        );
        let got = ok(
            Section::Pgbouncer,
            "max_client_conn",
            "99999999999999999999",
        );
        assert_eq!(got.traps, [PgbTrap::Overflow { wrapped_to: -1 }]);
        let got = ok(Section::Pgbouncer, "max_client_conn", "0");
        assert!(got.traps.is_empty());
        assert!(
            ok(Section::Pgbouncer, "max_client_conn", "100")
                .traps
                .is_empty()
        );
        for raw in ["twenty", "20 connections", "", "08", "0x", "1.5", "20;"] {
            let err = parse(Section::Pgbouncer, "default_pool_size", raw).expect_err(raw);
            assert!(
                matches!(err, PgbValueError::Invalid { .. }),
                "{raw}: {err:?}"
            );
        }
        let err = parse(Section::Pgbouncer, "default_pool_size", "twenty").expect_err("text");
        assert_eq!(
            err.to_string(),
            "invalid value \"twenty\" for parameter default_pool_size (expected an integer)"
        );
    }

    #[test]
    fn unsigned_wraps_to_32_bits() {
        let got = ok(Section::Pgbouncer, "max_packet_size", "-1");
        assert_eq!(got.normalized, "4294967295");
        assert!(got.traps.contains(&PgbTrap::Negative));
        let got = ok(Section::Pgbouncer, "max_packet_size", "4294967296");
        assert_eq!(got.traps, [PgbTrap::Overflow { wrapped_to: 0 }]);
        assert!(
            ok(Section::Pgbouncer, "max_packet_size", "2147483647")
                .traps
                .is_empty()
        );
    }

    #[test]
    fn booleans_are_integers() {
        assert_eq!(
            ok(Section::Pgbouncer, "log_connections", "0").normalized,
            "0"
        );
        assert_eq!(
            ok(Section::Pgbouncer, "log_connections", "1").normalized,
            "1"
        );
        assert_eq!(
            ok(Section::Pgbouncer, "log_connections", "2").normalized,
            "2"
        );
        for raw in ["yes", "on", "True", "OFF", "no", "false"] {
            let err = parse(Section::Pgbouncer, "log_connections", raw).expect_err(raw);
            assert!(matches!(err, PgbValueError::BoolWord { .. }), "{raw}");
        }
        let err = parse(Section::Pgbouncer, "server_round_robin", "on").expect_err("word");
        assert!(
            err.to_string()
                .starts_with("invalid value \"on\" for parameter server_round_robin")
        );
        assert!(matches!(
            parse(Section::Pgbouncer, "log_connections", "enabled"),
            Err(PgbValueError::Invalid { .. })
        ));
    }

    #[test]
    fn times_are_float_seconds_without_units() {
        let got = ok(Section::Pgbouncer, "server_idle_timeout", "1.5");
        assert_eq!((got.normalized.as_str(), got.number), ("1.5", Some(1.5)));
        assert_eq!(
            ok(Section::Pgbouncer, "query_wait_timeout", "0.25").normalized,
            "0.25"
        );
        assert_eq!(
            ok(Section::Pgbouncer, "server_lifetime", "3600").normalized,
            "3600"
        );
        assert_eq!(
            ok(Section::Pgbouncer, "server_lifetime", "1e3").normalized,
            "1000"
        );
        assert_eq!(
            ok(Section::Pgbouncer, "server_lifetime", "0x10").traps,
            [PgbTrap::Hex]
        );
        for raw in ["30s", "30 s", "10min", "1.5ms"] {
            let err = parse(Section::Pgbouncer, "server_idle_timeout", raw).expect_err(raw);
            assert!(matches!(err, PgbValueError::UnitSuffix { .. }), "{raw}");
        }
        let err = parse(Section::Pgbouncer, "server_idle_timeout", "30s").expect_err("unit");
        assert!(
            err.to_string()
                .starts_with("invalid value \"30s\" for parameter server_idle_timeout")
        );
        let err = parse(Section::Pgbouncer, "server_idle_timeout", "-1").expect_err("negative");
        assert!(matches!(err, PgbValueError::Invalid { .. }));
        for raw in [
            "",
            "abc",
            "inf",
            "nan",
            "1e999",
            "3600        ; 1 hour max connection age",
        ] {
            assert!(
                parse(Section::Pgbouncer, "server_lifetime", raw).is_err(),
                "{raw}"
            );
        }
        assert!(matches!(
            parse(
                Section::Pgbouncer,
                "server_lifetime",
                "3600        ; 1 hour max connection age"
            ),
            Err(PgbValueError::InlineComment { .. })
        ));
        // Integer seconds and milliseconds reject unit suffixes too.
        assert!(matches!(
            parse(Section::Pgbouncer, "stats_period", "60s"),
            Err(PgbValueError::UnitSuffix { .. })
        ));
        assert!(matches!(
            parse(Section::Pgbouncer, "tcp_user_timeout", "500ms"),
            Err(PgbValueError::UnitSuffix { .. })
        ));
        assert!(matches!(
            parse(Section::Pgbouncer, "default_pool_size", "20x"),
            Err(PgbValueError::Invalid { .. })
        ));
    }

    #[test]
    fn enums_are_case_insensitive() {
        assert_eq!(
            ok(Section::Pgbouncer, "pool_mode", "TRANSACTION").normalized,
            "transaction"
        );
        let err = parse(Section::Pgbouncer, "pool_mode", "foo").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "invalid value \"foo\" for parameter pool_mode (expected one of: session, transaction, statement)"
        );
        let err =
            parse(Section::Pgbouncer, "pool_mode", "transaction ; comment").expect_err("comment");
        assert!(matches!(err, PgbValueError::InlineComment { .. }));
        assert!(matches!(
            parse(Section::Pgbouncer, "auth_type", "password"),
            Err(PgbValueError::Invalid { .. })
        ));
        assert!(parse(Section::Pgbouncer, "server_tls_sslmode", "disabled").is_err());
    }

    #[test]
    fn strings_are_verbatim_with_traps() {
        let got = ok(Section::Pgbouncer, "admin_users", "\"admin\"");
        assert_eq!(
            (got.normalized.as_str(), got.traps.as_slice()),
            ("\"admin\"", &[PgbTrap::QuotedString][..])
        );
        let got = ok(
            Section::Pgbouncer,
            "server_reset_query",
            "DISCARD ALL # comment",
        );
        assert_eq!(got.traps, [PgbTrap::InlineComment]);
        let got = ok(
            Section::Pgbouncer,
            "server_reset_query",
            "DISCARD ALL ; comment",
        );
        assert_eq!(got.traps, [PgbTrap::InlineComment]);
        assert!(
            ok(Section::Pgbouncer, "server_check_query", "select 'a=b'")
                .traps
                .is_empty()
        );
        assert!(
            ok(Section::Pgbouncer, "server_check_query", "select ' ;x'")
                .traps
                .is_empty()
        );
        assert!(
            ok(Section::Pgbouncer, "server_reset_query", "DISCARD ALL;")
                .traps
                .is_empty()
        );
        assert!(
            ok(Section::Pgbouncer, "logfile", "/var/log/pgbouncer.log")
                .traps
                .is_empty()
        );
        assert_eq!(
            ok(Section::Pgbouncer, "server_check_query", "").normalized,
            ""
        );
    }

    #[test]
    fn connection_string_numbers_use_atoi() {
        let got = ok(Section::Databases, "pool_size", "abc");
        assert_eq!(
            (got.normalized.as_str(), got.traps.as_slice()),
            ("0", &[PgbTrap::AtoiZero][..])
        );
        assert!(ok(Section::Databases, "pool_size", "0").traps.is_empty());
        assert!(ok(Section::Databases, "pool_size", "25").traps.is_empty());
        assert_eq!(ok(Section::Databases, "pool_size", "010").normalized, "10");
        let got = ok(Section::Databases, "server_lifetime", "1.5");
        assert_eq!(
            (got.number, got.traps.as_slice()),
            (Some(1.0), &[PgbTrap::AtoiTruncated { to: 1 }][..])
        );
        let got = ok(Section::Users, "query_timeout", "30s");
        assert_eq!(got.traps, [PgbTrap::AtoiTruncated { to: 30 }]);
        let got = ok(Section::Databases, "pool_size", "-1");
        assert_eq!(got.traps, [PgbTrap::Negative]);
        assert!(
            ok(Section::Databases, "query_wait_timeout", "-1")
                .traps
                .is_empty()
        );
        let got = ok(Section::Users, "max_user_connections", "99999999999");
        assert_eq!(
            got.traps,
            [PgbTrap::Overflow {
                wrapped_to: 1_215_752_191
            }]
        );
        // Wrapped to a negative int: the overflow, not a negative number.
        let got = ok(Section::Databases, "pool_size", "3000000000");
        assert_eq!(
            got.traps,
            [PgbTrap::Overflow {
                wrapped_to: -1_294_967_296
            }]
        );
        let err = parse(Section::Databases, "port", "abc").expect_err("port check");
        assert_eq!(
            err,
            PgbValueError::Invalid {
                param: "port",
                raw: "abc".to_string(),
                reason: "invalid port: abc".to_string()
            }
        );
        assert!(parse(Section::Peers, "port", "0").is_err());
        assert_eq!(ok(Section::Peers, "port", "6432").number, Some(6432.0));
    }

    #[test]
    fn connection_string_enums_and_strings() {
        assert_eq!(
            ok(Section::Databases, "pool_mode", "Transaction").normalized,
            "transaction"
        );
        let err = parse(Section::Databases, "pool_mode", "foo").expect_err("bad mode");
        assert!(
            matches!(err, PgbValueError::Invalid { ref reason, .. } if reason == "invalid pool mode: foo")
        );
        assert_eq!(
            ok(Section::Users, "pool_mode", "session").normalized,
            "session"
        );
        let err = parse(Section::Databases, "load_balance_hosts", "random").expect_err("bad");
        assert!(
            matches!(err, PgbValueError::Invalid { ref reason, .. } if reason == "invalid load_balance_hosts: random")
        );
        let got = ok(Section::Databases, "dbname", "\"postgres\"");
        assert_eq!(got.traps, [PgbTrap::QuotedString]);
        // Already unquoted by the connection-string reader: '#' and ';' are just text.
        assert!(
            ok(Section::Databases, "connect_query", "SELECT 1 ; -- x #y")
                .traps
                .is_empty()
        );
    }

    #[test]
    fn error_accessors() {
        let err = parse(Section::Pgbouncer, "log_connections", "yes").expect_err("word");
        assert_eq!((err.param(), err.raw()), ("log_connections", "yes"));
        assert!(err.reason().contains("1 or 0"));
    }
}
