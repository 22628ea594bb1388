//! The manifest reader never panics: arbitrary text, and manifest-shaped text with arbitrary values,
//! end in a Stack or a located input error.

use poolstack::{manifest, stack};
use proptest::prelude::*;
use std::path::Path;

fn load(text: String) {
    if let Ok(m) = manifest::parse(Path::new("stack.toml"), text) {
        let _ = stack::resolve::resolve(&m, None);
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-zA-Z0-9 ._-]{0,12}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "\"7GB\"",
            "\"10s\"",
            "\"30min\"",
            "\"-1\"",
            "-1",
            "1.5",
            "\"none\"",
            "[]",
            "{ env = \"X\" }",
            "\"1.21\""
        ])
        .prop_map(str::to_string),
    ]
}

fn key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "version",
        "host",
        "port",
        "memory",
        "max_connections",
        "pool_mode",
        "auth_type",
        "default_pool_size",
        "reserve_pool_size",
        "max_db_connections",
        "pool_size",
        "max_overflow",
        "pool_timeout",
        "pool_recycle",
        "prepare_threshold",
        "driver",
        "name",
        "database",
        "user",
        "users",
        "password",
        "instances",
        "userlist_hash",
        "client_port",
        "listen_port",
        "connect_timeout",
        "role",
        "enabled",
        "shared_buffers",
        "server_idle_timeout",
        "work_mem",
    ])
}

fn table() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "[postgres]",
        "[postgres.settings]",
        "[pgbouncer]",
        "[pgbouncer.settings]",
        "[[databases]]",
        "[[users]]",
        "[[apps]]",
        "[[clients]]",
        "[outputs]",
        "[lint]",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        load(text);
    }

    #[test]
    fn manifest_shaped_text_never_panics(
        sections in prop::collection::vec((table(), prop::collection::vec((key(), value()), 0..6)), 0..8)
    ) {
        let mut text = String::from("[stack]\nname = \"p\"\n[postgres]\nversion = 16\n");
        for (t, entries) in sections {
            text.push_str(t);
            text.push('\n');
            for (k, v) in entries {
                text.push_str(&format!("{k} = {v}\n"));
            }
        }
        load(text);
    }
}
