//! The wizard's manifest text, resolved.

use super::*;

#[test]
fn default_manifest_loads_and_resolves_without_findings() {
    let text = manifest_text(&Answers::default());
    let loaded = crate::manifest::parse(std::path::Path::new("stack.toml"), text).unwrap();
    let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
    assert!(stack.findings.is_empty(), "{:?}", stack.findings);
    assert!(stack.pgbouncer.is_some());
}

#[test]
fn the_admin_is_its_own_user_or_the_database_user() {
    let text = manifest_text(&Answers::default());
    let loaded = crate::manifest::parse(std::path::Path::new("stack.toml"), text).unwrap();
    let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
    let admins: Vec<&str> = stack
        .pgbouncer
        .as_ref()
        .unwrap()
        .admin_users
        .iter()
        .map(|u| u.value.as_str())
        .collect();
    assert_eq!(admins, ["pgbouncer_admin"]);
    assert!(!stack.user("pgbouncer_admin").unwrap().role.value);
    assert_eq!(
        password_variables(&Answers::default()),
        ["APP_PASSWORD", "PGBOUNCER_ADMIN_PASSWORD"]
    );

    let a = Answers {
        admin: Some(AdminAnswer {
            name: "app".into(),
            password: PasswordAnswer::Env("APP_PASSWORD".into()),
        }),
        ..Answers::default()
    };
    let loaded =
        crate::manifest::parse(std::path::Path::new("stack.toml"), manifest_text(&a)).unwrap();
    let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
    assert!(stack.findings.is_empty(), "{:?}", stack.findings);
    assert_eq!(stack.users.len(), 1);
    assert!(stack.users[0].admin.value);
    assert_eq!(password_variables(&a), ["APP_PASSWORD"]);
}

#[test]
fn every_answer_shape_gives_a_valid_manifest() {
    let mut a = Answers {
        pgbouncer: None,
        password: PasswordAnswer::File("secrets/app".into()),
        memory: Some("8GB".into()),
        cpus: Some(2),
        ..Answers::default()
    };
    a.apps.push(AppAnswers {
        name: "worker".into(),
        replicas: 2,
        processes: 3,
        kind: KindAnswer::SqlAlchemy {
            driver: "asyncpg".into(),
        },
    });
    for kind in crate::apps::names().into_iter().skip(1) {
        a.apps.push(AppAnswers {
            name: format!("app-{kind}"),
            replicas: 1,
            processes: 1,
            kind: KindAnswer::Framework(kind.into()),
        });
    }
    let loaded =
        crate::manifest::parse(std::path::Path::new("stack.toml"), manifest_text(&a)).unwrap();
    let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
    assert!(stack.findings.is_empty());
    assert_eq!(stack.apps.len(), 1 + crate::apps::KINDS.len());
    assert_eq!(stack.apps[2].kind().name(), crate::apps::names()[1]);
    assert_eq!(
        stack.apps[1].env_file.value,
        std::path::PathBuf::from("worker.env")
    );
}
