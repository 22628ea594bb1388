//! Every rendered file of the bundled fixtures, as insta snapshots (SCRAM salts and keys redacted).

use poolstack::render::{self, Existing};
use poolstack::secrets::{Password, Secrets};
use poolstack::{manifest, stack};
use std::path::Path;

fn redact(text: &str) -> String {
    // SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey> — random salt each run.
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("SCRAM-SHA-256$") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let end = tail.find(['\'', '"', '\n', ' ']).unwrap_or(tail.len());
        let iter = tail["SCRAM-SHA-256$".len()..]
            .split(':')
            .next()
            .unwrap_or("");
        out.push_str(&format!(
            "SCRAM-SHA-256${iter}:<salt>$<StoredKey>:<ServerKey>"
        ));
        rest = &tail[end..];
    }
    out.push_str(rest);
    // A body holding random salts has a checksum that changes with them.
    if out.contains("<salt>") {
        out = out
            .lines()
            .map(|l| match l.find("poolstack-checksum: sha256:") {
                Some(p) => format!("{}poolstack-checksum: sha256:<checksum>", &l[..p]),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
    }
    out
}

fn render_fixture(name: &str, passwords: &[(&str, &str)]) -> Vec<(String, String, u32)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .join("stack.toml");
    let loaded = manifest::load(&path).expect("fixture loads");
    let stack = stack::resolve::resolve(&loaded, None).expect("fixture resolves");
    assert!(
        stack.findings.is_empty(),
        "{name}: unexpected findings {:?}",
        stack.findings
    );
    let mut secrets = Secrets::default();
    for (u, p) in passwords {
        secrets.insert(u, Password::new(p.to_string()));
    }
    let plan = render::plan(&stack, &secrets, &Existing::default()).expect("renders");
    assert!(plan.unbuilt_secrets.userlist.is_none() && plan.unbuilt_secrets.roles.is_none());
    let base = path.parent().unwrap();
    plan.files
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(base).unwrap().display().to_string();
            (rel, redact(&f.contents), f.mode)
        })
        .collect()
}

fn snapshot_all(fixture: &str, passwords: &[(&str, &str)]) -> Vec<String> {
    let files = render_fixture(fixture, passwords);
    let mut names = Vec::new();
    for (rel, contents, mode) in files {
        let snap = format!(
            "{}__{}",
            fixture.replace('/', "-"),
            rel.replace(['/', '.'], "_")
        );
        insta::assert_snapshot!(snap, format!("# {rel} (mode {mode:o})\n{contents}"));
        names.push(rel);
    }
    names
}

#[test]
fn mt5_stack_renders_the_documents_settings() {
    let names = snapshot_all("mt5", &[("trader", "trader123")]);
    // role = false: no roles.sql; PgBouncer on: ini and userlist.
    assert_eq!(
        names,
        [
            "pgbouncer/pgbouncer.ini",
            "postgres/conf.d/50-poolstack.conf",
            ".env",
            "monitoring/prometheus-rules.yml",
            "monitoring/prometheus-rules.test.yml",
            "monitoring/pgbouncer-exporter.env",
            "monitoring/prometheus-scrape.yml",
            "monitoring/grafana-dashboard.json",
            "pgbouncer/userlist.txt"
        ]
    );
}

#[test]
fn monitoring_with_the_spreaker_exporter_and_pool_overrides() {
    let names = snapshot_all(
        "monitoring-spreaker",
        &[("web", "w"), ("reporter", "r"), ("stats", "s")],
    );
    assert!(names.contains(&"monitoring/pgbouncer-exporter.yml".to_string()));
}

#[test]
fn monitoring_a_cnpg_pooler_writes_no_exporter_config() {
    let names = snapshot_all("monitoring-cnpg", &[("ledger", "l")]);
    let monitoring: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("monitoring/"))
        .collect();
    assert_eq!(
        monitoring,
        [
            "monitoring/prometheus-rules.yml",
            "monitoring/prometheus-rules.test.yml",
            "monitoring/prometheus-scrape.yml",
            "monitoring/grafana-dashboard.json"
        ]
    );
}

#[test]
fn mt5_userlist_is_the_md5_generate_userlist_sh_would_write() {
    let files = render_fixture("mt5", &[("trader", "trader123")]);
    let (_, userlist, mode) = files
        .iter()
        .find(|(n, ..)| n.ends_with("userlist.txt"))
        .unwrap();
    // md5 + hex(md5("trader123" + "trader")), as PostgreSQL stores it.
    assert_eq!(
        userlist,
        "\"trader\" \"md54e8e284407a8e714c4d7c4722e72ac3f\"\n"
    );
    assert_eq!(*mode, 0o600);
}

#[test]
fn stack_without_pgbouncer_renders_direct_urls() {
    let names = snapshot_all("no-pgbouncer", &[("reporter", "r3port")]);
    assert_eq!(
        names,
        [
            "postgres/conf.d/50-poolstack.conf",
            ".env",
            "postgres/initdb.d/10-roles.sql"
        ]
    );
}

#[test]
fn scram_stack_with_several_databases_users_and_apps() {
    let names = snapshot_all(
        "scram-multi",
        &[
            ("web", "web-pw"),
            ("worker", "worker-secret"),
            ("reporter", "rep-pw"),
            ("ops", "ops-pw"),
        ],
    );
    assert_eq!(
        names,
        [
            "deploy/pgbouncer.ini",
            "deploy/conf.d/50-shop.conf",
            "web.env",
            "worker.env",
            "deploy/userlist.txt",
            "deploy/roles.sql"
        ]
    );
}

#[test]
fn roles_sql_reuses_the_userlist_scram_verifier() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scram-multi/stack.toml");
    let loaded = manifest::load(&path).unwrap();
    let stack = stack::resolve::resolve(&loaded, None).unwrap();
    let mut secrets = Secrets::default();
    for (u, p) in [
        ("web", "web-pw"),
        ("worker", "worker-secret"),
        ("reporter", "rep-pw"),
        ("ops", "ops-pw"),
    ] {
        secrets.insert(u, Password::new(p.to_string()));
    }
    let plan = render::plan(&stack, &secrets, &Existing::default()).unwrap();
    let userlist = plan
        .files
        .iter()
        .find(|f| f.path.ends_with("userlist.txt"))
        .unwrap();
    let roles = plan
        .files
        .iter()
        .find(|f| f.path.ends_with("roles.sql"))
        .unwrap();
    let parsed = poolstack::formats::userlist::Userlist::parse(&userlist.contents);
    let web = parsed.get("web").unwrap();
    assert!(web.secret.starts_with("SCRAM-SHA-256$4096:"));
    assert!(
        roles.contents.contains(&format!("'{}'", web.secret)),
        "roles.sql must carry the userlist's verifier"
    );
    // reporter is forced by a [databases] entry: plaintext in the userlist (forced pools need it),
    // and roles.sql still stores a SCRAM verifier that accepts the password.
    assert_eq!(parsed.get("reporter").unwrap().secret, "rep-pw");
    let v = render::existing::role_verifiers(&roles.contents);
    assert!(poolstack::auth::verifies(
        "reporter",
        "rep-pw",
        &v["reporter"]
    ));
    assert!(
        !v.contains_key("ops"),
        "role = false users are managed elsewhere"
    );
}

#[test]
fn rerendering_keeps_verifying_secrets_byte_for_byte() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scram-multi/stack.toml");
    let loaded = manifest::load(&path).unwrap();
    let stack = stack::resolve::resolve(&loaded, None).unwrap();
    let mut secrets = Secrets::default();
    for (u, p) in [
        ("web", "web-pw"),
        ("worker", "worker-secret"),
        ("reporter", "rep-pw"),
        ("ops", "ops-pw"),
    ] {
        secrets.insert(u, Password::new(p.to_string()));
    }
    let first = render::plan(&stack, &secrets, &Existing::default()).unwrap();
    let userlist = first
        .files
        .iter()
        .find(|f| f.path.ends_with("userlist.txt"))
        .unwrap();
    let roles = first
        .files
        .iter()
        .find(|f| f.path.ends_with("roles.sql"))
        .unwrap();
    let existing = Existing {
        userlist: Some(poolstack::formats::userlist::Userlist::parse(
            &userlist.contents,
        )),
        role_verifiers: render::existing::role_verifiers(&roles.contents),
    };
    let second = render::plan(&stack, &secrets, &existing).unwrap();
    for (a, b) in first.files.iter().zip(&second.files) {
        assert_eq!(
            a.contents,
            b.contents,
            "{} changed on re-render",
            a.path.display()
        );
    }
    // A changed password gives a new secret.
    secrets.insert("web", Password::new("new-pw".into()));
    let third = render::plan(&stack, &secrets, &existing).unwrap();
    let u3 = third
        .files
        .iter()
        .find(|f| f.path.ends_with("userlist.txt"))
        .unwrap();
    assert_ne!(u3.contents, userlist.contents);
}

/// Every kind of `[[apps]]` has `fixtures/apps/<kind>/stack.toml`: it resolves with no findings
/// and renders, and what it writes is a snapshot.
#[test]
fn every_app_kind_fixture_renders() {
    for kind in poolstack::apps::KINDS {
        let fixture = format!("apps/{}", kind.name());
        let names = snapshot_all(&fixture, &[("app", "app-pw")]);
        assert!(
            names.iter().any(|n| n.ends_with(".env")),
            "{fixture}: no .env among {names:?}"
        );
    }
}

/// `poolstack check` on every kind's fixture: no error and no warning.
#[test]
fn every_app_kind_fixture_checks_clean() {
    for kind in poolstack::apps::KINDS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/apps")
            .join(kind.name())
            .join("stack.toml");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_poolstack"))
            .arg("check")
            .arg(&path)
            .env("APP_PASSWORD", "app-pw")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("0 errors, 0 warnings"),
            "{}: {text}{}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
