//! HikariCP's keepaliveTime for the jdbc-hikari kind: its default by declared HikariCP version
//! (facts: apps/facts.md §6 — added in 4.0.0, 0 up to 6.0.0, 2 min later), and the values
//! HikariCP itself disables.

use crate::apps::{FwSettings, Val};

/// `hikaricp_version`'s value for "the latest release" (facts verify releases up to 6.0.0 and a
/// later change of keepaliveTime's default, not the release that made it).
pub(super) const LATEST: &str = "latest";

/// The oldest HikariCP with keepaliveTime.
const KEEPALIVE_SINCE: [u32; 3] = [4, 0, 0];

/// The last HikariCP whose keepaliveTime defaults to 0.
const KEEPALIVE_OFF_UNTIL: [u32; 3] = [6, 0, 0];

/// HikariCP's keepaliveTime default after 6.0.0 (2 min), and its floor.
const KEEPALIVE_LATER_MS: u64 = 120_000;
const KEEPALIVE_MIN_MS: u64 = 30_000;

/// HikariCP's declared version as numbers; `Some(None)` for the latest release, `None` when it
/// is not a version.
pub(super) fn hikaricp(s: &FwSettings) -> Option<Option<Vec<u32>>> {
    let Val::Text(t) = &s.req("hikaricp_version").value else {
        return None;
    };
    if t.trim() == LATEST {
        return Some(None);
    }
    let v: Option<Vec<u32>> = t.split('.').map(|p| p.trim().parse().ok()).collect();
    v.filter(|v| !v.is_empty()).map(Some)
}

/// Whether the declared HikariCP has keepaliveTime (the latest release does).
pub(super) fn has_keepalive(s: &FwSettings) -> bool {
    hikaricp(s)
        .flatten()
        .is_none_or(|v| v >= KEEPALIVE_SINCE.to_vec())
}

/// HikariCP's own keepaliveTime for the declared version, and why; HikariCP disables a
/// keepaliveTime that is not below maxLifetime (it logs `keepaliveTime is greater than or equal
/// to maxLifetime, disabling it`).
pub(super) fn keepalive_default(s: &FwSettings) -> (u64, String) {
    let version = s.req("hikaricp_version");
    let (ms, why) = match hikaricp(s).flatten() {
        Some(v) if v <= KEEPALIVE_OFF_UNTIL.to_vec() => (
            0,
            format!(
                "HikariCP {}'s own: keepalive is off up to 6.0.0",
                version.value
            ),
        ),
        Some(_) => (
            KEEPALIVE_LATER_MS,
            format!("HikariCP {}'s own: 2 min after 6.0.0", version.value),
        ),
        None => (
            KEEPALIVE_LATER_MS,
            "HikariCP's own in its latest release: 2 min (0 up to 6.0.0)".to_string(),
        ),
    };
    let life = s.req("maxLifetime").value.int().unwrap_or(0);
    if ms > 0 && life > 0 && ms >= life {
        return (
            0,
            format!("{why}, which HikariCP disables as not below maxLifetime {life}"),
        );
    }
    (ms, why)
}

/// keepaliveTime values HikariCP disables, when written: the key, the message, the help.
pub(super) fn check(s: &FwSettings) -> Result<(), (&'static str, String, String)> {
    // HikariCP does not refuse these: it logs a warning and runs without keepalive.
    let keep = s.req("keepaliveTime");
    let Some(ms) = keep.value.int().filter(|_| keep.origin.is_explicit()) else {
        return Ok(());
    };
    let version = &s.req("hikaricp_version").value;
    if !has_keepalive(s) {
        return Err((
            "keepaliveTime",
            format!("keepaliveTime does not exist in HikariCP {version}: it was added in 4.0.0"),
            "remove it, or declare the hikaricp_version you run if it is 4.0.0 or later".into(),
        ));
    }
    let life = s.req("maxLifetime").value.int().unwrap_or(0);
    if ms > 0 && ms < KEEPALIVE_MIN_MS {
        return Err((
            "keepaliveTime",
            format!(
                "keepaliveTime {ms} is below HikariCP's floor of 30000 ms: HikariCP logs `keepaliveTime is less than 30000ms, disabling it` and pings nothing"
            ),
            "set keepaliveTime to 30000 or more (or 0 for no keepalive)".into(),
        ));
    }
    if ms > 0 && life > 0 && ms >= life {
        return Err((
            "keepaliveTime",
            format!(
                "keepaliveTime {ms} is not below maxLifetime {life}: HikariCP logs `keepaliveTime is greater than or equal to maxLifetime, disabling it` and pings nothing"
            ),
            format!("set keepaliveTime below {life} (and at least 30000), or 0 for no keepalive"),
        ));
    }
    Ok(())
}
