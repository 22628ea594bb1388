//! Connections, planner, I/O, WAL, autovacuum and parallel settings.

use super::*;

#[test]
fn max_connections_by_workload_unless_given() {
    for (w, n) in [
        (Workload::Web, "200"),
        (Workload::Oltp, "300"),
        (Workload::Dw, "40"),
        (Workload::Desktop, "20"),
        (Workload::Mixed, "100"),
    ] {
        assert_eq!(value(&tune(16, Os::Linux, w, "16GB"), "max_connections"), n);
    }
    let given = with(web16(), |i| i.connections = Some(250));
    assert_eq!(value(&given, "max_connections"), "250");
}

#[test]
fn statistics_target_is_500_for_dw_only() {
    for (w, n) in [
        (Workload::Dw, "500"),
        (Workload::Web, "100"),
        (Workload::Oltp, "100"),
        (Workload::Desktop, "100"),
        (Workload::Mixed, "100"),
    ] {
        let i = tune(16, Os::Linux, w, "16GB");
        assert_eq!(value(&i, "default_statistics_target"), n);
    }
}

#[test]
fn random_page_cost_rules_in_order() {
    let rpc = |w, storage, data_size| {
        let i = with(tune(16, Os::Linux, w, "16GB"), |i| {
            i.storage = storage;
            i.data_size = data_size;
        });
        value(&i, "random_page_cost")
    };
    use DataSize::*;
    // 1. data smaller than RAM wins, even on hdd and for dw
    assert_eq!(rpc(Workload::Web, Storage::Hdd, LessThanRam), "1.1");
    assert_eq!(rpc(Workload::Dw, Storage::Ssd, LessThanRam), "1.1");
    // 2. hdd
    assert_eq!(rpc(Workload::Web, Storage::Hdd, OneToThreeTimesRam), "4");
    assert_eq!(rpc(Workload::Dw, Storage::Hdd, MoreThanThreeTimesRam), "4");
    // 3. dw on fast storage, data not in RAM
    assert_eq!(rpc(Workload::Dw, Storage::Ssd, OneToThreeTimesRam), "4");
    assert_eq!(rpc(Workload::Dw, Storage::Nvme, MoreThanThreeTimesRam), "4");
    assert_eq!(rpc(Workload::Dw, Storage::San, OneToThreeTimesRam), "4");
    // 4. everything else
    for s in [Storage::Ssd, Storage::San, Storage::Nvme] {
        assert_eq!(rpc(Workload::Oltp, s, MoreThanThreeTimesRam), "1.1");
    }
}

#[test]
fn effective_io_concurrency_by_storage_on_linux_only() {
    for (s, n) in [
        (Storage::Hdd, "2"),
        (Storage::Ssd, "200"),
        (Storage::San, "300"),
        (Storage::Nvme, "1000"),
    ] {
        let i = with(web16(), |i| i.storage = s);
        assert_eq!(value(&i, "effective_io_concurrency"), n);
    }
    for os in [Os::Windows, Os::Mac] {
        let i = tune(16, os, Workload::Web, "16GB");
        assert_eq!(get(&i, "effective_io_concurrency"), None);
    }
}

#[test]
fn jit_off_from_12_for_short_query_workloads() {
    for w in [Workload::Web, Workload::Oltp, Workload::Mixed] {
        assert_eq!(
            get(&tune(12, Os::Linux, w, "16GB"), "jit").as_deref(),
            Some("off")
        );
        assert_eq!(get(&tune(11, Os::Linux, w, "16GB"), "jit"), None);
    }
    for w in [Workload::Dw, Workload::Desktop] {
        assert_eq!(get(&tune(18, Os::Linux, w, "16GB"), "jit"), None);
    }
}

#[test]
fn wal_compression_lz4_from_15() {
    for (v, c) in [(10, "on"), (14, "on"), (15, "lz4"), (18, "lz4")] {
        assert_eq!(
            value(
                &tune(v, Os::Linux, Workload::Web, "16GB"),
                "wal_compression"
            ),
            c
        );
    }
}

#[test]
fn autovacuum_workers_and_memory() {
    let workers = |cpus| get(&with(web16(), |i| i.cpus = cpus), "autovacuum_max_workers");
    assert_eq!(workers(None), None);
    assert_eq!(workers(Some(15)), None);
    assert_eq!(workers(Some(16)).as_deref(), Some("4"));
    assert_eq!(workers(Some(31)).as_deref(), Some("4"));
    assert_eq!(workers(Some(32)).as_deref(), Some("5"));
    let avwm = |v, os, w, mem| get(&tune(v, os, w, mem), "autovacuum_work_mem");
    assert_eq!(
        avwm(16, Os::Linux, Workload::Web, "32GB").as_deref(),
        Some("2GB")
    );
    assert_eq!(avwm(16, Os::Linux, Workload::Web, "31GB"), None);
    assert_eq!(
        avwm(16, Os::Linux, Workload::Dw, "16GB").as_deref(),
        Some("2GB")
    );
    assert_eq!(
        avwm(16, Os::Linux, Workload::Web, "256GB").as_deref(),
        Some("2GB")
    );
    // Windows up to 17: maintenance_work_mem stops at 2047MB, below the 2GB threshold.
    assert_eq!(avwm(17, Os::Windows, Workload::Web, "256GB"), None);
}

#[test]
fn io_method_and_io_workers_from_18() {
    let io = |v, os, cpus| {
        let i = with(tune(v, os, Workload::Web, "16GB"), |i| i.cpus = cpus);
        (get(&i, "io_method"), get(&i, "io_workers"))
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(io(17, Os::Linux, Some(64)), (None, None));
    assert_eq!(io(17, Os::Windows, Some(64)), (None, None));
    // io_uring: no io_workers
    assert_eq!(io(18, Os::Linux, Some(64)), (s("io_uring"), None));
    assert_eq!(io(18, Os::Windows, None), (s("worker"), None));
    assert_eq!(io(18, Os::Windows, Some(15)), (s("worker"), None)); // 3: the default
    assert_eq!(io(18, Os::Windows, Some(16)), (s("worker"), s("4")));
    assert_eq!(io(18, Os::Mac, Some(64)), (s("worker"), s("16")));
    assert_eq!(io(18, Os::Mac, Some(200)), (s("worker"), s("32"))); // 50, capped
}

#[test]
fn wal_sizes_by_workload() {
    for (w, min, max) in [
        (Workload::Web, "1GB", "4GB"),
        (Workload::Oltp, "2GB", "8GB"),
        (Workload::Dw, "4GB", "16GB"),
        (Workload::Desktop, "100MB", "2GB"),
        (Workload::Mixed, "1GB", "4GB"),
    ] {
        let i = tune(16, Os::Linux, w, "64GB");
        assert_eq!(
            (value(&i, "min_wal_size"), value(&i, "max_wal_size")),
            (min.into(), max.into())
        );
    }
}

#[test]
fn parallel_settings_from_4_cpus() {
    let par = |v, w, cpus: u32| {
        let i = with(tune(v, Os::Linux, w, "64GB"), |i| i.cpus = Some(cpus));
        [
            "max_worker_processes",
            "max_parallel_workers_per_gather",
            "max_parallel_workers",
            "max_parallel_maintenance_workers",
        ]
        .map(|n| get(&i, n).unwrap_or_default())
    };
    assert_eq!(par(16, Workload::Web, 3), ["", "", "", ""]);
    assert_eq!(par(16, Workload::Web, 4), ["4", "2", "4", "2"]);
    assert_eq!(par(16, Workload::Web, 5), ["5", "3", "5", "3"]);
    assert_eq!(par(16, Workload::Oltp, 8), ["8", "4", "8", "4"]);
    assert_eq!(par(16, Workload::Web, 12), ["12", "4", "12", "4"]);
    // dw: per-gather uncapped, maintenance still capped at 4
    assert_eq!(par(16, Workload::Dw, 12), ["12", "6", "12", "4"]);
    // max_parallel_maintenance_workers exists from PostgreSQL 11
    assert_eq!(par(10, Workload::Web, 8), ["8", "4", "8", ""]);
    assert_eq!(par(11, Workload::Web, 8), ["8", "4", "8", "4"]);
}

#[test]
fn desktop_only_sets_wal_level() {
    assert_eq!(get(&web16(), "wal_level"), None);
    assert_eq!(get(&web16(), "max_wal_senders"), None);
}
