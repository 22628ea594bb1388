//! PgTune's numbers kept within what the target version accepts. PgTune has no upper bounds:
//! for 64TB of RAM it gives `shared_buffers = 16384GB`, which PostgreSQL refuses to start with
//! ("exceeds integer range"). A value beyond the parameter's range in the version's catalog is
//! capped at the largest value the server takes, and the reason says so.

use super::{GB, MB, TunedSetting, format_kb};
use crate::catalog::postgres::{self, PgCatalog, PgParam, PgValueError};

/// Cap every setting of `settings` that PostgreSQL `major` would refuse as out of range.
pub fn fit(settings: &mut [TunedSetting], major: u32) {
    let Some(catalog) = PgCatalog::for_major(major) else {
        return;
    };
    for s in settings.iter_mut() {
        if let Some((value, note)) = cap(catalog, s.name, &s.value) {
            s.value = value;
            s.reason = format!("{}; {note}", s.reason);
        }
    }
}

/// `value` capped to `name`'s range in `catalog`, with the note saying why; `None` when the
/// server takes the value as it is (or the value is wrong in another way, which is not ours
/// to fix here).
pub fn cap(catalog: &PgCatalog, name: &str, value: &str) -> Option<(String, String)> {
    let param = catalog.get(name)?;
    match postgres::parse_value(param, value) {
        Err(PgValueError::OutOfRange { .. } | PgValueError::ExceedsIntegerRange { .. }) => {}
        _ => return None,
    }
    let capped = largest(param)?;
    let note = format!(
        "capped at {capped}: PostgreSQL {} refuses {value} (out of the parameter's range)",
        catalog.major()
    );
    Some((capped, note))
}

/// The largest value of `param` written as the server reads it, in the largest whole unit that
/// fits (memory), or as a plain number.
fn largest(param: &PgParam) -> Option<String> {
    let max = param.max?;
    let text = match param.unit.bytes_per_unit() {
        Some(per) => {
            let kb = (max * per as f64 / 1024.0).floor() as u64;
            let whole = if kb >= GB {
                kb / GB * GB
            } else if kb >= MB {
                kb / MB * MB
            } else {
                kb
            };
            format_kb(whole)
        }
        None => format!("{}", max.floor() as i64),
    };
    // Only what the server would take: anything else is left for CAT002 to report.
    postgres::parse_value(param, &text).ok().map(|_| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_the_range_are_capped_and_valid_ones_kept() {
        let cat = PgCatalog::for_major(15).unwrap();
        let (v, note) = cap(cat, "shared_buffers", "16384GB").unwrap();
        assert!(postgres::parse_value(cat.get("shared_buffers").unwrap(), &v).is_ok());
        assert_eq!(v, "8191GB");
        assert!(note.contains("16384GB"), "{note}");
        assert!(cap(cat, "shared_buffers", "4GB").is_none());
        let (v, _) = cap(cat, "max_connections", "300000").unwrap();
        assert_eq!(v, "262143");
        assert!(cap(cat, "work_mem", "7gb").is_none(), "not a range problem");
    }
}
