//! The committed catalog tables are exactly what `scripts/gen_catalog.py` produces from the
//! reference facts: regenerate into a temporary directory and compare byte for byte.
//!
//! Needs `../shared/reference` next to the repository. Without it the test is skipped loudly,
//! except under `CI=true`, where a missing reference is a failure.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// A scratch directory removed on drop, also when the test fails.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "poolstack-gen-catalog-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("create scratch directory");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn committed_catalog_matches_generator_output() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = repo.join("../shared/reference");
    if !reference.is_dir() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !in_ci,
            "CI=true but {} is missing: the catalog cannot be checked against its facts",
            reference.display()
        );
        // Written to the real stderr, not eprintln!: the test harness swallows captured output
        // of passing tests, and this skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: ../shared/reference not present"
        );
        return;
    }

    let scratch = ScratchDir::new();
    let output = Command::new("python3")
        .arg(repo.join("scripts/gen_catalog.py"))
        .arg("--reference")
        .arg(&reference)
        .arg("--out")
        .arg(&scratch.0)
        .output()
        .expect("run python3 scripts/gen_catalog.py");
    assert!(
        output.status.success(),
        "gen_catalog.py failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let committed = repo.join("src/catalog/data");
    let generated_names = file_names(&scratch.0);
    assert!(!generated_names.is_empty(), "the generator wrote nothing");
    assert_eq!(
        file_names(&committed),
        generated_names,
        "src/catalog/data holds different files than the generator writes"
    );
    for name in &generated_names {
        let fresh = fs::read(scratch.0.join(name)).expect("read generated file");
        let kept = fs::read(committed.join(name)).expect("read committed file");
        assert!(
            fresh == kept,
            "src/catalog/data/{name} is stale: run `python3 scripts/gen_catalog.py` and commit the result"
        );
    }
}
