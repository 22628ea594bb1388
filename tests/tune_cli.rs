//! `poolstack tune` as users run it: the three formats (insta snapshots), bad input (exit 2),
//! and `--detect` on fixture machine trees.

use assert_cmd::Command;
use clap::Parser;
use poolstack::cli::{Cli, Command as Sub};
use poolstack::tune::detect::detect;
use std::path::PathBuf;

const OLTP: [&str; 11] = [
    "tune",
    "--memory",
    "16GB",
    "--workload",
    "oltp",
    "--pg-version",
    "16",
    "--cpus",
    "8",
    "--storage",
    "ssd",
];

fn poolstack() -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1");
    c
}

/// stdout of a successful run.
fn tune_ok(args: &[&str]) -> String {
    let out = poolstack().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    String::from_utf8(out.stdout).unwrap()
}

/// stderr of a run that must exit 2.
fn tune_refused(args: &[&str]) -> String {
    let out = poolstack().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn human_format() {
    insta::assert_snapshot!(tune_ok(&OLTP));
}

#[test]
fn conf_format() {
    insta::assert_snapshot!(tune_ok(&[&OLTP[..], &["--format", "conf"]].concat()));
}

#[test]
fn json_format() {
    let text = tune_ok(&[&OLTP[..], &["--format", "json"]].concat());
    insta::assert_snapshot!(text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["settings"]["work_mem"], "13617kB");
    assert_eq!(v["reasons"]["shared_buffers"], "25% of 16GB RAM");
    assert_eq!(
        v["warnings"],
        serde_json::json!([
            "WARNING",
            "wal_compression = lz4 requires PostgreSQL",
            "to be compiled with --with-lz4"
        ])
    );
    let settings = v["settings"].as_object().unwrap();
    let reasons = v["reasons"].as_object().unwrap();
    assert_eq!(settings.len(), reasons.len());
}

#[test]
fn conf_with_every_warning_block_and_desktop_settings() {
    let args = [
        "tune",
        "--memory",
        "128GB",
        "--workload",
        "desktop",
        "--pg-version",
        "18",
        "--format",
        "conf",
    ];
    insta::assert_snapshot!(tune_ok(&args));
}

#[test]
fn defaults_are_pgtunes() {
    // No --os, --storage, --data-size: linux, ssd, 1x-3x RAM, as PgTune's form starts.
    let out = tune_ok(&[
        "tune",
        "--memory",
        "16GB",
        "--workload",
        "web",
        "--pg-version",
        "16",
    ]);
    assert!(out.contains("PostgreSQL 16 on linux, web workload, 16GB RAM, CPUs not given, ssd storage, data size 1-3x-ram"), "{out}");
    assert!(out.contains("work_mem = 20164kB  ("), "{out}");
    assert!(out.contains("effective_io_concurrency = 200  ("), "{out}");
    assert!(!out.contains("\nmax_worker_processes = "), "{out}");
}

#[test]
fn memory_is_needed() {
    let err = tune_refused(&["tune", "--workload", "web", "--pg-version", "16"]);
    assert!(
        err.contains("tune needs the memory PostgreSQL can use"),
        "{err}"
    );
    assert!(err.contains("--memory"), "{err}");
    assert!(err.contains("--detect"), "{err}");
}

#[test]
fn bad_flags_exit_2_with_the_reason() {
    let base = [
        "tune",
        "--workload",
        "web",
        "--pg-version",
        "16",
        "--memory",
    ];
    let cases = [
        ("16kB", "MB, GB or TB"),
        ("16", "has no unit"),
        ("256MB", "below PgTune's minimum of 512MB"),
        ("1.5GB", "whole number"),
    ];
    for (memory, needle) in cases {
        let err = tune_refused(&[&base[..], &[memory]].concat());
        assert!(err.contains(needle), "{memory}: {err}");
    }
    let err = tune_refused(&[
        "tune",
        "--memory",
        "16GB",
        "--workload",
        "web",
        "--pg-version",
        "12",
    ]);
    // One supported range for every command (README "Supported versions").
    assert!(err.contains("PostgreSQL 13 to 18"), "{err}");
    let err = tune_refused(&[
        "tune",
        "--memory",
        "16GB",
        "--workload",
        "shop",
        "--pg-version",
        "16",
    ]);
    assert!(err.contains("oltp"), "{err}");
    let err = tune_refused(&[&OLTP[..], &["--connections", "10"]].concat());
    assert!(err.contains("10"), "{err}");
    let err = tune_refused(&[&OLTP[..], &["--data-size", "huge"]].concat());
    assert!(err.contains("less-than-ram"), "{err}");
}

/// `tune` through the library with detection reading a fixture tree.
fn tune_detected(args: &[&str], tree: &str) -> (String, String, u8) {
    let cli = Cli::try_parse_from([&["poolstack"][..], args].concat()).unwrap();
    let Sub::Tune(tune_args) = &cli.command else {
        panic!("not tune")
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/detect")
        .join(tree);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let outcome = poolstack::commands::tune::run(tune_args, || detect(&root), &mut out, &mut err);
    let code = match outcome {
        Ok(o) => o.exit_code(),
        Err(e) => {
            err.extend(e.to_string().bytes());
            2
        }
    };
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        code,
    )
}

#[test]
fn detect_uses_the_container_limits_and_says_so() {
    let args = [
        "tune",
        "--workload",
        "web",
        "--pg-version",
        "16",
        "--detect",
    ];
    let (out, err, code) = tune_detected(&args, "v2-limits");
    assert_eq!((code, err.as_str()), (0, ""));
    insta::assert_snapshot!(out);
}

#[test]
fn explicit_flags_win_over_detection_and_the_output_says_so() {
    let args = [
        "tune",
        "--workload",
        "web",
        "--pg-version",
        "16",
        "--detect",
        "--memory",
        "16GB",
        "--cpus",
        "8",
        "--format",
        "conf",
    ];
    let (out, _, code) = tune_detected(&args, "v2-limits");
    assert_eq!(code, 0);
    assert!(out.contains("# Total Memory (RAM): 16 GB\n"), "{out}");
    assert!(out.contains("# memory: 16GB from --memory (detected 2GB from /sys/fs/cgroup/memory.max (cgroup v2), not used)\n"), "{out}");
    assert!(
        out.contains(
            "# CPUs: 8 from --cpus (detected 2 from /sys/fs/cgroup/cpu.max (cgroup v2), not used)\n"
        ),
        "{out}"
    );
    assert!(out.contains("\nshared_buffers = 4GB\n"), "{out}");
}

#[test]
fn detected_proc_memory_is_rounded_down_to_whole_mb() {
    let args = [
        "tune",
        "--workload",
        "web",
        "--pg-version",
        "16",
        "--detect",
        "--format",
        "json",
    ];
    let (out, err, code) = tune_detected(&args, "none");
    assert_eq!(code, 0);
    // JSON stays as product.md specifies; what was detected goes to stderr.
    assert_eq!(
        err,
        "poolstack tune: memory: 15936MB detected from /proc/meminfo, 16318480kB rounded down to whole MB\n\
         poolstack tune: CPUs: 8 detected from /proc/cpuinfo\n"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // 15936MB / 4 = 3984MB
    assert_eq!(v["settings"]["shared_buffers"], "3984MB");
    assert_eq!(v["settings"]["max_worker_processes"], "8");
}

#[test]
fn detect_without_memory_anywhere_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "tune",
        "--workload",
        "web",
        "--pg-version",
        "16",
        "--detect",
    ];
    let cli = Cli::try_parse_from([&["poolstack"][..], &args[..]].concat()).unwrap();
    let Sub::Tune(tune_args) = &cli.command else {
        panic!("not tune")
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let e = poolstack::commands::tune::run(tune_args, || detect(dir.path()), &mut out, &mut err)
        .unwrap_err();
    assert!(
        e.message.contains("could not detect this machine's memory"),
        "{e}"
    );
    assert!(e.help.unwrap_or_default().contains("--memory"));
}
