//! shared_buffers, effective_cache_size, maintenance_work_mem, wal_buffers, work_mem, huge_pages
//! and the reasons that show their numbers.

use super::*;

#[test]
fn sizes_are_printed_in_the_largest_exact_unit() {
    assert_eq!(format_kb(1_048_576), "1GB");
    assert_eq!(format_kb(1_024), "1MB");
    assert_eq!(format_kb(1_572_864), "1536MB");
    assert_eq!(format_kb(20_164), "20164kB");
}

#[test]
fn shared_buffers_and_effective_cache_size() {
    let i = tune(16, Os::Linux, Workload::Web, "32GB");
    assert_eq!(value(&i, "shared_buffers"), "8GB");
    assert_eq!(recommend(&i).settings[1].reason, "25% of 32GB RAM");
    assert_eq!(value(&i, "effective_cache_size"), "24GB");
    let desktop = tune(16, Os::Linux, Workload::Desktop, "16GB");
    assert_eq!(value(&desktop, "shared_buffers"), "1GB");
    assert_eq!(value(&desktop, "effective_cache_size"), "4GB");
    // Windows no longer caps shared_buffers (that applied before PostgreSQL 10).
    let windows = tune(10, Os::Windows, Workload::Oltp, "16GB");
    assert_eq!(value(&windows, "shared_buffers"), "4GB");
}

#[test]
fn maintenance_work_mem_shares_caps_and_windows_limit() {
    let mwm = |v, os, w, mem| value(&tune(v, os, w, mem), "maintenance_work_mem");
    assert_eq!(mwm(16, Os::Linux, Workload::Web, "16GB"), "1GB");
    assert_eq!(mwm(16, Os::Linux, Workload::Dw, "16GB"), "2GB");
    assert_eq!(mwm(16, Os::Linux, Workload::Web, "64GB"), "4GB");
    // base 8GB reaches the limit (>=), base 16GB is over it.
    assert_eq!(mwm(16, Os::Linux, Workload::Web, "128GB"), "8GB");
    assert_eq!(mwm(16, Os::Linux, Workload::Web, "256GB"), "8GB");
    assert_eq!(mwm(16, Os::Linux, Workload::Dw, "100GB"), "8GB");
    // Windows up to 17: base 2GB reaches the 2GB limit → 2GB − 1MB.
    assert_eq!(mwm(17, Os::Windows, Workload::Web, "32GB"), "2047MB");
    assert_eq!(mwm(10, Os::Windows, Workload::Dw, "256GB"), "2047MB");
    assert_eq!(mwm(17, Os::Windows, Workload::Web, "31GB"), "1984MB");
    // PostgreSQL 18 on Windows and other OSes: the 8GB limit.
    assert_eq!(mwm(18, Os::Windows, Workload::Web, "64GB"), "4GB");
    assert_eq!(mwm(18, Os::Windows, Workload::Web, "256GB"), "8GB");
    assert_eq!(mwm(17, Os::Mac, Workload::Web, "64GB"), "4GB");
}

#[test]
fn wal_buffers_three_percent_capped_rounded_and_floored() {
    let wb = |mem| value(&tune(16, Os::Linux, Workload::Web, mem), "wal_buffers");
    assert_eq!(wb("16GB"), "16MB"); // 3% of 4GB = 125829kB, capped
    assert_eq!(wb("1GB"), "7864kB"); // 3% of 256MB = 7864.32
    assert_eq!(wb("2000MB"), "16MB"); // 3% of 500MB = 15360kB, in (14MB, 16MB) → 16MB
    let desktop = tune(16, Os::Linux, Workload::Desktop, "512MB");
    assert_eq!(value(&desktop, "wal_buffers"), "983kB"); // 3% of 32MB
    // Boundaries, on the formula itself (no whole-MB RAM reaches them).
    assert_eq!(memory::wal_buffers(477_867).value, 14 * MB); // exactly 14MB stays
    assert_eq!(memory::wal_buffers(546_134).value, 16 * MB); // exactly 16MB stays
    assert_eq!(memory::wal_buffers(1_000).value, 32); // 30kB → the 32kB minimum
}

#[test]
fn work_mem_divisors_by_workload_and_workers() {
    let wm = |i: &Inputs| value(i, "work_mem");
    // (16GB - 4GB) / ((200 + 8) * 3) = 20164.92 (the document's example)
    assert_eq!(wm(&web16()), "20164kB");
    // fewer than 4 CPUs: still PostgreSQL's default 8 workers
    assert_eq!(wm(&with(web16(), |i| i.cpus = Some(2))), "20164kB");
    // 16 CPUs: 12582912 / ((200 + 16) * 3) = 19418.07
    assert_eq!(wm(&with(web16(), |i| i.cpus = Some(16))), "19418kB");
    // oltp, 8 CPUs: 12582912 / ((300 + 8) * 3) = 13617.87
    let oltp = with(tune(16, Os::Linux, Workload::Oltp, "16GB"), |i| {
        i.cpus = Some(8)
    });
    assert_eq!(wm(&oltp), "13617kB");
    // dw: 12582912 / ((40 + 8) * 3) / 2 = 43690.67
    assert_eq!(wm(&tune(16, Os::Linux, Workload::Dw, "16GB")), "43690kB");
    // mixed: 12582912 / ((100 + 8) * 3) / 2 = 19418.07
    assert_eq!(wm(&tune(16, Os::Linux, Workload::Mixed, "16GB")), "19418kB");
    // desktop: (16GB - 1GB) / ((20 + 8) * 3) / 6 = 31207.62
    assert_eq!(
        wm(&tune(16, Os::Linux, Workload::Desktop, "16GB")),
        "31207kB"
    );
}

#[test]
fn work_mem_data_size_floor_and_windows_cap() {
    let wm = |i: &Inputs| value(i, "work_mem");
    // 20164 * 1.3 = 26213.2; 20164 * 0.9 = 18147.6
    let less = with(web16(), |i| i.data_size = DataSize::LessThanRam);
    assert_eq!(wm(&less), "26213kB");
    let more = with(web16(), |i| i.data_size = DataSize::MoreThanThreeTimesRam);
    assert_eq!(wm(&more), "18147kB");
    // 1GB: (1GB - 256MB) / 624 = 1260 → the 4MB floor, also after * 1.3 = 1638
    let small = tune(16, Os::Linux, Workload::Web, "1GB");
    assert_eq!(wm(&small), "4MB");
    assert_eq!(
        wm(&with(small, |i| i.data_size = DataSize::LessThanRam)),
        "4MB"
    );
    // 1TB, 20 connections: (1TB - 256GB) / ((20 + 8) * 3) = 9586980.57
    let huge = |v, os| {
        with(tune(v, os, Workload::Web, "1TB"), |i| {
            i.connections = Some(20)
        })
    };
    assert_eq!(wm(&huge(17, Os::Linux)), "9586980kB");
    assert_eq!(wm(&huge(18, Os::Windows)), "9586980kB");
    assert_eq!(wm(&huge(17, Os::Windows)), "2047MB");
    let reason = &recommend(&web16()).settings[9].reason;
    assert_eq!(
        reason,
        "(16GB RAM - 4GB shared_buffers) / ((200 max_connections + 8 default max_worker_processes) * 3) = 20164kB"
    );
}

#[test]
fn huge_pages_from_shared_buffers_except_on_mac() {
    let hp = |os, w, mem| value(&tune(16, os, w, mem), "huge_pages");
    assert_eq!(hp(Os::Linux, Workload::Web, "8GB"), "try"); // shared_buffers exactly 2GB
    assert_eq!(hp(Os::Linux, Workload::Web, "7GB"), "off"); // 1792MB
    assert_eq!(hp(Os::Linux, Workload::Desktop, "32GB"), "try"); // 32GB / 16 = 2GB
    assert_eq!(hp(Os::Windows, Workload::Web, "16GB"), "try");
    assert_eq!(hp(Os::Mac, Workload::Web, "64GB"), "off");
}

#[test]
fn reasons_show_the_formula_with_its_numbers() {
    let desktop = tune(16, Os::Linux, Workload::Desktop, "16GB");
    assert_eq!(
        reason(&desktop, "shared_buffers"),
        "1/16 of 16GB RAM for desktop"
    );
    let fits = with(desktop, |i| i.data_size = DataSize::LessThanRam);
    // 31207 * 1.3 = 40569.1
    assert_eq!(
        reason(&fits, "work_mem"),
        "(16GB RAM - 1GB shared_buffers) / ((20 max_connections + 8 default max_worker_processes) * 3) \
         / 6 for desktop * 1.3 as the data fits in RAM = 40569kB"
    );
    let dw = tune(16, Os::Linux, Workload::Dw, "128GB");
    assert_eq!(
        reason(&dw, "maintenance_work_mem"),
        "1/8 of 128GB RAM = 16GB, capped at 8GB"
    );
    let windows = tune(17, Os::Windows, Workload::Web, "32GB");
    assert_eq!(
        reason(&windows, "maintenance_work_mem"),
        "1/16 of 32GB RAM = 2GB, capped at 2047MB as PostgreSQL 17 on Windows rejects 2GB"
    );
    let small = tune(16, Os::Linux, Workload::Web, "1GB");
    assert_eq!(reason(&small, "wal_buffers"), "3% of 256MB shared_buffers");
    assert!(reason(&small, "work_mem").ends_with("= 1260kB, raised to the 4MB minimum"));
    let given = with(web16(), |i| i.connections = Some(250));
    assert_eq!(reason(&given, "max_connections"), "--connections");
    let many = with(tune(18, Os::Mac, Workload::Dw, "64GB"), |i| {
        i.cpus = Some(200)
    });
    assert_eq!(
        reason(&many, "io_workers"),
        "200 CPUs / 4 = 50, capped at 32"
    );
    assert_eq!(
        reason(&many, "max_parallel_workers_per_gather"),
        "ceil(200 CPUs / 2) = 100"
    );
    assert_eq!(
        reason(&many, "huge_pages"),
        "PostgreSQL has no huge pages on macOS"
    );
}
