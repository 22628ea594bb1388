//! Messages read as English: numbers agree with their nouns, articles with their words
//! ("an md5"), and Rust's type names never reach users.

use assert_cmd::Command;
use std::path::Path;

fn poolstack(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("POSTGRES_PASSWORD", "pw");
    c
}

fn mt5_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
        dir.path().join("stack.toml"),
    )
    .unwrap();
    dir
}

#[test]
fn one_drifted_file_differs_and_one_unknown_user_is_it() {
    let dir = mt5_copy();
    let o = poolstack(dir.path()).arg("render").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ini = dir.path().join("pgbouncer/pgbouncer.ini");
    let ini = if ini.exists() {
        ini
    } else {
        dir.path().join("pgbouncer.ini")
    };
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(
        &ini,
        text.replace("max_client_conn = 1000", "max_client_conn = 999"),
    )
    .unwrap();
    let o = poolstack(dir.path())
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 file differs from the manifest; run `poolstack render` to update it"),
        "{err}"
    );
}

#[test]
fn a_user_the_manifest_does_not_know_is_named_in_the_singular() {
    let dir = mt5_copy();
    let o = poolstack(dir.path()).arg("render").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let userlist = std::fs::read_dir(dir.path())
        .unwrap()
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::read_dir(p)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect()
            } else {
                vec![p]
            }
        })
        .find(|p| p.file_name().is_some_and(|n| n == "userlist.txt"))
        .expect("a rendered userlist.txt");
    let mut text = std::fs::read_to_string(&userlist).unwrap();
    text.push_str("\"ghost\" \"md5a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5\"\n");
    std::fs::write(&userlist, text).unwrap();
    let o = poolstack(dir.path()).arg("render").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("has a user the manifest does not know (ghost); rendering would drop it. Add it to [[users]]"),
        "{err}"
    );
}

#[test]
fn an_out_of_range_integer_names_no_rust_type() {
    let dir = mt5_copy();
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("max_overflow = 10", "max_overflow = 9999999999");
    std::fs::write(&manifest, text).unwrap();
    let o = poolstack(dir.path()).arg("check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "9999999999 is out of range: expected an integer from -2147483648 to 2147483647"
        ),
        "{err}"
    );
    assert!(!err.contains("i32") && !err.contains("i128"), "{err}");
}
