//! jdbc-hikari: HikariCP's keepaliveTime (its version-dependent default, what HikariCP
//! disables, TMO001's idle keep-time) and hikaricp_version.

use crate::diag::InputError;
use crate::rules::testing;
use crate::stack::{Origin, Stack};
use std::path::Path;

fn toml(app: &str) -> String {
    format!(
        "[stack]\nname = \"t\"\n[postgres]\nversion = 16\n\
         [pgbouncer]\nversion = \"1.18\"\npool_mode = \"transaction\"\n\
         [[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\npassword = {{ env = \"APP_PASSWORD\" }}\n\
         [[apps]]\nname = \"api\"\ndatabase = \"app\"\nuser = \"app\"\nkind = \"jdbc-hikari\"\n{app}\n"
    )
}

fn resolved(app: &str) -> Result<Stack, InputError> {
    let m = crate::manifest::parse(Path::new("stack.toml"), toml(app)).expect("loads");
    crate::stack::resolve::resolve(&m, None)
}

/// keepaliveTime as resolved (`None` when the declared HikariCP has none), and its origin.
fn keepalive(app: &str) -> Option<(u64, Origin)> {
    let st = resolved(app).expect("resolves");
    let k = st.apps[0].fw().get("keepaliveTime")?;
    Some((k.value.int().expect("a count"), k.origin.clone()))
}

fn formula(o: &Origin) -> &str {
    match o {
        Origin::Derived { formula, .. } => formula,
        other => panic!("not derived: {other:?}"),
    }
}

/// The rendered .env line of keepaliveTime, if there is one.
fn env_line(app: &str) -> Option<String> {
    let st = resolved(app).expect("resolves");
    let a = &st.apps[0];
    a.kind()
        .env(a)
        .into_iter()
        .find(|l| l.name == "SPRING_DATASOURCE_HIKARI_KEEPALIVETIME")
        .map(|l| l.value)
}

#[test]
fn keepalive_time_follows_the_declared_hikaricp() {
    // Undeclared: the latest release, where keepaliveTime is 2 min.
    let (ms, o) = keepalive("").expect("latest has it");
    assert_eq!(ms, 120_000);
    assert!(formula(&o).contains("latest release: 2 min"), "{o:?}");
    assert_eq!(env_line("").as_deref(), Some("120000"));
    // 4.0.0 up to 6.0.0: 0, written explicitly all the same.
    for v in ["4.0.0", "5.1.0", "6.0.0"] {
        let (ms, o) = keepalive(&format!("hikaricp_version = \"{v}\"")).expect("has it");
        assert_eq!(ms, 0, "{v}");
        assert!(formula(&o).contains("off up to 6.0.0"), "{o:?}");
    }
    assert_eq!(
        env_line("hikaricp_version = \"5.1.0\"").as_deref(),
        Some("0")
    );
    assert_eq!(
        keepalive("hikaricp_version = \"6.1.0\"").map(|k| k.0),
        Some(120_000)
    );
    // Before 4.0.0 HikariCP has no keepaliveTime: nothing to resolve or render.
    assert!(keepalive("hikaricp_version = \"2.7.9\"").is_none());
    assert!(env_line("hikaricp_version = \"3.4.5\"").is_none());
    // Written, it is the user's.
    let (ms, o) = keepalive("keepaliveTime = 60000").expect("written");
    assert_eq!(ms, 60_000);
    assert!(o.is_explicit());
}

#[test]
fn a_default_keepalive_not_below_max_lifetime_is_what_hikaricp_disables() {
    let (ms, o) = keepalive("maxLifetime = 60000").expect("latest has it");
    assert_eq!(ms, 0);
    assert!(
        formula(&o).contains("disables as not below maxLifetime 60000"),
        "{o:?}"
    );
}

#[test]
fn keepalive_times_hikaricp_disables_are_input_errors_at_the_key() {
    let err = |app: &str| match resolved(app) {
        Ok(_) => panic!("`{app}` resolves"),
        Err(e) => e,
    };
    let e = err("keepaliveTime = 10000");
    assert!(
        e.message
            .contains("`keepaliveTime is less than 30000ms, disabling it`"),
        "{}",
        e.message
    );
    assert!(e.loc.is_some());
    let e = err("keepaliveTime = 1800000");
    assert!(
        e.message
            .contains("is not below maxLifetime 1800000: HikariCP logs `keepaliveTime is greater than or equal to maxLifetime, disabling it`"),
        "{}",
        e.message
    );
    let e = err("maxLifetime = 600000\nkeepaliveTime = 900000");
    assert!(e.message.contains("not below maxLifetime 600000"));
    let e = err("hikaricp_version = \"3.4.5\"\nkeepaliveTime = 60000");
    assert!(
        e.message
            .contains("keepaliveTime does not exist in HikariCP 3.4.5: it was added in 4.0.0"),
        "{}",
        e.message
    );
    let e = err("hikaricp_version = \"six\"");
    assert!(
        e.message.contains("`six` is not a version"),
        "{}",
        e.message
    );
    // 0 turns keepalive off; maxLifetime 0 never retires, so any keepaliveTime ≥ 30 s is fine.
    assert!(resolved("keepaliveTime = 0").is_ok());
    assert!(resolved("maxLifetime = 0\nkeepaliveTime = 3600000").is_ok());
    assert!(resolved("hikaricp_version = \"latest\"\nkeepaliveTime = 30000").is_ok());
}

#[test]
fn keepalive_bounds_the_idle_time_tmo001_weighs() {
    let st = resolved("").expect("resolves");
    let a = &st.apps[0];
    let idle = a.kind().idle_keep(a);
    assert_eq!(idle.keep, Some(crate::units::Duration::from_secs(120)));
    assert_eq!(idle.keep_key.map(|k| k.0), Some("keepaliveTime"));
    assert!(
        idle.summary
            .contains("pings idle ones every keepaliveTime 120000 ms")
    );
    // Off (5.1.0's own), maxLifetime bounds it.
    let st = resolved("hikaricp_version = \"5.1.0\"").expect("resolves");
    let a = &st.apps[0];
    let idle = a.kind().idle_keep(a);
    assert_eq!(idle.keep, Some(crate::units::Duration::from_secs(1800)));
    assert_eq!(idle.keep_key.map(|k| k.0), Some("maxLifetime"));
    // HikariCP validates connections idle over 500 ms: TMO001 stays silent either way.
    let short = toml("hikaricp_version = \"5.1.0\"").replace(
        "pool_mode = \"transaction\"\n",
        "pool_mode = \"transaction\"\n[pgbouncer.settings]\nclient_idle_timeout = 60\n",
    );
    assert!(testing::run("TMO001", &short).is_empty());
}

#[test]
fn the_rendered_env_reads_back_with_the_jdbc_url_keys() {
    let st = resolved("keepaliveTime = 60000").expect("resolves");
    let a = &st.apps[0];
    let text: String = a
        .kind()
        .env(a)
        .iter()
        .map(|l| format!("{}={}\n", l.name, l.value))
        .collect();
    let mut sources = crate::source::SourceMap::default();
    let file = sources.add(Path::new(".env"), text.clone());
    let env = crate::formats::dotenv::parse(file, &text);
    assert_eq!(
        crate::apps::dotenv::detect(&env).map(|k| k.name()),
        Some("jdbc-hikari")
    );
    let mut findings = Vec::new();
    let fw = crate::apps::dotenv::settings(a.kind(), &env, &mut findings);
    assert!(findings.is_empty(), "{findings:?}");
    // prepareThreshold from the JDBC URL's query, placed at SPRING_DATASOURCE_URL's value.
    let pt = fw.get("prepareThreshold").expect("read");
    assert_eq!(pt.value.int(), Some(0));
    assert!(pt.origin.is_explicit());
    assert_eq!(
        fw.get("keepaliveTime").and_then(|k| k.value.int()),
        Some(60_000)
    );
}
