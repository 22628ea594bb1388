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
        let Ok(bytes) =
            crate::fsutil::read_bounded(&file.path, crate::formats::text::MAX_FILE_BYTES)
        else {
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
    for (kind, entry) in unbuilt.entries() {
        let Some((path, expected)) = entry else {
            continue;
        };
        let Ok(bytes) = crate::fsutil::read_bounded(path, crate::formats::text::MAX_FILE_BYTES)
        else {
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
    // Known verifiers that reject the manifest's password (AUT010).
    let mut rejects: BTreeMap<&Path, Vec<String>> = BTreeMap::new();
    for (path, user) in &plan.known_verifier_rejects {
        rejects
            .entry(path.as_path())
            .or_default()
            .push(user.clone());
    }
    for (path, users) in rejects {
        facts.push(FileFact {
            rejects_password_of: users,
            ..fact(path, FileRole::Other)
        });
    }
    // Known-verifier files that cannot give the verifier render would need.
    let mut lacking: BTreeMap<&Path, Vec<String>> = BTreeMap::new();
    let mut read: BTreeMap<&Path, Option<crate::formats::userlist::Userlist>> = BTreeMap::new();
    for user in &stack.users {
        let Some(source) = &user.verifier else {
            continue;
        };
        let path = source.value.as_path();
        let list = read.entry(path).or_insert_with(|| {
            std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .and_then(|_| {
                    crate::fsutil::read_bounded(path, crate::formats::text::MAX_FILE_BYTES).ok()
                })
                .map(|b| crate::formats::userlist::Userlist::parse_bytes(&b))
        });
        if list
            .as_ref()
            .and_then(|l| l.get(&user.name.value))
            .is_none()
        {
            lacking
                .entry(path)
                .or_default()
                .push(user.name.value.clone());
        }
    }
    for (path, users) in lacking {
        facts.push(FileFact {
            lacks_verifier_of: users,
            ..fact(path, FileRole::Other)
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
        FileKind::AppSettings { .. } | FileKind::Monitoring { .. } => FileRole::Other,
        FileKind::Deploy { .. } => FileRole::Other,
    }
}

/// Every rendered file but userlist.txt carries a header with the checksum of its body.
fn hand_edited(kind: &FileKind, bytes: &[u8]) -> bool {
    *kind != FileKind::Userlist
        && header::inspect(&String::from_utf8_lossy(bytes)) == HeaderState::Edited
}

#[cfg(unix)]
pub fn mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
pub fn mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{self, Existing};
    use crate::secrets::{Password, Secrets};

    /// A temp dir holding a copy of the MT5 manifest.
    fn mt5_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
            dir.path().join("stack.toml"),
        )
        .unwrap();
        dir
    }

    /// What `check` compares: the stack and its render plan, with or without the password.
    fn plan(dir: &Path, password: bool) -> (Stack, RenderPlan) {
        let loaded = crate::manifest::load(&dir.join("stack.toml")).unwrap();
        let stack = crate::stack::resolve::resolve(&loaded, None).unwrap();
        let mut secrets = Secrets::default();
        if password {
            secrets.insert("trader", Password::new("pw".to_string()));
        }
        let plan = render::plan(&stack, &secrets, &Existing::read(&stack)).unwrap();
        (stack, plan)
    }

    fn facts(dir: &Path, password: bool) -> Vec<FileFact> {
        let (stack, plan) = plan(dir, password);
        gather(&stack, &plan)
    }

    /// Write every file, as `poolstack render` does.
    fn render_all(dir: &Path) {
        let (_, plan) = plan(dir, true);
        let pending: Vec<crate::fsutil::PendingFile<'_>> = plan
            .files
            .iter()
            .map(|f| crate::fsutil::PendingFile {
                path: &f.path,
                contents: f.contents.as_bytes(),
                secret: f.kind.is_secret(),
            })
            .collect();
        crate::fsutil::write_all(&pending, crate::fsutil::Links::StayInside(dir)).unwrap();
    }

    fn by_role(facts: &[FileFact], role: FileRole) -> &FileFact {
        facts.iter().find(|f| f.role == role).unwrap()
    }

    #[test]
    fn nothing_rendered_yet_is_no_fact_and_no_drift() {
        let dir = mt5_dir();
        assert!(facts(dir.path(), false).is_empty());
    }

    #[test]
    fn fresh_render_is_clean_and_secret_files_have_their_modes() {
        let dir = mt5_dir();
        render_all(dir.path());
        let facts_with_password = facts(dir.path(), true);
        assert!(
            facts_with_password
                .iter()
                .all(|f| !f.drifted && !f.hand_edited && !f.secrets_unverified),
            "{facts_with_password:?}"
        );
        assert!(
            facts_with_password.iter().all(|f| !f.tracked_by_git),
            "not in a git work tree"
        );
        #[cfg(unix)]
        {
            assert_eq!(
                by_role(&facts_with_password, FileRole::Userlist).mode,
                Some(0o600)
            );
            assert_eq!(
                by_role(&facts_with_password, FileRole::PgbouncerIni).mode,
                Some(0o644)
            );
        }
        // Without the password, the userlist is compared by users and types, and says so.
        let facts = facts(dir.path(), false);
        let userlist = by_role(&facts, FileRole::Userlist);
        assert!(
            userlist.secrets_unverified && !userlist.drifted,
            "{userlist:?}"
        );
        assert!(!by_role(&facts, FileRole::PgbouncerIni).secrets_unverified);
    }

    #[test]
    fn edits_are_drift_and_header_mismatches_are_hand_edits() {
        let dir = mt5_dir();
        render_all(dir.path());
        let edit = |file: &str, from: &str, to: &str| {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(from), "{file}");
            std::fs::write(&path, text.replace(from, to)).unwrap();
        };
        // A hand edit: drift, and the header checksum no longer matches.
        edit(
            "pgbouncer/pgbouncer.ini",
            "max_client_conn = 1000",
            "max_client_conn = 5",
        );
        // A manifest change: drift without a hand edit.
        edit("stack.toml", "work_mem = \"32MB\"", "work_mem = \"64MB\"");
        // Another secret type in the userlist drifts even without the password.
        std::fs::write(
            dir.path().join("pgbouncer/userlist.txt"),
            "\"trader\" \"plain-password\"\n",
        )
        .unwrap();

        let facts = facts(dir.path(), false);
        let ini = by_role(&facts, FileRole::PgbouncerIni);
        assert!(ini.drifted && ini.hand_edited, "{ini:?}");
        let conf = by_role(&facts, FileRole::PostgresqlConf);
        assert!(conf.drifted && !conf.hand_edited, "{conf:?}");
        let userlist = by_role(&facts, FileRole::Userlist);
        assert!(
            userlist.drifted && userlist.secrets_unverified,
            "{userlist:?}"
        );
    }
}
