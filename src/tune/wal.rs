//! Checkpoint and WAL settings (see reference: tuning/pgtune-formulas.md §2).

use super::{Derived, GB, MB, PgVersion, Workload};

pub(super) fn checkpoint_completion_target() -> Derived<&'static str> {
    Derived::new(
        "0.9",
        "spread checkpoint writes over 90% of the interval, PostgreSQL 14's default".to_string(),
    )
}

/// (min_wal_size, max_wal_size) in kB: fixed per workload, independent of RAM.
pub(super) fn wal_size(workload: Workload) -> (Derived<u64>, Derived<u64>) {
    let (min, max) = match workload {
        Workload::Web | Workload::Mixed => (GB, 4 * GB),
        Workload::Oltp => (2 * GB, 8 * GB),
        Workload::Dw => (4 * GB, 16 * GB),
        Workload::Desktop => (100 * MB, 2 * GB),
    };
    let reason = format!("PgTune's value for {}", workload.as_str());
    (Derived::new(min, reason.clone()), Derived::new(max, reason))
}

pub(super) fn wal_compression(version: PgVersion) -> Derived<&'static str> {
    if version.major() >= 15 {
        Derived::new(
            "lz4",
            format!("PostgreSQL {version} compresses WAL with lz4, faster than pglz"),
        )
    } else {
        Derived::new(
            "on",
            format!("PostgreSQL {version} compresses WAL with pglz; lz4 needs 15"),
        )
    }
}

/// Desktop: no replicas, so the least WAL; max_wal_senders must be 0 with wal_level = minimal.
pub(super) fn desktop_wal_level(
    workload: Workload,
) -> Option<(Derived<&'static str>, Derived<u32>)> {
    (workload == Workload::Desktop).then(|| {
        (
            Derived::new("minimal", "desktop: no replication, least WAL".to_string()),
            Derived::new(0, "required by wal_level = minimal".to_string()),
        )
    })
}
