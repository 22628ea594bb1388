//! The `jdbc-hikari` kind on a real client: pgjdbc behind HikariCP (Debian's jars, see
//! `.ci/run`), configured from the rendered `.env` the way Spring Boot binds it, through real
//! PgBouncer 1.18 in transaction mode (tests/clients/jvm/Workload.java, compiled with javac into
//! a temp dir). What PRE010 and NET004 say breaks really fails with the quoted error; what
//! poolstack renders runs with 0 errors, and PostgreSQL never sees more server connections of the
//! app than CON001 counts for it (nor than CON002's budget). The harness is
//! tests/support/clients.rs.
//!
//! In CI (`CI=true`) a missing JDK or jar fails the test; elsewhere it is skipped loudly.

mod support;

use std::path::Path;
use std::process::Command;
use support::clients::*;
use support::servers;
use support::stack::*;

/// Debian's jars (libpostgresql-jdbc-java, libhikaricp-java, libslf4j-java).
const JARS: &[&str] = &[
    "/usr/share/java/postgresql.jar",
    "/usr/share/java/HikariCP.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
];

/// The harness's own PgBouncer setting, which these tests leave to poolstack.
const HARNESS_IGNORE: &str = "ignore_startup_parameters = \"extra_float_digits\"\n";

struct Jvm {
    classpath: String,
    _classes: tempfile::TempDir,
    pgjdbc: String,
    hikaricp: String,
}

/// The workload compiled into a temp dir, and the releases of the jars it runs on; `None` (a
/// loud skip, a failure in CI) when the JDK or a jar is missing.
fn jvm() -> Option<Jvm> {
    let missing: Vec<&str> = ["javac", "java"]
        .into_iter()
        .filter(|t| Command::new(t).arg("-version").output().is_err())
        .chain(JARS.iter().copied().filter(|j| !Path::new(j).exists()))
        .collect();
    if !installed(
        missing.is_empty(),
        &format!("the jdbc-hikari real client needs {missing:?}"),
        "apt-get install default-jdk-headless libpostgresql-jdbc-java libhikaricp-java libslf4j-java",
    ) {
        return None;
    }
    let classes = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/jvm/Workload.java");
    let out = Command::new("javac")
        .arg("-d")
        .arg(classes.path())
        .args(["-cp", &JARS.join(":")])
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "javac: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let classpath = format!("{}:{}", classes.path().display(), JARS.join(":"));
    let out = Command::new("java")
        .args(["-cp", &classpath, "Workload", "--versions"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Some(Jvm {
        pgjdbc: text("pgjdbc"),
        hikaricp: text("hikaricp"),
        classpath,
        _classes: classes,
    })
}

impl Jvm {
    /// The app as the manifest declares it: the releases on the classpath, and HikariCP's own
    /// pool of 10 — twice PgBouncer's 5 server connections, so clients must share them and a
    /// sixth client preparing `S_1` meets a server that already has one.
    fn entries(&self) -> String {
        entries(&format!(
            "kind = \"jdbc-hikari\"\npgjdbc_version = \"{}\"\nhikaricp_version = \"{}\"",
            self.pgjdbc, self.hikaricp
        ))
    }

    /// pgjdbc 42.7.4 and older send extra_float_digits in the startup packet.
    fn sends_extra_float_digits(&self) -> bool {
        let v: Vec<u32> = self
            .pgjdbc
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        v <= vec![42, 7, 4]
    }

    fn workload(&self, r: &Running, overrides: &[&str]) -> Outcome {
        let mut cmd = Command::new("java");
        cmd.args(["-cp", &self.classpath, "Workload"])
            .arg(r.dir.join(".env"))
            .args(overrides);
        run_workload(r, cmd)
    }
}

fn ini(r: &Running) -> String {
    std::fs::read_to_string(r.dir.join("pgbouncer/pgbouncer.ini")).unwrap()
}

/// `poolstack check --format json` of a manifest: the exit code and the findings.
fn check(manifest: &Path) -> (Option<i32>, Vec<serde_json::Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .args(["check", "--format", "json"])
        .arg(manifest)
        .env("IT_APP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let findings = json["diagnostics"].as_array().cloned().unwrap_or_default();
    (out.status.code(), findings)
}

/// The finding `code` among `findings`, if there is one.
fn finding<'a>(findings: &'a [serde_json::Value], code: &str) -> Option<&'a serde_json::Value> {
    findings.iter().find(|d| d["code"] == code)
}

/// PRE010's message for the running stack's app with pgjdbc's own prepareThreshold = 5.
fn pre010_message(r: &Running) -> String {
    let unsafe_manifest = r.dir.join("unsafe.toml");
    let text = std::fs::read_to_string(r.dir.join("stack.toml")).unwrap();
    std::fs::write(
        &unsafe_manifest,
        text.replace(
            "kind = \"jdbc-hikari\"",
            "kind = \"jdbc-hikari\"\nprepareThreshold = 5",
        ),
    )
    .unwrap();
    let (_, findings) = check(&unsafe_manifest);
    let d = finding(&findings, "PRE010").unwrap_or_else(|| panic!("no PRE010: {findings:?}"));
    d["message"].as_str().unwrap().to_string()
}

#[test]
fn pgjdbc_prepare_threshold_breaks_and_the_rendered_env_does_not() {
    let Some(jvm) = jvm() else { return };
    let e = jvm.entries();
    // Without the harness's own ignore_startup_parameters: what poolstack renders must connect.
    let Some(r) = start_edited(&spec(&e), |m| m.replace(HARNESS_IGNORE, "")) else {
        return;
    };
    let (budget, codes) = budget(&r);
    let app = app_connections(&r);
    assert!(!codes.contains(&"PRE010"), "{codes:?}");
    assert!(!codes.contains(&"NET004"), "{codes:?}");
    if jvm.sends_extra_float_digits() {
        assert!(
            ini(&r).contains("\nignore_startup_parameters = extra_float_digits\n"),
            "{}",
            ini(&r)
        );
    }
    // What PRE010 says breaks: pgjdbc's own prepareThreshold = 5 through transaction pooling.
    // Its message quotes every error the workload really meets.
    let pre010 = pre010_message(&r);
    let bad = jvm.workload(&r, &["?prepareThreshold=5"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    // Besides the server's errors, a client may run another client's statement of the same name
    // (wrong results, or pgjdbc failing on its unexpected shape).
    let server_errors: Vec<String> = bad.json["distinct_errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str()?.strip_prefix("PSQLException: "))
        .map(|e| e.replace("\"S_n\"", "\"S_1\""))
        .collect();
    assert!(!server_errors.is_empty(), "{bad:?}");
    for quoted in &server_errors {
        assert!(
            quoted.starts_with("ERROR: prepared statement \"S_1\" ") && pre010.contains(quoted),
            "PRE010 does not quote `{quoted}`: {pre010}"
        );
    }
    // What poolstack renders: 0 errors, within the budget, every variable bound.
    let good = jvm.workload(&r, &[]);
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert_eq!(good.json["ignored"], serde_json::json!([]), "{good:?}");
    assert!(
        good.peak > 0 && good.peak <= app && good.peak <= budget,
        "{good:?} app {app} budget {budget}"
    );
    // PgBouncer never sees more of the app's clients than CON001 counts for it.
    assert!(good.peak_clients <= app, "{good:?} app {app}");
    // The rendered application.properties, read by java.util.Properties as Spring Boot does,
    // says what the .env says, and every hikari property binds to a HikariConfig setting.
    let out = Command::new("java")
        .args(["-cp", &jvm.classpath, "Workload", "--properties"])
        .arg(r.dir.join("application.properties"))
        .arg(r.dir.join(".env"))
        .output()
        .unwrap();
    let props: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--properties: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(props["differences"], serde_json::json!([]), "{props}");
    assert_eq!(props["unbound"], serde_json::json!([]), "{props}");
    assert!(props["count"].as_u64().unwrap_or(0) >= 8, "{props}");
}

#[test]
fn old_pgjdbc_is_refused_until_pgbouncer_ignores_extra_float_digits() {
    let Some(jvm) = jvm() else { return };
    assert!(
        jvm.sends_extra_float_digits(),
        "this test needs pgjdbc ≤ 42.7.4 (Debian bookworm's 42.5.5), found {}",
        jvm.pgjdbc
    );
    let e = jvm.entries();
    // The user's own ignore_startup_parameters, without extra_float_digits: poolstack keeps it.
    let own = "ignore_startup_parameters = \"options\"\n";
    let Some(r) = start_edited(&spec(&e), |m| m.replace(HARNESS_IGNORE, own)) else {
        return;
    };
    let (code, findings) = check(&r.dir.join("stack.toml"));
    assert_eq!(code, Some(1), "{findings:?}");
    let net004 = finding(&findings, "NET004").unwrap_or_else(|| panic!("{findings:?}"));
    let message = net004["message"].as_str().unwrap();
    assert!(
        message.contains("`unsupported startup parameter: extra_float_digits`"),
        "{net004}"
    );
    assert!(
        net004["help"]
            .as_str()
            .unwrap()
            .contains("add extra_float_digits to PgBouncer's ignore_startup_parameters"),
        "{net004}"
    );
    // What NET004 says: every login is refused.
    let bad = jvm.workload(&r, &[]);
    eprintln!("refused: {bad:?}");
    assert_eq!(bad.ok, 0, "{bad:?}");
    assert!(
        bad.first_error
            .contains("unsupported startup parameter: extra_float_digits"),
        "{bad:?}"
    );
    // The fix poolstack suggests, rendered and reloaded: the client connects, the check is clean.
    let manifest = r.dir.join("stack.toml");
    let fixed = std::fs::read_to_string(&manifest).unwrap().replace(
        own,
        "ignore_startup_parameters = \"options,extra_float_digits\"\n",
    );
    std::fs::write(&manifest, fixed).unwrap();
    render(&manifest);
    for f in ["pgbouncer/pgbouncer.ini", "pgbouncer/userlist.txt"] {
        servers::give_to_server_user(&r.dir.join(f));
    }
    let reload = servers::client(
        &r.bins.pg_bin,
        r.pgb.port,
        "pgbouncer",
        "app_user",
        PASSWORD,
        "RELOAD",
    );
    assert!(reload.status.success(), "{reload:?}");
    let (_, codes) = budget(&r);
    assert!(!codes.contains(&"NET004"), "{codes:?}");
    let good = jvm.workload(&r, &[]);
    eprintln!("fixed: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert!(good.peak <= app_connections(&r), "{good:?}");
}
