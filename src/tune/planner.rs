//! Planner, I/O and JIT settings (see reference: tuning/pgtune-formulas.md §2).

use super::{DataSize, Derived, Os, PgVersion, Storage, Workload};

pub(super) fn default_statistics_target(workload: Workload) -> Derived<u32> {
    if workload == Workload::Dw {
        Derived::new(
            500,
            "dw: more detailed statistics for complex queries".to_string(),
        )
    } else {
        Derived::new(
            100,
            format!(
                "PostgreSQL's default for {}; dw gets 500",
                workload.as_str()
            ),
        )
    }
}

/// Whether random_page_cost stays at PostgreSQL's default 4 for a data warehouse on fast
/// storage that does not fit in RAM (this also raises PgTune's DW warning).
pub(super) fn dw_cost_left_at_default(
    workload: Workload,
    storage: Storage,
    data: DataSize,
) -> bool {
    workload == Workload::Dw && storage != Storage::Hdd && data != DataSize::LessThanRam
}

pub(super) fn random_page_cost(
    workload: Workload,
    storage: Storage,
    data: DataSize,
) -> Derived<&'static str> {
    if data == DataSize::LessThanRam {
        Derived::new(
            "1.1",
            "the data fits in RAM, so random reads come from cache".to_string(),
        )
    } else if storage == Storage::Hdd {
        Derived::new("4", "hdd: random reads cost 4x sequential ones".to_string())
    } else if dw_cost_left_at_default(workload, storage, data) {
        Derived::new(
            "4",
            format!(
                "PostgreSQL's default, kept for dw on {} with data larger than RAM: a low cost risks bad index scans",
                storage.as_str()
            ),
        )
    } else {
        Derived::new(
            "1.1",
            format!(
                "{}: random reads cost about as much as sequential ones",
                storage.as_str()
            ),
        )
    }
}

/// Linux only; PgTune leaves it out on Windows and macOS.
pub(super) fn effective_io_concurrency(os: Os, storage: Storage) -> Option<Derived<u32>> {
    if os != Os::Linux {
        return None;
    }
    let value = match storage {
        Storage::Hdd => 2,
        Storage::Ssd => 200,
        Storage::San => 300,
        Storage::Nvme => 1000,
    };
    Some(Derived::new(
        value,
        format!(
            "{} storage on Linux: hdd 2, ssd 200, san 300, nvme 1000",
            storage.as_str()
        ),
    ))
}

/// PostgreSQL 12 turned JIT on by default; short web, oltp and mixed queries pay for it.
pub(super) fn jit(version: PgVersion, workload: Workload) -> Option<Derived<&'static str>> {
    let short_queries = matches!(workload, Workload::Web | Workload::Oltp | Workload::Mixed);
    (version.major() >= 12 && short_queries).then(|| {
        Derived::new(
            "off",
            format!(
                "JIT compilation costs more than it saves on short {} queries",
                workload.as_str()
            ),
        )
    })
}

/// PostgreSQL 18's asynchronous I/O: io_uring on Linux, worker processes elsewhere.
pub(super) fn io_method(version: PgVersion, os: Os) -> Option<Derived<&'static str>> {
    if version.major() < 18 {
        None
    } else if os == Os::Linux {
        Some(Derived::new(
            "io_uring",
            format!("PostgreSQL {version} on Linux"),
        ))
    } else {
        Some(Derived::new(
            "worker",
            format!("PostgreSQL {version} on {}: no io_uring there", os.as_str()),
        ))
    }
}

/// With io_method = worker: a quarter of the CPUs, between 3 and 32; only emitted above
/// PostgreSQL's default of 3.
pub(super) fn io_workers(
    version: PgVersion,
    io_method: Option<&'static str>,
    cpus: Option<u32>,
) -> Option<Derived<u32>> {
    let cpus = cpus?;
    if version.major() < 18 || io_method == Some("io_uring") {
        return None;
    }
    let workers = (cpus / 4).clamp(3, 32);
    (workers > 3).then(|| {
        let capped = if cpus / 4 > 32 { ", capped at 32" } else { "" };
        Derived::new(workers, format!("{cpus} CPUs / 4 = {}{capped}", cpus / 4))
    })
}
