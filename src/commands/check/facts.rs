//! What the rules need to know about files on disk (FIL, AUT004, AUT008): the rendered outputs
//! compared with what the manifest renders now, the secret files' modes, and git tracking.
//! Only files that exist are described: a file not rendered yet is not drift.

use super::git;
use crate::formats::header::{self, HeaderState};
use crate::manifest::PasswordSource;
use crate::render::existing::secret_types;
use crate::render::{FileKind, RenderPlan};
use crate::rules::{FileFact, FileRole};
use crate::stack::Stack;
use std::collections::BTreeMap;
use std::path::Path;

pub fn gather(stack: &Stack, plan: &RenderPlan) -> Vec<FileFact> {
    let mut facts = Vec::new();
    for file in &plan.files {
        let Ok(bytes) = std::fs::read(&file.path) else {
            continue;
        };
        facts.push(FileFact {
            drifted: bytes != file.contents.as_bytes(),
            hand_edited: hand_edited(&file.kind, &bytes),
            ..fact(&file.path, role(&file.kind))
        });
    }
    // Secret files whose passwords are unknown: compared by users and secret types only.
    let unbuilt = &plan.unbuilt_secrets;
    for (kind, entry) in [
        (FileKind::Userlist, &unbuilt.userlist),
        (FileKind::RolesSql, &unbuilt.roles),
    ] {
        let Some((path, expected)) = entry else {
            continue;
        };
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let on_disk = secret_types(&kind, &String::from_utf8_lossy(&bytes));
        let expected: BTreeMap<_, _> = expected.iter().cloned().collect();
        facts.push(FileFact {
            drifted: on_disk != expected,
            hand_edited: hand_edited(&kind, &bytes),
            secrets_unverified: true,
            ..fact(path, role(&kind))
        });
    }
    let base = stack
        .manifest_path
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    for user in &stack.users {
        if let Some(source) = &user.password
            && let PasswordSource::File { file } = &source.value
        {
            let path = base.join(file);
            if path.exists() {
                facts.push(fact(&path, FileRole::PasswordFile));
            }
        }
    }
    git::mark_tracked(&mut facts);
    facts
}

fn fact(path: &Path, role: FileRole) -> FileFact {
    FileFact {
        path: path.to_path_buf(),
        role,
        mode: mode(path),
        ..FileFact::default()
    }
}

fn role(kind: &FileKind) -> FileRole {
    match kind {
        FileKind::PgbouncerIni => FileRole::PgbouncerIni,
        FileKind::Userlist => FileRole::Userlist,
        FileKind::PostgresqlConf => FileRole::PostgresqlConf,
        FileKind::RolesSql => FileRole::RolesSql,
        FileKind::Env { .. } => FileRole::Env,
    }
}

/// Every rendered file but userlist.txt carries a header with the checksum of its body.
fn hand_edited(kind: &FileKind, bytes: &[u8]) -> bool {
    *kind != FileKind::Userlist
        && header::inspect(&String::from_utf8_lossy(bytes)) == HeaderState::Edited
}

#[cfg(unix)]
fn mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{self, Existing};
    use crate::secrets::{Password, Secrets};

    /// The MT5 stack in a temp dir, rendered with a password; returns the dir and a fact gatherer
    /// that plans with or without the password.
    fn rendered_mt5() -> (tempfile::TempDir, impl Fn(bool) -> Vec<FileFact>) {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("stack.toml");
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
        )
        .unwrap();
        std::fs::write(&manifest, &text).unwrap();
        let gather_with = move |password: bool| {
            let loaded = crate::manifest::load(&manifest).unwrap();
            let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
            let mut secrets = Secrets::default();
            if password {
                secrets.insert("trader", Password::new("pw".to_string()));
            }
            let plan = render::plan(&stack, &secrets, &Existing::read(&stack)).unwrap();
            gather(&stack, &plan)
        };
        // Render once, as `poolstack render` would.
        let loaded = crate::manifest::load(&dir.path().join("stack.toml")).unwrap();
        let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
        let mut secrets = Secrets::default();
        secrets.insert("trader", Password::new("pw".to_string()));
        let plan = render::plan(&stack, &secrets, &Existing::default()).unwrap();
        let pending: Vec<crate::fsutil::PendingFile<'_>> = plan
            .files
            .iter()
            .map(|f| crate::fsutil::PendingFile {
                path: &f.path,
                contents: f.contents.as_bytes(),
                mode: f.mode,
            })
            .collect();
        crate::fsutil::write_all(&pending).unwrap();
        (dir, gather_with)
    }

    fn by_role(facts: &[FileFact], role: FileRole) -> &FileFact {
        facts.iter().find(|f| f.role == role).unwrap()
    }

    #[test]
    fn nothing_rendered_yet_is_no_fact_and_no_drift() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("stack.toml");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
            &manifest,
        )
        .unwrap();
        let loaded = crate::manifest::load(&manifest).unwrap();
        let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
        let plan = render::plan(&stack, &Secrets::default(), &Existing::default()).unwrap();
        assert!(gather(&stack, &plan).is_empty());
    }

    #[test]
    fn fresh_render_is_clean_and_secret_files_have_their_modes() {
        let (_dir, gather_with) = rendered_mt5();
        let facts = gather_with(true);
        assert!(
            facts.iter().all(|f| !f.drifted && !f.hand_edited),
            "{facts:?}"
        );
        assert!(
            facts.iter().all(|f| !f.tracked_by_git),
            "not in a git work tree"
        );
        #[cfg(unix)]
        {
            assert_eq!(by_role(&facts, FileRole::Userlist).mode, Some(0o600));
            assert_eq!(by_role(&facts, FileRole::PgbouncerIni).mode, Some(0o644));
        }
        // Without the password, the userlist is compared by users and types, and says so.
        let facts = gather_with(false);
        let userlist = by_role(&facts, FileRole::Userlist);
        assert!(
            userlist.secrets_unverified && !userlist.drifted,
            "{userlist:?}"
        );
        assert!(!by_role(&facts, FileRole::PgbouncerIni).secrets_unverified);
    }

    #[test]
    fn edits_are_drift_and_header_mismatches_are_hand_edits() {
        let (dir, gather_with) = rendered_mt5();
        let ini = dir.path().join("pgbouncer/pgbouncer.ini");
        let text = std::fs::read_to_string(&ini).unwrap();
        std::fs::write(
            &ini,
            text.replace("max_client_conn = 1000", "max_client_conn = 5"),
        )
        .unwrap();
        // A manifest change is drift without a hand edit.
        let conf = dir.path().join("postgres/conf.d/50-poolstack.conf");
        let manifest = dir.path().join("stack.toml");
        let m = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(
            &manifest,
            m.replace("work_mem = \"32MB\"", "work_mem = \"64MB\""),
        )
        .unwrap();
        // A userlist with another secret type drifts even without the password.
        let userlist = dir.path().join("pgbouncer/userlist.txt");
        std::fs::write(&userlist, "\"trader\" \"plain-password\"\n").unwrap();

        let facts = gather_with(false);
        let ini_fact = by_role(&facts, FileRole::PgbouncerIni);
        assert!(ini_fact.drifted && ini_fact.hand_edited, "{ini_fact:?}");
        let conf_fact = facts.iter().find(|f| f.path == conf).unwrap();
        assert!(conf_fact.drifted && !conf_fact.hand_edited, "{conf_fact:?}");
        let ul = by_role(&facts, FileRole::Userlist);
        assert!(ul.drifted && ul.secrets_unverified, "{ul:?}");
    }
}
