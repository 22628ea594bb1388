//! Connections, parallel workers and autovacuum workers (see reference: tuning/pgtune-formulas.md §2).

use super::{Derived, PgVersion, Workload};

pub(super) fn max_connections(connections: Option<u32>, workload: Workload) -> Derived<u32> {
    if let Some(n) = connections {
        return Derived::new(n, "--connections".to_string());
    }
    let n = match workload {
        Workload::Web => 200,
        Workload::Oltp => 300,
        Workload::Dw => 40,
        Workload::Desktop => 20,
        Workload::Mixed => 100,
    };
    Derived::new(n, format!("PgTune's default for {}", workload.as_str()))
}

/// The parallel-query block, emitted only with 4 or more CPUs (otherwise PostgreSQL's defaults stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parallel {
    pub max_worker_processes: Derived<u32>,
    pub max_parallel_workers_per_gather: Derived<u32>,
    pub max_parallel_workers: Derived<u32>,
    /// PostgreSQL 11 and later.
    pub max_parallel_maintenance_workers: Option<Derived<u32>>,
}

/// More than 4 workers per gather or per index build shows no clear gain, except for dw's
/// large scans (per gather only).
const WORKERS_CAP: u32 = 4;

pub(super) fn parallel(
    cpus: Option<u32>,
    workload: Workload,
    version: PgVersion,
) -> Option<Parallel> {
    let cpus = cpus.filter(|&n| n >= 4)?;
    let half = cpus.div_ceil(2);
    let half_text = format!("ceil({cpus} CPUs / 2) = {half}");
    let per_gather = if workload != Workload::Dw && half > WORKERS_CAP {
        Derived::new(
            WORKERS_CAP,
            format!("{half_text}, capped at 4 except for dw"),
        )
    } else {
        Derived::new(half, half_text.clone())
    };
    let maintenance = (version.major() >= 11).then(|| {
        if half > WORKERS_CAP {
            Derived::new(WORKERS_CAP, format!("{half_text}, capped at 4"))
        } else {
            Derived::new(half, half_text.clone())
        }
    });
    Some(Parallel {
        max_worker_processes: Derived::new(cpus, format!("one per CPU: {cpus} CPUs")),
        max_parallel_workers_per_gather: per_gather,
        max_parallel_workers: Derived::new(cpus, format!("one per CPU: {cpus} CPUs")),
        max_parallel_maintenance_workers: maintenance,
    })
}

/// PostgreSQL's default is 3; raised only on machines with many CPUs.
pub(super) fn autovacuum_max_workers(cpus: Option<u32>) -> Option<Derived<u32>> {
    match cpus? {
        n if n >= 32 => Some(Derived::new(5, format!("{n} CPUs, 32 or more"))),
        n if n >= 16 => Some(Derived::new(4, format!("{n} CPUs, 16 to 31"))),
        _ => None,
    }
}
