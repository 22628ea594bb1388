//! Helpers for the deploy-target tests: render a fixture into a temp dir, read YAML back as JSON
//! (PyYAML, refusing duplicate keys), find the validators `.ci/run` installs.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const PASSWORD: &str = "Dep-l0y_s3cret!";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copy `fixture`'s stack.toml (with `edit` applied) into a new temp dir and render it there.
pub fn render(
    fixture: &str,
    edit: impl Fn(String) -> String,
) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(root().join("fixtures").join(fixture).join("stack.toml")).unwrap();
    std::fs::write(dir.path().join("stack.toml"), edit(text)).unwrap();
    let out = render_in(dir.path());
    (dir, out)
}

pub fn render_in(dir: &Path) -> std::process::Output {
    Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir)
        .env("POSTGRES_PASSWORD", PASSWORD)
        .env_remove("CI_FORCE_COLOR")
        .args(["render", "stack.toml"])
        .output()
        .unwrap()
}

/// Where `.ci/run` installs the validators (`$POOLSTACK_VALIDATORS` overrides).
pub fn validators_bin() -> PathBuf {
    std::env::var_os("POOLSTACK_VALIDATORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/poolstack-validators"))
        .join("bin")
}

pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// A tool from the validators' venv; missing: a failure under CI=true, a loud skip elsewhere.
pub fn tool(name: &str) -> Option<PathBuf> {
    let p = validators_bin().join(name);
    if p.is_file() {
        return Some(p);
    }
    assert!(
        !in_ci(),
        "CI=true but {} is missing: .ci/run must install it",
        p.display()
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: {} is not installed; run .ci/run (or pip install it into {}) to run this check !!!!!!!!\n",
        name,
        validators_bin().display()
    );
    None
}

const LOADER: &str = r#"
import json, sys, yaml
class Strict(yaml.SafeLoader):
    pass
def mapping(loader, node, deep=False):
    seen = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise SystemExit("duplicate key %r at line %d" % (key, k.start_mark.line + 1))
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)
Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
with open(sys.argv[1]) as f:
    print(json.dumps(list(yaml.load_all(f, Loader=Strict))))
"#;

/// Every YAML document of `path` as JSON (PyYAML, duplicate keys refused). `None` (skipped
/// loudly, or a failure in CI) without a Python that has PyYAML.
pub fn yaml_docs(path: &Path) -> Option<Vec<Value>> {
    let venv = validators_bin().join("python");
    let python = if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(LOADER)
        .arg(path)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).unwrap()),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") => {
            assert!(
                !in_ci(),
                "CI=true but PyYAML is missing: .ci/run installs it with the validators"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED: reading YAML needs PyYAML (python3 -m pip install pyyaml) !!!!!!!!\n"
            );
            None
        }
        Ok(o) => panic!(
            "{} does not read as YAML: {}{}",
            path.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            assert!(!in_ci(), "CI=true but python3 cannot run: {e}");
            eprintln!(
                "\n!!!!!!!! SKIPPED: reading YAML needs python3 with PyYAML ({e}) !!!!!!!!\n"
            );
            None
        }
    }
}

pub fn one_doc(path: &Path) -> Option<Value> {
    let mut docs = yaml_docs(path)?;
    assert_eq!(docs.len(), 1, "{}", path.display());
    Some(docs.remove(0))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file under `dir`, sorted, relative.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
