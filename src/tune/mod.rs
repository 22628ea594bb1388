//! Hardware → PostgreSQL settings, each with its reason: PgTune's formulas exactly, as of
//! le0pard/pgtune 7caef27 (see reference: tuning/pgtune-formulas.md). Pure: no I/O here;
//! [`detect`] reads the machine.

pub mod detect;
mod inputs;
pub mod limits;
mod memory;
mod planner;
mod wal;
mod warnings;
mod workers;

#[cfg(test)]
mod tests;

pub use inputs::{DataSize, Inputs, MemoryUnit, Os, PgVersion, Storage, TotalMemory, Workload};

use memory::{WorkMemInputs, WorkerProcesses};
use warnings::WarningFacts;

/// 1MB and 1GB in kB, PgTune's unit of computation.
const MB: u64 = 1 << 10;
const GB: u64 = 1 << 20;

/// One recommended setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunedSetting {
    pub name: &'static str,
    /// Exactly as written in postgresql.conf (`4GB`, `20164kB`, `1.1`, `try`).
    pub value: String,
    /// The formula with its numbers filled in (`25% of 16GB RAM`).
    pub reason: String,
}

/// PgTune's output for one set of inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommendation {
    /// In PgTune's order; settings PgTune leaves out are absent.
    pub settings: Vec<TunedSetting>,
    /// PgTune's warning lines without comment markers (empty when it prints none).
    pub warnings: Vec<String>,
}

impl Recommendation {
    /// The value of one setting, if recommended.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }
}

/// A computed value and the formula, with its numbers, that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Derived<T> {
    value: T,
    reason: String,
}

impl<T> Derived<T> {
    fn new(value: T, reason: String) -> Derived<T> {
        Derived { value, reason }
    }
}

/// A size in kB as PgTune prints it: `GB` when whole gigabytes, else `MB` when whole
/// megabytes, else `kB` — never rounded.
pub fn format_kb(kb: u64) -> String {
    if kb.is_multiple_of(GB) {
        format!("{}GB", kb / GB)
    } else if kb.is_multiple_of(MB) {
        format!("{}MB", kb / MB)
    } else {
        format!("{kb}kB")
    }
}

/// The settings list, in PgTune's output order.
struct Settings(Vec<TunedSetting>);

impl Settings {
    fn push<T: ToString>(&mut self, name: &'static str, d: Derived<T>) {
        self.0.push(TunedSetting {
            name,
            value: d.value.to_string(),
            reason: d.reason,
        });
    }

    fn push_opt<T: ToString>(&mut self, name: &'static str, d: Option<Derived<T>>) {
        if let Some(d) = d {
            self.push(name, d);
        }
    }

    fn push_size(&mut self, name: &'static str, d: Derived<u64>) {
        self.push(name, Derived::new(format_kb(d.value), d.reason));
    }
}

/// PgTune's recommendation for `inputs`.
pub fn recommend(inputs: &Inputs) -> Recommendation {
    let ram = inputs.memory.kb();
    let (version, os, workload) = (inputs.pg_version, inputs.os, inputs.workload);
    let (storage, data_size) = (inputs.storage, inputs.data_size);

    let max_connections = workers::max_connections(inputs.connections, workload);
    let shared_buffers = memory::shared_buffers(ram, workload);
    let maintenance_work_mem = memory::maintenance_work_mem(ram, workload, os, version);
    let parallel = workers::parallel(inputs.cpus, workload, version);
    let work_mem = memory::work_mem(&WorkMemInputs {
        ram,
        shared_buffers: shared_buffers.value,
        max_connections: max_connections.value,
        workers: parallel
            .as_ref()
            .map_or(WorkerProcesses::PostgresDefault, |p| {
                WorkerProcesses::Tuned(p.max_worker_processes.value)
            }),
        workload,
        data_size,
        os,
        version,
    });
    let wal_compression = wal::wal_compression(version);
    let io_method = planner::io_method(version, os);
    let io_method_value = io_method.as_ref().map(|d| d.value);
    let (min_wal_size, max_wal_size) = wal::wal_size(workload);

    let warnings = warnings::warnings(&WarningFacts {
        ram,
        wal_compression_lz4: wal_compression.value == "lz4",
        io_uring: io_method_value == Some("io_uring"),
        dw_cost_left_at_default: planner::dw_cost_left_at_default(workload, storage, data_size),
    });

    let (sb, mwm) = (shared_buffers.value, maintenance_work_mem.value);
    let mut s = Settings(Vec::new());
    s.push("max_connections", max_connections);
    s.push_size("shared_buffers", shared_buffers);
    s.push_size(
        "effective_cache_size",
        memory::effective_cache_size(ram, workload),
    );
    s.push_size("maintenance_work_mem", maintenance_work_mem);
    s.push(
        "checkpoint_completion_target",
        wal::checkpoint_completion_target(),
    );
    s.push_size("wal_buffers", memory::wal_buffers(sb));
    s.push(
        "default_statistics_target",
        planner::default_statistics_target(workload),
    );
    s.push(
        "random_page_cost",
        planner::random_page_cost(workload, storage, data_size),
    );
    s.push_opt(
        "effective_io_concurrency",
        planner::effective_io_concurrency(os, storage),
    );
    s.push_size("work_mem", work_mem);
    s.push("huge_pages", memory::huge_pages(sb, os));
    s.push_opt("jit", planner::jit(version, workload));
    s.push("wal_compression", wal_compression);
    s.push_opt(
        "autovacuum_max_workers",
        workers::autovacuum_max_workers(inputs.cpus),
    );
    if let Some(d) = memory::autovacuum_work_mem(mwm) {
        s.push_size("autovacuum_work_mem", d);
    }
    s.push_opt("io_method", io_method);
    s.push_opt(
        "io_workers",
        planner::io_workers(version, io_method_value, inputs.cpus),
    );
    s.push_size("min_wal_size", min_wal_size);
    s.push_size("max_wal_size", max_wal_size);
    if let Some(p) = parallel {
        s.push("max_worker_processes", p.max_worker_processes);
        s.push(
            "max_parallel_workers_per_gather",
            p.max_parallel_workers_per_gather,
        );
        s.push("max_parallel_workers", p.max_parallel_workers);
        s.push_opt(
            "max_parallel_maintenance_workers",
            p.max_parallel_maintenance_workers,
        );
    }
    if let Some((wal_level, max_wal_senders)) = wal::desktop_wal_level(workload) {
        s.push("wal_level", wal_level);
        s.push("max_wal_senders", max_wal_senders);
    }
    limits::fit(&mut s.0, u32::from(version.major()));
    Recommendation {
        settings: s.0,
        warnings,
    }
}

/// PgTune's work_mem formula for `inputs` with two of its terms replaced: `connections` (named
/// `connections_text` in the reason, e.g. `30 server connections`) instead of max_connections,
/// and `shared_buffers_kb` (the effective value) instead of PgTune's own shared_buffers.
/// Returns the value in kB and the reason, PgTune's 4MB floor and Windows cap included.
pub fn work_mem_for(
    inputs: &Inputs,
    shared_buffers_kb: u64,
    connections: u32,
    connections_text: &str,
) -> (u64, String) {
    let ram = inputs.memory.kb();
    let parallel = workers::parallel(inputs.cpus, inputs.workload, inputs.pg_version);
    let d = memory::work_mem(&WorkMemInputs {
        ram,
        shared_buffers: shared_buffers_kb.min(ram),
        max_connections: connections,
        workers: parallel
            .as_ref()
            .map_or(WorkerProcesses::PostgresDefault, |p| {
                WorkerProcesses::Tuned(p.max_worker_processes.value)
            }),
        workload: inputs.workload,
        data_size: inputs.data_size,
        os: inputs.os,
        version: inputs.pg_version,
    });
    let reason = d.reason.replacen(
        &format!("{connections} max_connections"),
        connections_text,
        1,
    );
    (d.value, reason)
}
