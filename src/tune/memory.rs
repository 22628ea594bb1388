//! Memory settings (see reference: tuning/pgtune-formulas.md §2). Every size is in kB, as in PgTune.

use super::{DataSize, Derived, GB, MB, Os, PgVersion, Workload, format_kb};

/// PostgreSQL on 64-bit Windows refuses memory settings of 2GB or more up to version 17.
fn windows_2gb_limit(os: Os, version: PgVersion) -> bool {
    os == Os::Windows && version.major() <= 17
}

/// 2GB − 1MB: the largest value Windows up to PostgreSQL 17 accepts (2048MB fails there).
const WINDOWS_MAX: u64 = 2 * GB - MB;

pub(super) fn shared_buffers(ram: u64, workload: Workload) -> Derived<u64> {
    // PgTune's 512MB Windows cap applies only before PostgreSQL 10, which it no longer offers.
    if workload == Workload::Desktop {
        Derived::new(
            ram / 16,
            format!("1/16 of {} RAM for desktop", format_kb(ram)),
        )
    } else {
        Derived::new(ram / 4, format!("25% of {} RAM", format_kb(ram)))
    }
}

pub(super) fn effective_cache_size(ram: u64, workload: Workload) -> Derived<u64> {
    if workload == Workload::Desktop {
        Derived::new(
            ram / 4,
            format!("25% of {} RAM for desktop", format_kb(ram)),
        )
    } else {
        Derived::new(ram * 3 / 4, format!("75% of {} RAM", format_kb(ram)))
    }
}

pub(super) fn maintenance_work_mem(
    ram: u64,
    workload: Workload,
    os: Os,
    version: PgVersion,
) -> Derived<u64> {
    let (base, share) = if workload == Workload::Dw {
        (ram / 8, "1/8")
    } else {
        (ram / 16, "1/16")
    };
    let reason = format!("{share} of {} RAM", format_kb(ram));
    let windows = windows_2gb_limit(os, version);
    let limit = if windows { 2 * GB } else { 8 * GB };
    if base < limit {
        Derived::new(base, reason)
    } else if windows {
        Derived::new(
            WINDOWS_MAX,
            format!(
                "{reason} = {}, capped at 2047MB as PostgreSQL {version} on Windows rejects 2GB",
                format_kb(base)
            ),
        )
    } else {
        Derived::new(
            limit,
            format!("{reason} = {}, capped at 8GB", format_kb(base)),
        )
    }
}

pub(super) fn wal_buffers(shared_buffers: u64) -> Derived<u64> {
    let three_percent = 3 * shared_buffers / 100;
    let reason = format!("3% of {} shared_buffers", format_kb(shared_buffers));
    let computed = format_kb(three_percent);
    if three_percent > 16 * MB {
        Derived::new(16 * MB, format!("{reason} = {computed}, capped at 16MB"))
    } else if three_percent > 14 * MB && three_percent < 16 * MB {
        Derived::new(
            16 * MB,
            format!("{reason} = {computed}, rounded up to 16MB"),
        )
    } else if three_percent < 32 {
        Derived::new(
            32,
            format!("{reason} = {computed}, raised to the 32kB minimum"),
        )
    } else {
        Derived::new(three_percent, reason)
    }
}

/// What work_mem is divided among besides connections: the parallel block's
/// max_worker_processes, or PostgreSQL's default of 8 when that block is not emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorkerProcesses {
    Tuned(u32),
    PostgresDefault,
}

impl WorkerProcesses {
    fn count(self) -> u32 {
        match self {
            WorkerProcesses::Tuned(n) => n,
            WorkerProcesses::PostgresDefault => 8,
        }
    }

    fn describe(self) -> String {
        match self {
            WorkerProcesses::Tuned(n) => format!("{n} max_worker_processes"),
            WorkerProcesses::PostgresDefault => "8 default max_worker_processes".to_string(),
        }
    }
}

pub(super) struct WorkMemInputs {
    pub ram: u64,
    pub shared_buffers: u64,
    pub max_connections: u32,
    pub workers: WorkerProcesses,
    pub workload: Workload,
    pub data_size: DataSize,
    pub os: Os,
    pub version: PgVersion,
}

pub(super) fn work_mem(i: &WorkMemInputs) -> Derived<u64> {
    // PgTune computes this in JavaScript numbers; f64 reproduces its rounding exactly
    // (the ×1.3 and ×0.9 steps are not exact in binary, so integers would differ).
    let divisor = (u64::from(i.max_connections) + u64::from(i.workers.count())) * 3;
    let per_connection = (i.ram - i.shared_buffers) as f64 / divisor as f64;
    let mut reason = format!(
        "({} RAM - {} shared_buffers) / (({} max_connections + {}) * 3)",
        format_kb(i.ram),
        format_kb(i.shared_buffers),
        i.max_connections,
        i.workers.describe()
    );
    let mut kb = match i.workload {
        Workload::Web | Workload::Oltp => per_connection.floor(),
        Workload::Dw | Workload::Mixed => {
            reason.push_str(&format!(" / 2 for {}", i.workload.as_str()));
            (per_connection / 2.0).floor()
        }
        Workload::Desktop => {
            reason.push_str(" / 6 for desktop");
            (per_connection / 6.0).floor()
        }
    };
    match i.data_size {
        DataSize::LessThanRam => {
            reason.push_str(" * 1.3 as the data fits in RAM");
            kb = (kb * 1.3).floor();
        }
        DataSize::MoreThanThreeTimesRam => {
            reason.push_str(" * 0.9 as the data is over 3x RAM");
            kb = (kb * 0.9).floor();
        }
        DataSize::OneToThreeTimesRam => {}
    }
    // Exact: the value is a whole number far below 2^53.
    let mut kb = kb as u64;
    reason.push_str(&format!(" = {}", format_kb(kb)));
    if kb < 4 * MB {
        kb = 4 * MB;
        reason.push_str(", raised to the 4MB minimum");
    }
    if windows_2gb_limit(i.os, i.version) && kb > WINDOWS_MAX {
        kb = WINDOWS_MAX;
        reason.push_str(&format!(
            ", capped at 2047MB as PostgreSQL {} on Windows rejects 2GB",
            i.version
        ));
    }
    Derived::new(kb, reason)
}

pub(super) fn huge_pages(shared_buffers: u64, os: Os) -> Derived<&'static str> {
    let sb = format_kb(shared_buffers);
    if os == Os::Mac {
        Derived::new("off", "PostgreSQL has no huge pages on macOS".to_string())
    } else if shared_buffers >= 2 * GB {
        Derived::new("try", format!("shared_buffers {sb} >= 2GB"))
    } else {
        Derived::new("off", format!("shared_buffers {sb} < 2GB"))
    }
}

/// Emitted only when maintenance_work_mem reaches 2GB. (PgTune also caps it at 2047MB on
/// Windows up to 17, but maintenance_work_mem never reaches 2GB there, so it is never emitted.)
pub(super) fn autovacuum_work_mem(maintenance_work_mem: u64) -> Option<Derived<u64>> {
    (maintenance_work_mem >= 2 * GB).then(|| {
        Derived::new(
            2 * GB,
            format!(
                "maintenance_work_mem {} >= 2GB: each autovacuum worker capped at 2GB",
                format_kb(maintenance_work_mem)
            ),
        )
    })
}
