//! `poolstack explain KEY` for every key the JSON Schema of stack.toml allows, in every table:
//! written keys explain with their written value and the place they are written at; left-out keys
//! explain with the value that stands in for them (a default, a derivation) or say they are unset —
//! never "neither a rule nor a setting".
//!
//! fixtures/explain/every-key.toml writes every key once; fixtures/explain/least.toml only the
//! required ones. A key added to the schema fails here until the fixture and `explain` cover it.

use poolstack::manifest::{self, Seg};
use serde_json::Value;
use std::path::{Path, PathBuf};

const ARRAYS: &[&str] = &["databases", "users", "apps", "clients"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/explain")
        .join(name)
}

fn explain(target: &str, manifest: &Path) -> Result<String, String> {
    let mut out = Vec::new();
    match poolstack::commands::explain::explain_setting(target, Some(manifest), &mut out) {
        Ok(_) => Ok(String::from_utf8(out).unwrap()),
        Err(e) => Err(e.to_string()),
    }
}

/// The definition a property schema refers to, if any (`$ref`, or inside `anyOf`/`items`).
fn referenced<'a>(schema: &'a Value, prop: &'a Value) -> &'a Value {
    if let Some(r) = prop.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return &schema["$defs"][name];
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(list) = prop.get(key).and_then(Value::as_array) {
            for p in list {
                if p.get("$ref").is_some() {
                    return referenced(schema, p);
                }
            }
        }
    }
    if let Some(items) = prop.get("items") {
        return referenced(schema, items);
    }
    prop
}

/// (table, key, whether the key is a map of free keys) for every key of every table.
fn schema_keys() -> Vec<(String, String, bool)> {
    let schema: Value = serde_json::from_str(&poolstack::commands::schema_json()).unwrap();
    let mut keys = Vec::new();
    for (table, prop) in schema["properties"].as_object().unwrap() {
        let def = referenced(&schema, prop);
        let props = def["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("table {table} has no properties"));
        for (key, p) in props {
            let p = referenced(&schema, p);
            let is_map = p.get("additionalProperties").is_some_and(|a| a != false)
                && p.get("properties").is_none();
            keys.push((table.clone(), key.clone(), is_map));
        }
    }
    keys
}

/// What the fixture writes: `(target, manifest path of the value, written value)` for a key.
fn written(
    doc: &toml::Table,
    table: &str,
    key: &str,
    is_map: bool,
) -> Vec<(String, Vec<Seg>, toml::Value)> {
    let mut out = Vec::new();
    let mut add = |prefix: String, mut at: Vec<Seg>, t: &toml::Table| {
        let Some(v) = t.get(key) else { return };
        at.push(Seg::Key(key.to_string()));
        out.push((format!("{prefix}.{key}"), at.clone(), v.clone()));
        if is_map {
            for (sub, sv) in v.as_table().unwrap() {
                let mut at = at.clone();
                at.push(Seg::Key(sub.clone()));
                out.push((format!("{prefix}.{key}.{sub}"), at, sv.clone()));
            }
        }
    };
    match doc.get(table) {
        Some(toml::Value::Array(entries)) => {
            for (i, e) in entries.iter().enumerate() {
                let t = e.as_table().unwrap();
                let name = t["name"].as_str().unwrap();
                add(
                    format!("{table}.{name}"),
                    vec![Seg::Key(table.to_string()), Seg::Index(i)],
                    t,
                );
            }
        }
        Some(toml::Value::Table(t)) => add(table.to_string(), vec![Seg::Key(table.to_string())], t),
        _ => {}
    }
    out
}

/// The text `explain` prints for a written value.
fn expected_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} = {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[test]
fn every_written_key_explains_with_its_value_and_place() {
    let path = fixture("every-key.toml");
    let loaded = manifest::load(&path).unwrap();
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut explained = 0;
    for (table, key, is_map) in schema_keys() {
        let targets = written(&doc, &table, &key, is_map);
        // A key of another app kind than SQLAlchemy: `kind_keys_explain_on_each_kinds_fixture`.
        let kind_key = table == "apps" && !poolstack::apps::kinds_with_key(&key).is_empty();
        if targets.is_empty() && !kind_key {
            failures.push(format!("{table}.{key}: the fixture does not write it"));
        }
        for (target, at, value) in targets {
            explained += 1;
            let text = match explain(&target, &path) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{target}: {e}"));
                    continue;
                }
            };
            let loc = loaded.loc(&at).unwrap();
            let file = loaded.sources.get(loc.file);
            let lc = file.line_col(loc.span.start);
            let place = format!("set in {}:{}:{}", file.display, lc.line, lc.column);
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default();
            let shown = first.split_once(" = ").map(|(_, v)| v.trim_matches('\''));
            let want = expected_text(&value);
            let same = match (&value, shown) {
                // A free-form table: each of its keys is listed.
                (toml::Value::Table(t), Some(shown)) => {
                    t.keys().all(|k| shown.contains(k.as_str()))
                }
                // A path is shown as the effective one, resolved against the manifest's folder.
                _ if table == "outputs" => shown.is_some_and(|s| s.ends_with(&format!("/{want}"))),
                _ => shown == Some(want.as_str()),
            };
            let secret = key == "password" && table == "users";
            if !same && !secret {
                failures.push(format!(
                    "{target}: value {shown:?}, written {want:?}\n{text}"
                ));
            }
            if lines.next() != Some(place.as_str()) {
                failures.push(format!("{target}: not \"{place}\"\n{text}"));
            }
        }
    }
    assert!(explained > 90, "only {explained} keys");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_left_out_key_explains_what_stands_in_for_it() {
    let full = fixture("every-key.toml");
    let least = fixture("least.toml");
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap();
    let least_doc: toml::Table = toml::from_str(&std::fs::read_to_string(&least).unwrap()).unwrap();
    let mut failures = Vec::new();
    for (table, key, is_map) in schema_keys() {
        for (target, _, _) in written(&doc, &table, &key, is_map) {
            // The same key of the least manifest's entry of the same kind.
            let target = match ARRAYS.contains(&table.as_str()) {
                true => {
                    let entries = least_doc[table.as_str()].as_array().unwrap();
                    let rest = target.strip_prefix(&format!("{table}.")).unwrap();
                    let entry = entries
                        .iter()
                        .map(|e| e["name"].as_str().unwrap())
                        .find(|n| rest.starts_with(&format!("{n}.")))
                        .unwrap_or_else(|| entries[0]["name"].as_str().unwrap());
                    let after = rest.split_once(&format!(".{key}")).map_or("", |(_, a)| a);
                    format!("{table}.{entry}.{key}{after}")
                }
                false => target,
            };
            match explain(&target, &least) {
                Err(e) => failures.push(format!("{target}: {e}")),
                Ok(text) => {
                    let set = text
                        .lines()
                        .nth(1)
                        .is_some_and(|l| l.starts_with("set in "));
                    let in_least = written(&least_doc, &table, &key, is_map)
                        .iter()
                        .any(|(t, _, _)| *t == target);
                    if set != in_least {
                        failures.push(format!("{target}: {text}"));
                    }
                    if !text.contains(" = ") && !text.contains(" is not set\n") {
                        failures.push(format!("{target}: neither a value nor unset: {text}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn first_class_pgbouncer_keys_explain_by_their_ini_names() {
    let path = fixture("every-key.toml");
    for (name, value) in [
        ("auth_type", "scram-sha-256"),
        ("admin_users", "api"),
        ("stats_users", "api"),
        ("logfile", "/var/log/pgbouncer/pgbouncer.log"),
        ("pidfile", "/var/run/pgbouncer/pgbouncer.pid"),
        ("unix_socket_dir", "/var/run/pgbouncer"),
        ("userlist_hash", "scram-sha-256"),
        ("max_prepared_statements", "100"),
    ] {
        let text = explain(name, &path).unwrap();
        assert!(text.starts_with(&format!("{name} = {value}\n")), "{text}");
        assert!(!text.contains("default"), "{text}");
    }
    // The admin list points at each user's `admin = true`.
    let text = explain("admin_users", &path).unwrap();
    assert!(
        text.contains("derived: the [[users]] entries with admin = true"),
        "{text}"
    );
    assert!(text.contains(": admin = true"), "{text}");
}

#[test]
fn unknown_entries_and_keys_are_input_errors_that_list_what_exists() {
    let path = fixture("every-key.toml");
    let e = explain("apps.nope.pool_size", &path).unwrap_err();
    assert!(e.contains("names no [[apps]] entry"), "{e}");
    let e = explain("apps.api.pool_sise", &path).unwrap_err();
    assert!(
        e.contains("`pool_sise` is not a key of the [[apps]] entry `api`"),
        "{e}"
    );
    // A password is never shown, only its source.
    let text = explain("users.reporter.password", &path).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("users.reporter.password = { file = \"secrets/reporter\" }")
    );
}

/// A deploy target's own keys explain one by one too (`deploy.TARGET.KEY`), written or defaulted.
#[test]
fn deploy_target_keys_explain_one_by_one() {
    let path = fixture("every-key.toml");
    let text = explain("deploy.kubernetes.replicas", &path).unwrap();
    assert!(
        text.starts_with("deploy.kubernetes.replicas = 2\nset in "),
        "{text}"
    );
    let text = explain("deploy.cnpg.type", &path).unwrap();
    assert!(text.starts_with("deploy.cnpg.type = rw\nset in "), "{text}");
    let least = fixture("least.toml");
    let text = explain("deploy.compose.pgbouncer_host_port", &least).unwrap();
    assert!(text.contains("is not set"), "{text}");
}

/// Every key of every app kind explains on that kind's fixture: the written ones with their place,
/// the others with the framework's default or what stands in for them — never an error.
#[test]
fn kind_keys_explain_on_each_kinds_fixture() {
    let mut failures = Vec::new();
    for kind in poolstack::apps::KINDS {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/apps")
            .join(kind.name())
            .join("stack.toml");
        let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let app = doc["apps"].as_array().unwrap()[0].as_table().unwrap();
        let name = app["name"].as_str().unwrap();
        for key in kind.keys() {
            let target = format!("apps.{name}.{}", key.name);
            match explain(&target, &path) {
                Err(e) => failures.push(format!("{}: {target}: {e}", kind.name())),
                Ok(text) => {
                    let set = text
                        .lines()
                        .nth(1)
                        .is_some_and(|l| l.starts_with("set in "));
                    if set != app.contains_key(key.name) {
                        failures.push(format!("{}: {target}: {text}", kind.name()));
                    }
                    if !text.contains(" = ") && !text.contains(" is not set\n") {
                        failures.push(format!("{target}: neither a value nor unset: {text}"));
                    }
                }
            }
        }
        // SQLAlchemy's own keys are refused on another kind's app, naming the kind's keys.
        if !poolstack::apps::is_default(*kind) {
            let e = explain(&format!("apps.{name}.pool_recycle"), &path).unwrap_err();
            assert!(e.contains("is not a key of the [[apps]] entry"), "{e}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
