//! Step ordering on stacks built from manifest text.

use super::*;
use crate::rules::testing::{HEALTHY, healthy_with, stack};

fn change(component: Component, setting: &str, action: Action, file: &str) -> Change {
    Change {
        component,
        file: file.into(),
        section: None,
        setting: setting.into(),
        variable: None,
        old: Some("1".into()),
        new: Some("2".into()),
        secret: false,
        action,
        reason: String::new(),
        reach: None,
        moves_listener: false,
    }
}

fn actions(steps: &[Step]) -> Vec<(&'static str, &'static str)> {
    steps
        .iter()
        .map(|s| (s.component.as_str(), s.action.as_str()))
        .collect()
}

#[test]
fn roles_come_before_the_userlist_reload_and_apps_last() {
    let s = stack(HEALTHY);
    let mut secret = change(
        Component::Pgbouncer,
        "app",
        Action::Reload,
        "pgbouncer/userlist.txt",
    );
    secret.secret = true;
    let changes = [
        change(Component::App, "api", Action::RestartApp, ".env"),
        secret,
        change(Component::Roles, "app", Action::ApplySql, "roles.sql"),
        change(Component::Postgres, "work_mem", Action::Reload, "p.conf"),
    ];
    let steps = order(&s, &changes);
    assert_eq!(
        actions(&steps),
        [
            ("postgres", "reload"),
            ("roles", "apply-sql"),
            ("pgbouncer", "reload"),
            ("app", "restart-app")
        ]
    );
    assert!(steps[1].notes[0].contains("before PgBouncer reloads the userlist"));
    // No user is an admin: RELOAD becomes SIGHUP, and the plan says why.
    assert!(
        steps[2].commands[0].starts_with("kill -HUP"),
        "{:?}",
        steps[2]
    );
    assert!(steps[2].notes[0].contains("admin = true"));
}

#[test]
fn a_pgbouncer_restart_is_online_rolling_or_a_move() {
    let admin = healthy_with(
        "password = { env = \"APP_PASSWORD\" }",
        "password = { env = \"APP_PASSWORD\" }\nadmin = true",
    );
    let one = stack(&admin);
    let pkt = [change(
        Component::Pgbouncer,
        "pkt_buf",
        Action::Restart,
        "p.ini",
    )];
    // 1.22: -R is deprecated; stop and start, and say how to avoid dropping clients.
    let steps = order(&one, &pkt);
    assert_eq!(actions(&steps), [("pgbouncer", "restart")]);
    assert!(
        steps[0].commands[0].ends_with("-c \"SHUTDOWN;\""),
        "{:?}",
        steps[0]
    );
    assert!(
        steps[0].notes[0].contains("deprecated since 1.20"),
        "{:?}",
        steps[0]
    );
    // 1.18: an online restart.
    let old = stack(&admin.replacen("version = \"1.22\"", "version = \"1.18\"", 1));
    let steps = order(&old, &pkt);
    assert!(
        steps[0].commands[0].starts_with("pgbouncer -R -d "),
        "{:?}",
        steps[0]
    );
    // Several instances: one at a time; from 1.23 SIGTERM waits for the clients.
    let many = |v: &str| {
        stack(
            &admin
                .replacen(
                    "default_pool_size = 20",
                    "default_pool_size = 20\ninstances = 3",
                    1,
                )
                .replacen("version = \"1.22\"", v, 1),
        )
    };
    let steps = order(&many("version = \"1.22\""), &pkt);
    assert!(steps[0].commands.is_empty());
    assert!(
        steps[0].notes[0].contains("3 instances one at a time"),
        "{:?}",
        steps[0]
    );
    assert!(!steps[0].notes[1].contains("SIGTERM"));
    let steps = order(&many("version = \"1.23\""), &pkt);
    assert!(steps[0].notes[1].contains("SIGTERM"), "{:?}", steps[0]);

    let mut port = change(
        Component::Pgbouncer,
        "listen_port",
        Action::Restart,
        "p.ini",
    );
    port.old = Some("6000".into());
    port.moves_listener = true;
    let steps = order(&one, &[port]);
    assert_eq!(
        steps[0].commands,
        [
            "psql -h pgbouncer -p 6432 -U app -d pgbouncer -c \"SHUTDOWN;\""
                .replace("6432", "6000"),
            "pgbouncer -d pgbouncer/pgbouncer.ini".to_string()
        ]
    );
}

#[test]
fn a_reload_reaching_new_sessions_only_renews_pgbouncers_server_connections() {
    let s = stack(HEALTHY);
    let mut c = change(
        Component::Postgres,
        "log_connections",
        Action::Reload,
        "p.conf",
    );
    c.reach = Some(Reach::NewSessionsOnly);
    let steps = order(&s, std::slice::from_ref(&c));
    assert_eq!(
        actions(&steps),
        [("postgres", "reload"), ("pgbouncer", "reconnect")]
    );
    // With a restart of PostgreSQL, every server connection is new anyway.
    let restart = change(
        Component::Postgres,
        "shared_buffers",
        Action::Restart,
        "p.conf",
    );
    let steps = order(&s, &[c.clone(), restart]);
    assert_eq!(actions(&steps), [("postgres", "restart")]);
    // Without PgBouncer, the apps' own pools hold the old sessions.
    let (a, b) = (
        HEALTHY.find("[pgbouncer]").unwrap_or(0),
        HEALTHY.find("[[databases]]").unwrap_or(0),
    );
    let direct = stack(&format!("{}{}", &HEALTHY[..a], &HEALTHY[b..]));
    let steps = order(&direct, &[c]);
    assert_eq!(actions(&steps), [("postgres", "reload")]);
    assert!(
        steps[0].notes.iter().any(|n| n.contains("pool_recycle")),
        "{:?}",
        steps[0]
    );
}
