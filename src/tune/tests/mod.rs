//! Every branch of every formula. Expected values are worked by hand from
//! reference: tuning/pgtune-formulas.md (its worked numbers: 16GB web → work_mem 20164kB,
//! the PG18 128GB warning example, the 2047MB Windows cap), not from this implementation.

use super::*;

mod settings;
mod sizes;
mod warning_blocks;

fn tune(version: u8, os: Os, workload: Workload, memory: &str) -> Inputs {
    let version = PgVersion::new(version).unwrap();
    Inputs::new(version, os, workload, memory.parse().unwrap())
}

fn web16() -> Inputs {
    tune(16, Os::Linux, Workload::Web, "16GB")
}

fn with(mut i: Inputs, f: impl FnOnce(&mut Inputs)) -> Inputs {
    f(&mut i);
    i
}

fn get(i: &Inputs, name: &str) -> Option<String> {
    recommend(i).get(name).map(str::to_string)
}

fn value(i: &Inputs, name: &str) -> String {
    get(i, name).unwrap_or_else(|| panic!("{name} missing for {i:?}"))
}

fn pairs(i: &Inputs) -> Vec<(&'static str, String)> {
    recommend(i)
        .settings
        .into_iter()
        .map(|s| (s.name, s.value))
        .collect()
}

fn owned(expected: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    expected.iter().map(|(n, v)| (*n, v.to_string())).collect()
}

fn reason(i: &Inputs, name: &str) -> String {
    let rec = recommend(i);
    let s = rec.settings.iter().find(|s| s.name == name);
    s.map(|s| s.reason.clone()).unwrap_or_default()
}

#[test]
fn the_documented_16gb_web_example_in_full() {
    // product.md's JSON example and the formula document: 16GB, web, no CPUs given.
    let expected = owned(&[
        ("max_connections", "200"),
        ("shared_buffers", "4GB"),
        ("effective_cache_size", "12GB"),
        ("maintenance_work_mem", "1GB"),
        ("checkpoint_completion_target", "0.9"),
        ("wal_buffers", "16MB"),
        ("default_statistics_target", "100"),
        ("random_page_cost", "1.1"),
        ("effective_io_concurrency", "200"),
        ("work_mem", "20164kB"),
        ("huge_pages", "try"),
        ("jit", "off"),
        ("wal_compression", "lz4"),
        ("min_wal_size", "1GB"),
        ("max_wal_size", "4GB"),
    ]);
    assert_eq!(pairs(&web16()), expected);
}

#[test]
fn every_optional_setting_in_pgtune_order() {
    // PG18 Windows web 256GB 32 CPUs: work_mem = (256GB - 64GB) / ((200 + 32) * 3)
    // = 201326592 / 696 = 289262.34 → 289262kB; io_workers = 32 / 4 = 8.
    let i = with(tune(18, Os::Windows, Workload::Web, "256GB"), |i| {
        i.cpus = Some(32)
    });
    let expected = owned(&[
        ("max_connections", "200"),
        ("shared_buffers", "64GB"),
        ("effective_cache_size", "192GB"),
        ("maintenance_work_mem", "8GB"),
        ("checkpoint_completion_target", "0.9"),
        ("wal_buffers", "16MB"),
        ("default_statistics_target", "100"),
        ("random_page_cost", "1.1"),
        ("work_mem", "289262kB"),
        ("huge_pages", "try"),
        ("jit", "off"),
        ("wal_compression", "lz4"),
        ("autovacuum_max_workers", "5"),
        ("autovacuum_work_mem", "2GB"),
        ("io_method", "worker"),
        ("io_workers", "8"),
        ("min_wal_size", "1GB"),
        ("max_wal_size", "4GB"),
        ("max_worker_processes", "32"),
        ("max_parallel_workers_per_gather", "4"),
        ("max_parallel_workers", "32"),
        ("max_parallel_maintenance_workers", "4"),
    ]);
    assert_eq!(pairs(&i), expected);
}

#[test]
fn desktop_ends_with_wal_level_and_max_wal_senders() {
    // PG18 Linux desktop 8GB 4 CPUs: shared_buffers 8GB/16 = 512MB; wal_buffers 3% = 15728kB,
    // between 14MB and 16MB → 16MB; work_mem (8GB - 512MB) / ((20 + 4) * 3) / 6 = 18204.44.
    let i = with(tune(18, Os::Linux, Workload::Desktop, "8GB"), |i| {
        i.cpus = Some(4)
    });
    let expected = owned(&[
        ("max_connections", "20"),
        ("shared_buffers", "512MB"),
        ("effective_cache_size", "2GB"),
        ("maintenance_work_mem", "512MB"),
        ("checkpoint_completion_target", "0.9"),
        ("wal_buffers", "16MB"),
        ("default_statistics_target", "100"),
        ("random_page_cost", "1.1"),
        ("effective_io_concurrency", "200"),
        ("work_mem", "18204kB"),
        ("huge_pages", "off"),
        ("wal_compression", "lz4"),
        ("io_method", "io_uring"),
        ("min_wal_size", "100MB"),
        ("max_wal_size", "2GB"),
        ("max_worker_processes", "4"),
        ("max_parallel_workers_per_gather", "2"),
        ("max_parallel_workers", "4"),
        ("max_parallel_maintenance_workers", "2"),
        ("wal_level", "minimal"),
        ("max_wal_senders", "0"),
    ]);
    assert_eq!(pairs(&i), expected);
}
