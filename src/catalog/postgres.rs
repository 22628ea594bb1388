//! PostgreSQL parameters of majors 12–18: what exists in which major, and how the server
//! parses a value (`guc.c`: `parse_bool`, `parse_int`, `parse_real`, `convert_to_base_unit`).
//!
//! Facts: `../shared/reference/postgres/gucs_by_version.json` (per-major catalog),
//! `guc-versions.md` (renames and aliases), `conf-syntax.md` (value parsing, verified on 15.18).

use std::fmt;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use super::{Radix, c_strtod, c_strtol, closest, format_number, list_cell, opt_cell, table_rows};

/// The PostgreSQL majors poolstack supports: the one range every command accepts (a manifest's
/// `version`, `--pg-version` of check, import and tune, a `# poolstack: postgres N` directive).
/// The README's "Supported versions" states it.
pub const SUPPORTED_MAJORS: RangeInclusive<u32> = 13..=18;

/// The majors the catalog data describes (one more than supported, for facts about upgrades).
const CATALOG_MAJORS: RangeInclusive<u32> = 12..=18;

/// `PostgreSQL 13 to 18`, for messages.
pub fn supported_text() -> String {
    format!(
        "PostgreSQL {} to {}",
        SUPPORTED_MAJORS.start(),
        SUPPORTED_MAJORS.end()
    )
}

const PARAMS_TSV: &str = include_str!("data/pg_params.tsv");
const ALIASES_TSV: &str = include_str!("data/pg_aliases.tsv");
const RENAMES_TSV: &str = include_str!("data/pg_renames.tsv");

/// Memory units, largest last as PostgreSQL lists them in its HINT.
pub const MEMORY_UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
/// Time units, smallest first as PostgreSQL lists them in its HINT.
pub const TIME_UNITS: &[&str] = &["us", "ms", "s", "min", "h", "d"];

/// A parameter's value type (`pg_settings.vartype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgType {
    Bool,
    Integer,
    Real,
    String,
    Enum,
}

impl PgType {
    fn from_cell(cell: &str) -> Option<PgType> {
        Some(match cell {
            "bool" => PgType::Bool,
            "integer" => PgType::Integer,
            "real" => PgType::Real,
            "string" => PgType::String,
            "enum" => PgType::Enum,
            _ => return None,
        })
    }

    /// The `pg_settings.vartype` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PgType::Bool => "bool",
            PgType::Integer => "integer",
            PgType::Real => "real",
            PgType::String => "string",
            PgType::Enum => "enum",
        }
    }
}

/// A parameter's base unit (`pg_settings.unit`): a bare number is in this unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgUnit {
    None,
    Bytes,
    KiloBytes,
    MegaBytes,
    /// Pages of BLCKSZ or XLOG_BLCKSZ, 8kB on every common build.
    Blocks8k,
    Micros,
    Millis,
    Seconds,
    Minutes,
}

const KB: f64 = 1024.0;
const MEMORY_B: &[(&str, f64)] = &[
    ("TB", KB * KB * KB * KB),
    ("GB", KB * KB * KB),
    ("MB", KB * KB),
    ("kB", KB),
    ("B", 1.0),
];
const MEMORY_KB: &[(&str, f64)] = &[
    ("TB", KB * KB * KB),
    ("GB", KB * KB),
    ("MB", KB),
    ("kB", 1.0),
    ("B", 1.0 / KB),
];
const MEMORY_MB: &[(&str, f64)] = &[
    ("TB", KB * KB),
    ("GB", KB),
    ("MB", 1.0),
    ("kB", 1.0 / KB),
    ("B", 1.0 / (KB * KB)),
];
const MEMORY_BLOCKS: &[(&str, f64)] = &[
    ("TB", (KB * KB * KB) / 8.0),
    ("GB", (KB * KB) / 8.0),
    ("MB", KB / 8.0),
    ("kB", 1.0 / 8.0),
    ("B", 1.0 / 8192.0),
];
const TIME_US: &[(&str, f64)] = &[
    ("d", 86_400_000_000.0),
    ("h", 3_600_000_000.0),
    ("min", 60_000_000.0),
    ("s", 1_000_000.0),
    ("ms", 1000.0),
    ("us", 1.0),
];
const TIME_MS: &[(&str, f64)] = &[
    ("d", 86_400_000.0),
    ("h", 3_600_000.0),
    ("min", 60_000.0),
    ("s", 1000.0),
    ("ms", 1.0),
    ("us", 1.0 / 1000.0),
];
const TIME_S: &[(&str, f64)] = &[
    ("d", 86_400.0),
    ("h", 3600.0),
    ("min", 60.0),
    ("s", 1.0),
    ("ms", 1.0 / 1000.0),
    ("us", 1.0 / 1_000_000.0),
];
const TIME_MIN: &[(&str, f64)] = &[
    ("d", 1440.0),
    ("h", 60.0),
    ("min", 1.0),
    ("s", 1.0 / 60.0),
    ("ms", 1.0 / 60_000.0),
    ("us", 1.0 / 60_000_000.0),
];

impl PgUnit {
    fn from_cell(cell: &str) -> Option<PgUnit> {
        Some(match cell {
            "\\N" => PgUnit::None,
            "B" => PgUnit::Bytes,
            "kB" => PgUnit::KiloBytes,
            "MB" => PgUnit::MegaBytes,
            "8kB" => PgUnit::Blocks8k,
            "us" => PgUnit::Micros,
            "ms" => PgUnit::Millis,
            "s" => PgUnit::Seconds,
            "min" => PgUnit::Minutes,
            _ => return None,
        })
    }

    /// PostgreSQL's spelling of the unit (`pg_settings.unit`); empty for unit-less.
    pub fn as_str(self) -> &'static str {
        match self {
            PgUnit::None => "",
            PgUnit::Bytes => "B",
            PgUnit::KiloBytes => "kB",
            PgUnit::MegaBytes => "MB",
            PgUnit::Blocks8k => "8kB",
            PgUnit::Micros => "us",
            PgUnit::Millis => "ms",
            PgUnit::Seconds => "s",
            PgUnit::Minutes => "min",
        }
    }

    pub fn is_memory(self) -> bool {
        matches!(
            self,
            PgUnit::Bytes | PgUnit::KiloBytes | PgUnit::MegaBytes | PgUnit::Blocks8k
        )
    }

    pub fn is_time(self) -> bool {
        matches!(
            self,
            PgUnit::Micros | PgUnit::Millis | PgUnit::Seconds | PgUnit::Minutes
        )
    }

    /// The unit suffixes a value of this parameter may carry (empty for unit-less).
    pub fn valid_units(self) -> &'static [&'static str] {
        if self.is_memory() {
            MEMORY_UNITS
        } else if self.is_time() {
            TIME_UNITS
        } else {
            &[]
        }
    }

    /// Bytes in one base unit of a memory parameter (`8kB` -> 8192); `None` otherwise.
    pub fn bytes_per_unit(self) -> Option<u64> {
        match self {
            PgUnit::Bytes => Some(1),
            PgUnit::KiloBytes => Some(1024),
            PgUnit::MegaBytes => Some(1024 * 1024),
            PgUnit::Blocks8k => Some(8192),
            _ => None,
        }
    }

    /// Microseconds in one base unit of a time parameter (`min` -> 60 000 000); `None`
    /// otherwise.
    pub fn micros_per_unit(self) -> Option<u64> {
        match self {
            PgUnit::Micros => Some(1),
            PgUnit::Millis => Some(1000),
            PgUnit::Seconds => Some(1_000_000),
            PgUnit::Minutes => Some(60_000_000),
            _ => None,
        }
    }

    /// PostgreSQL's conversion table for this base unit: (suffix, multiplier), largest first.
    fn conversions(self) -> &'static [(&'static str, f64)] {
        match self {
            PgUnit::None => &[],
            PgUnit::Bytes => MEMORY_B,
            PgUnit::KiloBytes => MEMORY_KB,
            PgUnit::MegaBytes => MEMORY_MB,
            PgUnit::Blocks8k => MEMORY_BLOCKS,
            PgUnit::Micros => TIME_US,
            PgUnit::Millis => TIME_MS,
            PgUnit::Seconds => TIME_S,
            PgUnit::Minutes => TIME_MIN,
        }
    }
}

/// One parameter as it exists in one major.
#[derive(Debug, Clone, PartialEq)]
pub struct PgParam {
    /// Canonical spelling, e.g. `DateStyle`.
    pub name: &'static str,
    pub ty: PgType,
    pub unit: PgUnit,
    /// `pg_settings.context`: internal, postmaster, sighup, superuser-backend, backend,
    /// superuser, user.
    pub context: &'static str,
    /// Range in the base unit (integer and real parameters).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Compile-time boot value in the base unit (not what initdb writes).
    pub default: Option<&'static str>,
    /// Documented enum values (pg_settings.enumvals).
    pub enum_values: &'static [&'static str],
    /// GUC_LIST_INPUT: a comma-separated list.
    pub list_input: bool,
    /// GUC_REPORT: sent to clients as ParameterStatus (PgBouncer can track it).
    pub report: bool,
    /// Set when the parameter arrived in a minor release of this major (e.g. "16.12").
    pub since_minor: Option<&'static str>,
    /// Undocumented enum spellings: "alias=value" or "alias" (meaning itself).
    hidden_enum: &'static [&'static str],
}

impl PgParam {
    /// A change only takes effect after a server restart.
    pub fn needs_restart(&self) -> bool {
        self.context == "postmaster"
    }

    /// Read-only (`internal`): it cannot be set in postgresql.conf at all.
    pub fn is_read_only(&self) -> bool {
        self.context == "internal"
    }

    /// Undocumented enum spellings PostgreSQL still accepts, with the value each one means
    /// (`wal_level = hot_standby` means `replica`).
    pub fn hidden_enum_values(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.hidden_enum
            .iter()
            .map(|item| match item.split_once('=') {
                Some((alias, target)) => (alias, target),
                None => (*item, *item),
            })
    }
}

struct PgRow {
    from: u32,
    to: u32,
    param: PgParam,
}

struct PgAlias {
    alias: &'static str,
    target: &'static str,
    from: u32,
    to: u32,
}

struct PgRename {
    old: &'static str,
    new: &'static str,
    major: u32,
}

struct PgData {
    rows: Vec<PgRow>,
    aliases: Vec<PgAlias>,
    renames: Vec<PgRename>,
}

fn parse_num(cell: &'static str) -> Option<Option<f64>> {
    match opt_cell(cell) {
        None => Some(None),
        Some(text) => text.parse().ok().map(Some),
    }
}

fn parse_row(cells: &[&'static str]) -> Option<PgRow> {
    let [
        name,
        from,
        to,
        ty,
        context,
        unit,
        min,
        max,
        default,
        enums,
        hidden,
        list,
        report,
        minor,
    ] = cells
    else {
        return None;
    };
    Some(PgRow {
        from: from.parse().ok()?,
        to: to.parse().ok()?,
        param: PgParam {
            name,
            ty: PgType::from_cell(ty)?,
            unit: PgUnit::from_cell(unit)?,
            context,
            min: parse_num(min)?,
            max: parse_num(max)?,
            default: opt_cell(default),
            enum_values: list_cell(enums),
            list_input: *list == "1",
            report: *report == "1",
            since_minor: opt_cell(minor),
            hidden_enum: list_cell(hidden),
        },
    })
}

fn data() -> &'static PgData {
    static DATA: OnceLock<PgData> = OnceLock::new();
    DATA.get_or_init(|| {
        let rows = table_rows(PARAMS_TSV, 14)
            .filter_map(|cells| {
                let row = parse_row(&cells);
                debug_assert!(row.is_some(), "bad pg_params row: {cells:?}");
                row
            })
            .collect();
        let aliases = table_rows(ALIASES_TSV, 4)
            .filter_map(|c| {
                Some(PgAlias {
                    alias: c[0],
                    target: c[1],
                    from: c[2].parse().ok()?,
                    to: c[3].parse().ok()?,
                })
            })
            .collect();
        let renames = table_rows(RENAMES_TSV, 3)
            .filter_map(|c| {
                Some(PgRename {
                    old: c[0],
                    new: c[1],
                    major: c[2].parse().ok()?,
                })
            })
            .collect();
        PgData {
            rows,
            aliases,
            renames,
        }
    })
}

/// ASCII case-insensitive ordering, PostgreSQL's `guc_name_compare`.
fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The parameters of one PostgreSQL major.
#[derive(Debug)]
pub struct PgCatalog {
    major: u32,
    /// Sorted case-insensitively by name.
    params: Vec<&'static PgParam>,
}

/// How a name reads in one major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PgName<'a> {
    Known(&'a PgParam),
    /// An old name the server maps to a current one (`sort_mem` -> `work_mem`).
    Alias {
        alias: &'static str,
        param: &'a PgParam,
    },
    /// `prefix.name`: a custom (extension) placeholder, accepted without validation.
    Extension,
    /// Exists only in later majors.
    NotYet {
        introduced_in: u32,
    },
    /// Existed in earlier majors; `replacement` names its successor when it was renamed.
    Removed {
        removed_in: u32,
        replacement: Option<&'static str>,
    },
    /// Exists in no supported major.
    Unknown {
        suggestion: Option<&'static str>,
    },
}

impl PgCatalog {
    /// The catalog of `major`, or `None` outside the majors the data describes.
    pub fn for_major(major: u32) -> Option<&'static PgCatalog> {
        static CATALOGS: [OnceLock<PgCatalog>; 7] = [const { OnceLock::new() }; 7];
        if !CATALOG_MAJORS.contains(&major) {
            return None;
        }
        let slot = CATALOGS.get((major - CATALOG_MAJORS.start()) as usize)?;
        Some(slot.get_or_init(|| {
            let mut params: Vec<&'static PgParam> = data()
                .rows
                .iter()
                .filter(|row| (row.from..=row.to).contains(&major))
                .map(|row| &row.param)
                .collect();
            params.sort_by(|a, b| cmp_ignore_case(a.name, b.name));
            PgCatalog { major, params }
        }))
    }

    pub fn major(&self) -> u32 {
        self.major
    }

    /// The parameter called `name` (case-insensitive). Aliases are not resolved: see
    /// [`PgCatalog::classify`].
    pub fn get(&self, name: &str) -> Option<&PgParam> {
        self.params
            .binary_search_by(|p| cmp_ignore_case(p.name, name))
            .ok()
            .and_then(|i| self.params.get(i).copied())
    }

    /// Every parameter of this major, sorted by name (case-insensitively).
    pub fn params(&self) -> impl Iterator<Item = &PgParam> {
        self.params.iter().copied()
    }

    /// What `name` is in this major: a parameter, an alias, an extension placeholder, a
    /// parameter of an earlier or later major, or unknown (with the closest name).
    pub fn classify(&self, name: &str) -> PgName<'_> {
        if let Some(param) = self.get(name) {
            return PgName::Known(param);
        }
        let data = data();
        let alias = data
            .aliases
            .iter()
            .find(|a| a.alias.eq_ignore_ascii_case(name) && (a.from..=a.to).contains(&self.major));
        if let Some(alias) = alias
            && let Some(param) = self.get(alias.target)
        {
            return PgName::Alias {
                alias: alias.alias,
                param,
            };
        }
        if is_custom_name(name) {
            return PgName::Extension;
        }
        let mut last_before = None;
        let mut first_after = None;
        for row in data
            .rows
            .iter()
            .filter(|r| r.param.name.eq_ignore_ascii_case(name))
        {
            if row.from < self.major {
                last_before = last_before.max(Some(row.to.min(self.major - 1)));
            }
            if row.to > self.major {
                let first = row.from.max(self.major + 1);
                first_after = Some(first_after.map_or(first, |f: u32| f.min(first)));
            }
        }
        if let Some(last) = last_before {
            let replacement = data
                .renames
                .iter()
                .find(|r| r.old.eq_ignore_ascii_case(name) && r.major <= self.major)
                .map(|r| r.new);
            return PgName::Removed {
                removed_in: last + 1,
                replacement,
            };
        }
        if let Some(introduced_in) = first_after {
            return PgName::NotYet { introduced_in };
        }
        PgName::Unknown {
            suggestion: closest(name, self.params.iter().map(|p| p.name)),
        }
    }
}

/// `prefix.name` as PostgreSQL's `valid_custom_variable_name` accepts it: dot-separated
/// identifiers (a letter, `_` or a non-ASCII byte first; digits and `$` after that).
fn is_custom_name(name: &str) -> bool {
    name.contains('.')
        && name.split('.').all(|part| {
            let mut bytes = part.bytes();
            bytes
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80)
        })
}

/// A value as the server would store it.
#[derive(Debug, Clone, PartialEq)]
pub struct PgValue {
    /// What `postgres -C` prints: the integer in base units, `on`/`off`, the enum value as
    /// the catalog spells it, the string itself.
    pub normalized: String,
    /// Numeric value in the base unit (integer and real parameters).
    pub base: Option<f64>,
    /// False when a fraction or a sub-unit part was rounded away (`'1.2MB'` on work_mem).
    pub exact: bool,
    /// A non-zero input that became 0 (`statement_timeout = '100us'` disables the timeout).
    pub rounded_to_zero: bool,
    /// The integer was read as octal (leading `0`) or hexadecimal (`0x`).
    pub radix_prefix: bool,
}

/// Why the server would refuse a value. `message()` and `hint()` follow PostgreSQL's wording.
#[derive(Debug, Clone, PartialEq)]
pub enum PgValueError {
    NotBoolean {
        param: &'static str,
        raw: String,
    },
    NotNumber {
        param: &'static str,
        raw: String,
    },
    /// An unknown or wrong-case unit (`7gb`), or a unit of the wrong kind (`10s` on memory).
    InvalidUnit {
        param: &'static str,
        raw: String,
        valid: &'static [&'static str],
    },
    /// A unit on a unit-less parameter (`random_page_cost = '1.1s'`).
    UnitNotAllowed {
        param: &'static str,
        raw: String,
    },
    /// Beyond the 32-bit integer range before the min/max check.
    ExceedsIntegerRange {
        param: &'static str,
        raw: String,
    },
    OutOfRange {
        param: &'static str,
        value: String,
        min: String,
        max: String,
        unit: Option<&'static str>,
    },
    InvalidEnum {
        param: &'static str,
        raw: String,
        allowed: Vec<&'static str>,
    },
}

impl PgValueError {
    /// The parameter the value was meant for.
    pub fn param(&self) -> &'static str {
        match self {
            PgValueError::NotBoolean { param, .. }
            | PgValueError::NotNumber { param, .. }
            | PgValueError::InvalidUnit { param, .. }
            | PgValueError::UnitNotAllowed { param, .. }
            | PgValueError::ExceedsIntegerRange { param, .. }
            | PgValueError::OutOfRange { param, .. }
            | PgValueError::InvalidEnum { param, .. } => param,
        }
    }

    /// The server's error line, e.g. `invalid value for parameter "shared_buffers": "7gb"`.
    pub fn message(&self) -> String {
        match self {
            PgValueError::NotBoolean { param, .. } => {
                format!("parameter \"{param}\" requires a Boolean value")
            }
            PgValueError::NotNumber { param, raw }
            | PgValueError::InvalidUnit { param, raw, .. }
            | PgValueError::UnitNotAllowed { param, raw }
            | PgValueError::ExceedsIntegerRange { param, raw }
            | PgValueError::InvalidEnum { param, raw, .. } => {
                format!("invalid value for parameter \"{param}\": \"{raw}\"")
            }
            PgValueError::OutOfRange {
                param,
                value,
                min,
                max,
                unit,
            } => {
                let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
                format!(
                    "{value}{unit} is outside the valid range for parameter \"{param}\" ({min} .. {max})"
                )
            }
        }
    }

    /// The server's HINT line, when it gives one.
    pub fn hint(&self) -> Option<String> {
        match self {
            PgValueError::InvalidUnit { valid, .. } => {
                let quoted: Vec<String> = valid.iter().map(|u| format!("\"{u}\"")).collect();
                let (last, rest) = quoted.split_last()?;
                Some(format!(
                    "Valid units for this parameter are {}, and {last}.",
                    rest.join(", ")
                ))
            }
            PgValueError::ExceedsIntegerRange { .. } => {
                Some("Value exceeds integer range.".to_string())
            }
            PgValueError::InvalidEnum { allowed, .. } => {
                Some(format!("Available values: {}.", allowed.join(", ")))
            }
            _ => None,
        }
    }
}

impl fmt::Display for PgValueError {
    /// One line: the message, then the hint in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        if let Some(hint) = self.hint() {
            write!(f, " (HINT: {hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PgValueError {}

/// Parse a value exactly as PostgreSQL's GUC code would.
///
/// `raw` is the value after the configuration file's quote removal (or a manifest string).
/// Integers and reals accept a unit (case-sensitive) when the parameter has one and are
/// converted to the base unit; a fraction is rounded to the next smaller unit, then integers
/// are rounded half-to-even (C `rint`). Integers are read with `strtol` base 0, so a leading
/// `0` is octal and `0x` hexadecimal. Booleans accept on/off/true/false/yes/no/1/0 and
/// unambiguous prefixes, case-insensitively; enums match case-insensitively, including the
/// undocumented spellings PostgreSQL keeps for compatibility.
pub fn parse_value(param: &PgParam, raw: &str) -> Result<PgValue, PgValueError> {
    match param.ty {
        PgType::Bool => parse_bool(raw)
            .map(|on| PgValue {
                normalized: if on { "on" } else { "off" }.to_string(),
                base: None,
                exact: true,
                rounded_to_zero: false,
                radix_prefix: false,
            })
            .ok_or_else(|| PgValueError::NotBoolean {
                param: param.name,
                raw: raw.to_string(),
            }),
        PgType::Integer => parse_number(param, raw, true),
        PgType::Real => parse_number(param, raw, false),
        PgType::Enum => parse_enum(param, raw),
        PgType::String => Ok(PgValue {
            normalized: raw.to_string(),
            base: None,
            exact: true,
            rounded_to_zero: false,
            radix_prefix: false,
        }),
    }
}

/// PostgreSQL's `parse_bool`: whole words or unambiguous prefixes, case-insensitive.
fn parse_bool(raw: &str) -> Option<bool> {
    let lower = raw.to_ascii_lowercase();
    let is_prefix = |word: &str, min_len: usize| lower.len() >= min_len && word.starts_with(&lower);
    match lower.as_bytes().first()? {
        b't' if is_prefix("true", 1) => Some(true),
        b'f' if is_prefix("false", 1) => Some(false),
        b'y' if is_prefix("yes", 1) => Some(true),
        b'n' if is_prefix("no", 1) => Some(false),
        // "o" alone is ambiguous between on and off.
        b'o' if is_prefix("on", 2) => Some(true),
        b'o' if is_prefix("off", 2) => Some(false),
        b'1' if lower.len() == 1 => Some(true),
        b'0' if lower.len() == 1 => Some(false),
        _ => None,
    }
}

fn parse_enum(param: &PgParam, raw: &str) -> Result<PgValue, PgValueError> {
    let found = param
        .enum_values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(raw))
        .copied()
        .or_else(|| {
            param
                .hidden_enum_values()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(raw))
                .map(|(_, target)| target)
        });
    match found {
        Some(value) => Ok(PgValue {
            normalized: value.to_string(),
            base: None,
            exact: true,
            rounded_to_zero: false,
            radix_prefix: false,
        }),
        None => Err(PgValueError::InvalidEnum {
            param: param.name,
            raw: raw.to_string(),
            allowed: param.enum_values.to_vec(),
        }),
    }
}

/// `parse_int` / `parse_real` with `convert_to_base_unit`.
fn parse_number(param: &PgParam, raw: &str, integer: bool) -> Result<PgValue, PgValueError> {
    let not_number = || PgValueError::NotNumber {
        param: param.name,
        raw: raw.to_string(),
    };
    let (mut value, end, radix_prefix) = if integer {
        // strtol first; fall back to strtod for fractions, exponents and overflow.
        let int = c_strtol(raw);
        let next = raw.as_bytes().get(int.end).copied();
        if int.end == 0 {
            return Err(not_number());
        }
        if int.erange || matches!(next, Some(b'.' | b'e' | b'E')) {
            let real = c_strtod(raw);
            if real.end == 0 || real.erange {
                return Err(not_number());
            }
            (real.value, real.end, false)
        } else {
            (int.value as f64, int.end, int.radix != Radix::Decimal)
        }
    } else {
        let real = c_strtod(raw);
        if real.end == 0 || real.erange {
            return Err(not_number());
        }
        let hex = raw.trim_start().trim_start_matches(['+', '-']);
        let hex = hex.starts_with("0x") || hex.starts_with("0X");
        (real.value, real.end, hex && real.end > 1)
    };
    if value.is_nan() {
        return Err(not_number());
    }
    let unit_text = raw[end..].trim_start_matches(|c: char| c.is_ascii_whitespace());
    // The value before any rounding, to tell whether rounding changed it.
    let mut unrounded = value;
    if !unit_text.is_empty() {
        if param.unit == PgUnit::None {
            return Err(PgValueError::UnitNotAllowed {
                param: param.name,
                raw: raw.to_string(),
            });
        }
        let (converted, exact_product) = convert_to_base_unit(value, unit_text, param.unit)
            .ok_or_else(|| PgValueError::InvalidUnit {
                param: param.name,
                raw: raw.to_string(),
                valid: param.unit.valid_units(),
            })?;
        value = converted;
        unrounded = exact_product;
    }
    if integer {
        value = value.round_ties_even();
        if value > f64::from(i32::MAX) || value < f64::from(i32::MIN) {
            return Err(PgValueError::ExceedsIntegerRange {
                param: param.name,
                raw: raw.to_string(),
            });
        }
    }
    let below = param.min.is_some_and(|min| value < min);
    let above = param.max.is_some_and(|max| value > max);
    if below || above {
        let bound = |b: Option<f64>| b.map(format_number).unwrap_or_default();
        return Err(PgValueError::OutOfRange {
            param: param.name,
            value: format_number(value),
            min: bound(param.min),
            max: bound(param.max),
            unit: (param.unit != PgUnit::None).then(|| param.unit.as_str()),
        });
    }
    let tolerance = 1e-9 * unrounded.abs().max(1.0);
    Ok(PgValue {
        normalized: format_number(value),
        base: Some(value),
        exact: (value - unrounded).abs() <= tolerance,
        rounded_to_zero: value == 0.0 && unrounded != 0.0,
        radix_prefix,
    })
}

/// `convert_to_base_unit`: the unit must match exactly (case-sensitive), optionally followed
/// by whitespace. A fractional result is rounded to a multiple of the next smaller unit.
/// Returns (converted value, unrounded product).
fn convert_to_base_unit(value: f64, unit_text: &str, base: PgUnit) -> Option<(f64, f64)> {
    let token_end = unit_text
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(unit_text.len());
    let (token, rest) = unit_text.split_at(token_end);
    if !rest
        .trim_start_matches(|c: char| c.is_ascii_whitespace())
        .is_empty()
    {
        return None;
    }
    let table = base.conversions();
    let index = table.iter().position(|(unit, _)| *unit == token)?;
    let product = value * table.get(index)?.1;
    let converted = match table.get(index + 1) {
        Some((_, smaller)) => (product / smaller).round_ties_even() * smaller,
        None => product,
    };
    Some((converted, product))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(major: u32) -> &'static PgCatalog {
        PgCatalog::for_major(major).expect("supported major")
    }

    fn param(major: u32, name: &str) -> &'static PgParam {
        cat(major).get(name).expect("known parameter")
    }

    fn value(major: u32, name: &str, raw: &str) -> Result<PgValue, PgValueError> {
        parse_value(param(major, name), raw)
    }

    fn normalized(major: u32, name: &str, raw: &str) -> String {
        value(major, name, raw).expect("valid value").normalized
    }

    #[test]
    fn counts_match_the_reference_per_major() {
        // guc-versions.md: "Counts: 12:321, 13:336, 14:352, 15:359, 16:368, 17:384, 18:404".
        let counts: Vec<usize> = CATALOG_MAJORS.map(|m| cat(m).params().count()).collect();
        assert_eq!(counts, [321, 336, 352, 359, 368, 384, 404]);
        assert!(PgCatalog::for_major(11).is_none());
        assert!(PgCatalog::for_major(19).is_none());
        assert_eq!(cat(16).major(), 16);
    }

    #[test]
    fn facts_per_major() {
        let sb = param(15, "shared_buffers");
        assert_eq!(
            (sb.ty, sb.unit, sb.context),
            (PgType::Integer, PgUnit::Blocks8k, "postmaster")
        );
        assert_eq!((sb.min, sb.max), (Some(16.0), Some(1_073_741_823.0)));
        assert_eq!(sb.default, Some("16384"));
        assert_eq!(param(14, "shared_buffers").default, Some("1024"));
        assert!(sb.needs_restart());
        assert_eq!(param(13, "password_encryption").default, Some("md5"));
        assert_eq!(
            param(14, "password_encryption").default,
            Some("scram-sha-256")
        );
        assert_eq!(param(17, "log_connections").ty, PgType::Bool);
        let lc = param(18, "log_connections");
        assert_eq!(
            (lc.ty, lc.list_input, lc.default),
            (PgType::String, true, Some(""))
        );
        assert_eq!(param(14, "wal_compression").ty, PgType::Bool);
        assert_eq!(
            param(15, "wal_compression").enum_values,
            ["pglz", "lz4", "zstd", "on", "off"]
        );
        assert_eq!(param(17, "autovacuum_max_workers").context, "postmaster");
        assert_eq!(param(18, "autovacuum_max_workers").context, "sighup");
        assert_eq!(param(16, "file_extend_method").since_minor, Some("16.12"));
        assert!(param(18, "search_path").report && !param(17, "search_path").report);
        assert!(param(15, "shared_memory_size").is_read_only());
        assert_eq!(param(15, "random_page_cost").unit, PgUnit::None);
        assert_eq!(param(15, "vacuum_cost_delay").ty, PgType::Real);
        assert_eq!(param(15, "ssl_max_protocol_version").enum_values[0], "");
        assert_eq!(param(15, "autovacuum_work_mem").default, Some("-1"));
    }

    #[test]
    fn lookup_is_case_insensitive_with_canonical_spelling() {
        assert_eq!(param(16, "datestyle").name, "DateStyle");
        assert_eq!(param(16, "TIMEZONE").name, "TimeZone");
        assert_eq!(param(16, "SHARED_BUFFERS").name, "shared_buffers");
        assert!(
            cat(16).get("sort_mem").is_none(),
            "get does not resolve aliases"
        );
        let names: Vec<&str> = cat(16).params().map(|p| p.name).collect();
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| n.to_ascii_lowercase());
        assert_eq!(names, sorted);
    }

    #[test]
    fn every_default_parses_as_its_own_value() {
        for major in SUPPORTED_MAJORS {
            for p in cat(major).params() {
                if let Some(default) = p.default {
                    let parsed = parse_value(p, default);
                    assert!(
                        parsed.is_ok(),
                        "{major} {}: {default:?} -> {parsed:?}",
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn classify_known_and_alias() {
        assert!(matches!(cat(13).classify("Work_Mem"), PgName::Known(p) if p.name == "work_mem"));
        for major in SUPPORTED_MAJORS {
            let PgName::Alias { alias, param } = cat(major).classify("sort_mem") else {
                panic!("sort_mem is an alias in {major}");
            };
            assert_eq!((alias, param.name), ("sort_mem", "work_mem"));
        }
        assert!(matches!(
            cat(15).classify("VACUUM_MEM"),
            PgName::Alias { alias: "vacuum_mem", param } if param.name == "maintenance_work_mem"
        ));
        assert!(matches!(
            cat(18).classify("ssl_ecdh_curve"),
            PgName::Alias { param, .. } if param.name == "ssl_groups"
        ));
        assert!(matches!(
            cat(17).classify("ssl_ecdh_curve"),
            PgName::Known(_)
        ));
    }

    #[test]
    fn classify_extension_placeholders() {
        assert_eq!(cat(16).classify("myapp.flag"), PgName::Extension);
        assert_eq!(
            cat(16).classify("pg_stat_statements.max"),
            PgName::Extension
        );
        assert_eq!(cat(16).classify("a.b.c"), PgName::Extension);
        assert!(matches!(
            cat(16).classify("my-app.flag"),
            PgName::Unknown { .. }
        ));
        assert!(matches!(cat(16).classify(".flag"), PgName::Unknown { .. }));
        assert!(matches!(cat(16).classify("app.1x"), PgName::Unknown { .. }));
    }

    #[test]
    fn classify_not_yet() {
        assert_eq!(
            cat(15).classify("reserved_connections"),
            PgName::NotYet { introduced_in: 16 }
        );
        assert_eq!(
            cat(12).classify("idle_session_timeout"),
            PgName::NotYet { introduced_in: 14 }
        );
        assert_eq!(
            cat(16).classify("transaction_timeout"),
            PgName::NotYet { introduced_in: 17 }
        );
        assert_eq!(
            cat(17).classify("io_method"),
            PgName::NotYet { introduced_in: 18 }
        );
        assert_eq!(
            cat(12).classify("wal_keep_size"),
            PgName::NotYet { introduced_in: 13 }
        );
    }

    #[test]
    fn classify_removed_and_renamed() {
        let removed = |major, name| cat(major).classify(name);
        assert_eq!(
            removed(13, "wal_keep_segments"),
            PgName::Removed {
                removed_in: 13,
                replacement: Some("wal_keep_size")
            }
        );
        assert_eq!(
            removed(18, "WAL_KEEP_SEGMENTS"),
            PgName::Removed {
                removed_in: 13,
                replacement: Some("wal_keep_size")
            }
        );
        assert_eq!(
            removed(15, "stats_temp_directory"),
            PgName::Removed {
                removed_in: 15,
                replacement: None
            }
        );
        assert_eq!(
            removed(16, "force_parallel_mode"),
            PgName::Removed {
                removed_in: 16,
                replacement: Some("debug_parallel_query")
            }
        );
        assert_eq!(
            removed(17, "old_snapshot_threshold"),
            PgName::Removed {
                removed_in: 17,
                replacement: None
            }
        );
        assert_eq!(
            removed(18, "lc_collate"),
            PgName::Removed {
                removed_in: 16,
                replacement: None
            }
        );
        assert!(matches!(
            removed(15, "force_parallel_mode"),
            PgName::Known(_)
        ));
    }

    #[test]
    fn classify_unknown_with_suggestion() {
        assert_eq!(
            cat(15).classify("shard_buffers"),
            PgName::Unknown {
                suggestion: Some("shared_buffers")
            }
        );
        assert_eq!(
            cat(15).classify("max_conections"),
            PgName::Unknown {
                suggestion: Some("max_connections")
            }
        );
        assert_eq!(
            cat(15).classify("zzzz_qqqq_wwww"),
            PgName::Unknown { suggestion: None }
        );
        // checkpoint_segments predates the data (removed in 9.5): unknown, not "removed".
        assert!(matches!(
            cat(15).classify("checkpoint_segments"),
            PgName::Unknown { .. }
        ));
    }

    #[test]
    fn memory_units_convert_with_1024() {
        assert_eq!(normalized(15, "shared_buffers", "7GB"), "917504");
        assert_eq!(normalized(15, "shared_buffers", "128MB"), "16384");
        assert_eq!(normalized(15, "shared_buffers", "16384"), "16384");
        assert_eq!(normalized(15, "shared_buffers", "7 GB"), "917504");
        assert_eq!(normalized(15, "shared_buffers", "7GB "), "917504");
        assert_eq!(normalized(15, "work_mem", "4MB"), "4096");
        assert_eq!(normalized(15, "work_mem", "1TB"), "1073741824");
        let v = value(15, "shared_buffers", "1.5GB").expect("quoted fractions are fine");
        assert_eq!((v.normalized.as_str(), v.exact), ("196608", true));
        let v = value(15, "shared_buffers", "0.3GB").expect("valid");
        assert_eq!((v.base, v.exact), (Some(39296.0), false));
        let v = value(15, "work_mem", "1.2MB").expect("valid");
        assert_eq!((v.normalized.as_str(), v.exact), ("1229", false));
        assert_eq!(normalized(15, "wal_buffers", "16MB"), "2048");
        assert_eq!(normalized(15, "wal_decode_buffer_size", "512kB"), "524288");
        assert_eq!(normalized(15, "max_slot_wal_keep_size", "1GB"), "1024");
    }

    #[test]
    fn units_are_case_sensitive_and_typed() {
        for raw in ["7gb", "7G", "64KB", "10s", "7 gb", "7GBx", "7 GB x"] {
            let err = value(15, "shared_buffers", raw).expect_err(raw);
            assert!(
                matches!(
                    err,
                    PgValueError::InvalidUnit {
                        valid: MEMORY_UNITS,
                        ..
                    }
                ),
                "{raw}"
            );
        }
        let err = value(15, "shared_buffers", "7gb").expect_err("wrong case");
        assert_eq!(
            err.to_string(),
            "invalid value for parameter \"shared_buffers\": \"7gb\" \
             (HINT: Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".)"
        );
        let err = value(15, "statement_timeout", "30sec").expect_err("not a unit");
        assert_eq!(
            err.hint().as_deref(),
            Some(
                "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"."
            )
        );
        assert!(matches!(
            value(15, "statement_timeout", "10MB"),
            Err(PgValueError::InvalidUnit {
                valid: TIME_UNITS,
                ..
            })
        ));
        let err = value(15, "random_page_cost", "1.1s").expect_err("unit-less");
        assert!(matches!(err, PgValueError::UnitNotAllowed { .. }));
        assert_eq!(err.hint(), None);
        assert!(matches!(
            value(15, "max_connections", "100kB"),
            Err(PgValueError::UnitNotAllowed { .. })
        ));
    }

    #[test]
    fn time_units_and_rounding() {
        assert_eq!(normalized(15, "statement_timeout", "30s"), "30000");
        assert_eq!(normalized(15, "statement_timeout", "1.5s"), "1500");
        assert_eq!(normalized(15, "statement_timeout", "1h"), "3600000");
        assert_eq!(normalized(15, "statement_timeout", "1d"), "86400000");
        assert_eq!(
            normalized(15, "idle_in_transaction_session_timeout", "10min"),
            "600000"
        );
        assert_eq!(normalized(15, "checkpoint_timeout", "300000ms"), "300");
        assert_eq!(normalized(15, "checkpoint_timeout", "5min"), "300");
        let v = value(15, "statement_timeout", "100us").expect("accepted");
        assert_eq!(v.normalized, "0");
        assert!(v.rounded_to_zero && !v.exact);
        let v = value(15, "statement_timeout", "1500us").expect("accepted");
        assert_eq!((v.normalized.as_str(), v.exact), ("2", false));
        let v = value(15, "statement_timeout", "2500us").expect("accepted");
        assert_eq!(v.normalized, "2", "rint rounds half to even");
        let v = value(15, "checkpoint_timeout", "90s").expect("accepted");
        assert!(v.exact && !v.rounded_to_zero);
        let v = value(15, "statement_timeout", "0").expect("accepted");
        assert!(!v.rounded_to_zero && v.exact);
        let err = value(15, "checkpoint_timeout", "30ms").expect_err("rounds to 0 s, below 30");
        assert_eq!(
            err.message(),
            "0 s is outside the valid range for parameter \"checkpoint_timeout\" (30 .. 86400)"
        );
        // Real parameters with a time unit.
        assert_eq!(normalized(15, "vacuum_cost_delay", "2ms"), "2");
        assert_eq!(normalized(15, "vacuum_cost_delay", "500us"), "0.5");
    }

    #[test]
    fn integers_follow_strtol_and_rint() {
        let v = value(15, "max_connections", "0100").expect("octal");
        assert_eq!((v.normalized.as_str(), v.radix_prefix), ("64", true));
        let v = value(15, "max_connections", "0x64").expect("hex");
        assert_eq!((v.normalized.as_str(), v.radix_prefix), ("100", true));
        assert!(
            !value(15, "max_connections", "100")
                .expect("plain")
                .radix_prefix
        );
        assert!(
            !value(15, "max_connections", "0100.0")
                .expect("decimal")
                .radix_prefix
        );
        assert_eq!(normalized(15, "max_connections", "0100.0"), "100");
        let err = value(15, "max_connections", "08").expect_err("8 is not octal");
        assert_eq!(
            err.message(),
            "invalid value for parameter \"max_connections\": \"08\""
        );
        let v = value(15, "max_connections", "100.6").expect("rounds");
        assert_eq!((v.normalized.as_str(), v.exact), ("101", false));
        assert_eq!(normalized(15, "max_connections", "100.5"), "100");
        assert_eq!(normalized(15, "max_connections", "1e2"), "100");
        assert_eq!(normalized(15, "max_connections", " 100"), "100");
        assert_eq!(normalized(15, "max_connections", "+100"), "100");
        assert!(matches!(
            value(15, "max_connections", "abc"),
            Err(PgValueError::NotNumber { .. })
        ));
        assert!(matches!(
            value(15, "max_connections", ""),
            Err(PgValueError::NotNumber { .. })
        ));
        assert!(matches!(
            value(15, "max_connections", "nan"),
            Err(PgValueError::NotNumber { .. })
        ));
        let err = value(15, "max_connections", "99999999999").expect_err("too big");
        assert!(matches!(err, PgValueError::ExceedsIntegerRange { .. }));
        assert_eq!(err.hint().as_deref(), Some("Value exceeds integer range."));
        let err = value(15, "max_connections", "0").expect_err("below min");
        assert_eq!(
            err.message(),
            "0 is outside the valid range for parameter \"max_connections\" (1 .. 262143)"
        );
        assert!(matches!(
            value(15, "max_connections", "262144"),
            Err(PgValueError::OutOfRange { .. })
        ));
        assert_eq!(normalized(15, "autovacuum_work_mem", "-1"), "-1");
    }

    #[test]
    fn reals() {
        assert_eq!(normalized(15, "random_page_cost", "1.1"), "1.1");
        assert_eq!(normalized(15, "seq_page_cost", ".5"), "0.5");
        assert_eq!(normalized(15, "random_page_cost", "1e1"), "10");
        assert_eq!(normalized(15, "random_page_cost", "4"), "4");
        assert!(matches!(
            value(15, "checkpoint_completion_target", "1.5"),
            Err(PgValueError::OutOfRange { .. })
        ));
        assert!(matches!(
            value(15, "random_page_cost", "inf"),
            Err(PgValueError::OutOfRange { .. })
        ));
        assert!(matches!(
            value(15, "random_page_cost", "fast"),
            Err(PgValueError::NotNumber { .. })
        ));
    }

    #[test]
    fn booleans_accept_words_and_unambiguous_prefixes() {
        for (raw, want) in [
            ("on", "on"),
            ("OFF", "off"),
            ("of", "off"),
            ("true", "on"),
            ("t", "on"),
            ("FALSE", "off"),
            ("fa", "off"),
            ("yes", "on"),
            ("y", "on"),
            ("no", "off"),
            ("n", "off"),
            ("1", "on"),
            ("0", "off"),
        ] {
            assert_eq!(normalized(15, "jit", raw), want, "{raw}");
        }
        for raw in ["o", "", "2", "00", "onn", "yess", "enable", " on"] {
            let err = value(15, "jit", raw).expect_err(raw);
            assert_eq!(err.message(), "parameter \"jit\" requires a Boolean value");
        }
    }

    #[test]
    fn enums_are_case_insensitive_with_hidden_spellings() {
        assert_eq!(normalized(15, "wal_level", "REPLICA"), "replica");
        assert_eq!(normalized(15, "wal_level", "hot_standby"), "replica");
        assert_eq!(normalized(15, "wal_level", "Archive"), "replica");
        assert_eq!(normalized(15, "synchronous_commit", "yes"), "on");
        assert_eq!(normalized(15, "huge_pages", "0"), "off");
        assert_eq!(normalized(15, "client_min_messages", "info"), "info");
        assert_eq!(normalized(15, "log_min_messages", "DEBUG"), "debug2");
        assert_eq!(
            normalized(15, "ssl_min_protocol_version", "tlsv1.3"),
            "TLSv1.3"
        );
        assert_eq!(normalized(13, "password_encryption", "on"), "md5");
        let err = value(15, "password_encryption", "on").expect_err("hidden alias gone in 14");
        assert_eq!(
            err.hint().as_deref(),
            Some("Available values: md5, scram-sha-256.")
        );
        let err = value(15, "wal_level", "foo").expect_err("not a level");
        assert_eq!(
            err.to_string(),
            "invalid value for parameter \"wal_level\": \"foo\" (HINT: Available values: minimal, replica, logical.)"
        );
        assert!(matches!(
            value(15, "wal_level", "rep"),
            Err(PgValueError::InvalidEnum { .. })
        ));
        let hidden: Vec<_> = param(15, "wal_level").hidden_enum_values().collect();
        assert_eq!(hidden, [("archive", "replica"), ("hot_standby", "replica")]);
    }

    #[test]
    fn strings_pass_through() {
        let v = value(15, "cluster_name", "a#b").expect("string");
        assert_eq!((v.normalized.as_str(), v.base), ("a#b", None));
        assert_eq!(
            normalized(18, "log_connections", "receipt,authentication"),
            "receipt,authentication"
        );
    }

    #[test]
    fn error_param_accessor() {
        let err = value(16, "work_mem", "lots").expect_err("not a number");
        assert_eq!(err.param(), "work_mem");
    }

    #[test]
    fn units_describe_themselves() {
        assert_eq!(PgUnit::Blocks8k.as_str(), "8kB");
        assert_eq!(PgUnit::None.as_str(), "");
        assert_eq!(PgUnit::Blocks8k.bytes_per_unit(), Some(8192));
        assert_eq!(PgUnit::Minutes.micros_per_unit(), Some(60_000_000));
        assert_eq!(PgUnit::Minutes.bytes_per_unit(), None);
        assert_eq!(PgUnit::KiloBytes.micros_per_unit(), None);
        assert!(PgUnit::MegaBytes.is_memory() && !PgUnit::MegaBytes.is_time());
        assert_eq!(PgUnit::None.valid_units(), &[] as &[&str]);
        assert_eq!(PgType::Enum.as_str(), "enum");
    }
}
