//! Hardware detection on fixture machine trees (fixtures/detect/README.md).

use poolstack::tune::detect::{Detected, Machine, detect};
use poolstack::units::Bytes;
use std::path::PathBuf;

fn machine(name: &str) -> Machine {
    detect(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/detect")
            .join(name),
    )
}

fn found<T>(value: T, source: &str) -> Option<Detected<T>> {
    Some(Detected {
        value,
        source: source.to_string(),
    })
}

const HOST_MEMORY: Bytes = Bytes(16_318_480 * 1024);

#[test]
fn cgroup_v2_limits_win() {
    let m = machine("v2-limits");
    assert_eq!(
        m.memory,
        found(Bytes(2 << 30), "/sys/fs/cgroup/memory.max (cgroup v2)")
    );
    assert_eq!(m.cpus, found(2, "/sys/fs/cgroup/cpu.max (cgroup v2)"));
    let shown = m.memory.unwrap().to_string();
    assert_eq!(
        shown,
        "memory 2GB from /sys/fs/cgroup/memory.max (cgroup v2)"
    );
    assert_eq!(
        m.cpus.unwrap().to_string(),
        "2 CPUs from /sys/fs/cgroup/cpu.max (cgroup v2)"
    );
}

#[test]
fn cgroup_v2_without_limits_falls_back_to_proc() {
    let m = machine("v2-unlimited");
    assert_eq!(
        m.memory,
        found(
            HOST_MEMORY,
            "/proc/meminfo (no limit in /sys/fs/cgroup/memory.max, cgroup v2)"
        )
    );
    assert_eq!(
        m.cpus,
        found(
            8,
            "/proc/cpuinfo (no limit in /sys/fs/cgroup/cpu.max, cgroup v2)"
        )
    );
}

#[test]
fn cgroup_limits_above_the_host_are_not_used() {
    let m = machine("v2-above-host");
    assert_eq!(
        m.memory,
        found(
            HOST_MEMORY,
            "/proc/meminfo (the limit of 64GB in /sys/fs/cgroup/memory.max, cgroup v2, is not lower)"
        )
    );
    assert_eq!(
        m.cpus,
        found(
            8,
            "/proc/cpuinfo (the limit of 16 in /sys/fs/cgroup/cpu.max, cgroup v2, is not lower)"
        )
    );
}

#[test]
fn nested_cgroup_v2_takes_the_tightest_ancestor() {
    let m = machine("v2-nested");
    assert_eq!(
        m.memory,
        found(
            Bytes(4 << 30),
            "/sys/fs/cgroup/kubepods/pod1/memory.max (cgroup v2)"
        )
    );
    assert_eq!(
        m.cpus,
        found(
            2,
            "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max (cgroup v2, quota 150000/100000 rounded up)"
        )
    );
}

#[test]
fn cgroup_v1_limits_win() {
    let m = machine("v1");
    assert_eq!(
        m.memory,
        found(
            Bytes(4 << 30),
            "/sys/fs/cgroup/memory/memory.limit_in_bytes (cgroup v1)"
        )
    );
    assert_eq!(
        m.cpus,
        found(
            2,
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us (cgroup v1, quota 150000/100000 rounded up)"
        )
    );
}

#[test]
fn cgroup_v1_sentinels_mean_no_limit() {
    let m = machine("v1-unlimited");
    assert_eq!(
        m.memory,
        found(
            HOST_MEMORY,
            "/proc/meminfo (no limit in /sys/fs/cgroup/memory/memory.limit_in_bytes, cgroup v1)"
        )
    );
    assert_eq!(
        m.cpus,
        found(
            8,
            "/proc/cpuinfo (no limit in /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us, cgroup v1)"
        )
    );
}

#[test]
fn without_cgroups_proc_is_read() {
    let m = machine("none");
    assert_eq!(m.memory, found(HOST_MEMORY, "/proc/meminfo"));
    assert_eq!(m.cpus, found(8, "/proc/cpuinfo"));
    assert_eq!(
        m.memory.unwrap().to_string(),
        "memory 16318480kB from /proc/meminfo"
    );
}

#[test]
fn an_empty_tree_detects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(detect(dir.path()), Machine::default());
}
