//! Writing a set of files all or nothing.
//!
//! Every target is checked before anything changes (its name, its type, symlinks, that it can be
//! replaced), every new content goes to a temp file next to its target, and only then are the
//! temp files renamed into place. A rename that still fails puts back what was already replaced,
//! so "nothing was written" stays true. Files whose content is unchanged are not rewritten.
//! Secret files follow one policy: a new file is 0600; an existing one keeps its owner, group and
//! mode, less any access for others (a note says so, and it is a chmod when the content is the
//! same). Temp files left by a killed run are removed by the next run in the same directory.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The longest file name Linux filesystems take (NAME_MAX).
pub const NAME_MAX: usize = 255;
/// Files poolstack compares before replacing them are read up to this size.
const COMPARE_LIMIT: u64 = 64 * 1024 * 1024;
const TEMP_PREFIX: &str = ".poolstack-";
const TEMP_SUFFIX: &str = ".tmp";

/// One file to write.
pub struct PendingFile<'a> {
    pub path: &'a Path,
    pub contents: &'a [u8],
    /// Holds passwords or password-equivalent verifiers: the secret-file mode policy applies.
    pub secret: bool,
}

/// How symlinks among the targets are treated.
#[derive(Debug, Clone, Copy)]
pub enum Links<'a> {
    /// `render`: every target must stay inside this output root. A symlink (the target itself or
    /// a directory on the way) that leads outside it, or nowhere, is refused.
    StayInside(&'a Path),
    /// An explicitly named path (`userlist -o`): a symlink is written through, to its target.
    Follow,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Created,
    Replaced,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Written {
    /// The path as given.
    pub path: PathBuf,
    pub action: Action,
    /// The permission bits the file has now.
    pub mode: u32,
    /// What the policy changed or could not keep (mode tightened, owner not kept, written through a link).
    pub notes: Vec<String>,
}

/// Why nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// A target poolstack will not write (outside the output root, through a dangling link).
    Refused(String),
    /// A target that cannot be written (a directory, a name too long, no permission, a failed rename).
    Failed(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Refused(m) | WriteError::Failed(m) => f.write_str(m),
        }
    }
}

/// A target after the checks: where it really is and what is there now.
struct Target {
    given: PathBuf,
    real: PathBuf,
    old: Option<Old>,
    new_mode: u32,
    notes: Vec<String>,
    /// The content differs (or the file is new): a temp file and a rename.
    rewrite: bool,
    secret: bool,
}

struct Old {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// Write every file, or none of them.
pub fn write_all(files: &[PendingFile<'_>], links: Links<'_>) -> Result<Vec<Written>, WriteError> {
    write_all_with(files, links, &mut |from, to| std::fs::rename(from, to))
}

/// [`write_all`] with the rename step given (tests make it fail to prove the rollback).
pub(crate) fn write_all_with(
    files: &[PendingFile<'_>],
    links: Links<'_>,
    rename: &mut dyn FnMut(&Path, &Path) -> std::io::Result<()>,
) -> Result<Vec<Written>, WriteError> {
    // 1. Check every target before anything changes.
    let mut targets = Vec::with_capacity(files.len());
    for f in files {
        targets.push(check_target(f, links)?);
    }
    for (i, t) in targets.iter().enumerate() {
        if targets[..i].iter().any(|o| o.real == t.real) {
            return Err(WriteError::Failed(format!(
                "{} is written twice (two outputs lead to the same file)",
                t.given.display()
            )));
        }
    }
    // 2. Temp files a killed run left next to these targets.
    let mut dirs: Vec<&Path> = targets.iter().map(|t| parent_dir(&t.real)).collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        remove_stale_temps(d);
    }
    // 3. Stage every new content next to its target.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut staged: Vec<Option<tempfile::NamedTempFile>> = Vec::with_capacity(targets.len());
    for (t, f) in targets.iter_mut().zip(files) {
        if !t.rewrite {
            staged.push(None);
            continue;
        }
        match stage(t, f.contents, &mut created_dirs) {
            Ok(tmp) => staged.push(Some(tmp)),
            Err(e) => {
                drop(staged);
                remove_created_dirs(&created_dirs);
                return Err(WriteError::Failed(e));
            }
        }
    }
    // 4. Rename (or chmod) into place; on a failure, put back what was replaced.
    let mut done: Vec<Undo> = Vec::new();
    for (t, tmp) in targets.iter().zip(staged.iter_mut()) {
        let step = match tmp.take() {
            Some(tmp) => replace(t, tmp, rename),
            None => tighten(t),
        };
        match step {
            Ok(undo) => done.push(undo),
            Err(e) => {
                for u in done.into_iter().rev() {
                    u.undo();
                }
                remove_created_dirs(&created_dirs);
                return Err(WriteError::Failed(format!(
                    "{e}; every file that was already replaced was put back, so nothing was written"
                )));
            }
        }
    }
    for u in done {
        u.forget();
    }
    Ok(targets
        .into_iter()
        .map(|t| Written {
            action: match (&t.old, t.rewrite) {
                (None, _) => Action::Created,
                (Some(_), true) => Action::Replaced,
                (Some(_), false) => Action::Unchanged,
            },
            path: t.given,
            mode: t.new_mode,
            notes: t.notes,
        })
        .collect())
}

fn check_target(f: &PendingFile<'_>, links: Links<'_>) -> Result<Target, WriteError> {
    let given = f.path.to_path_buf();
    let shown = given.display().to_string();
    let name_ok = given
        .file_name()
        .is_some_and(|n| n.as_encoded_bytes().len() <= NAME_MAX);
    if !name_ok {
        return Err(WriteError::Failed(format!(
            "{shown}: not a usable file name (empty, `..`, or longer than {NAME_MAX} bytes)"
        )));
    }
    let mut notes = Vec::new();
    let through = match links {
        Links::Follow => follow(&given)?,
        Links::StayInside(root) => inside(&given, root)?,
    };
    let real = match through {
        Some(real) => {
            notes.push(format!(
                "written through the symlink, to {}",
                real.display()
            ));
            real
        }
        None => given.clone(),
    };
    let old = match std::fs::symlink_metadata(&real) {
        Ok(m) if m.is_file() => Some(m),
        Ok(m) => {
            let what = if m.is_dir() {
                "a directory"
            } else {
                "not a regular file"
            };
            return Err(WriteError::Failed(format!(
                "{shown} is {what}; move it away or choose another output path"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(WriteError::Failed(format!("{shown}: {e}"))),
    };
    let old = old.map(|m| meta_of(&m));
    let same = match &old {
        Some(_) => super::read_bounded(&real, COMPARE_LIMIT)
            .map(|bytes| bytes == f.contents)
            .unwrap_or(false),
        None => false,
    };
    // An immutable or append-only file cannot be replaced (EPERM even for root); find out now.
    if old.is_some()
        && !same
        && let Err(e) = std::fs::OpenOptions::new().append(true).open(&real)
        && e.raw_os_error() == Some(1)
    {
        return Err(WriteError::Failed(format!(
            "{shown} cannot be replaced ({e}); is it immutable (`lsattr`)?"
        )));
    }
    let new_mode = match &old {
        None if f.secret => 0o600,
        None => 0o644,
        Some(o) if f.secret && o.mode & 0o007 != 0 => {
            let tightened = o.mode & !0o007;
            notes.push(format!(
                "removed access for others (mode {:04o} → {:04o}): it holds secrets",
                o.mode, tightened
            ));
            tightened
        }
        Some(o) => o.mode,
    };
    Ok(Target {
        given,
        real,
        rewrite: !same,
        secret: f.secret,
        old,
        new_mode,
        notes,
    })
}

#[cfg(unix)]
fn meta_of(m: &std::fs::Metadata) -> Old {
    use std::os::unix::fs::MetadataExt;
    Old {
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
    }
}

#[cfg(not(unix))]
fn meta_of(_m: &std::fs::Metadata) -> Old {
    Old {
        mode: 0o644,
        uid: 0,
        gid: 0,
    }
}

/// The file an explicitly named path stands for when it is a symlink: links followed to the end
/// (the last one may dangle: its target is created).
fn follow(path: &Path) -> Result<Option<PathBuf>, WriteError> {
    let mut current = path.to_path_buf();
    for hops in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&current)
                    .map_err(|e| WriteError::Failed(format!("{}: {e}", current.display())))?;
                current = match current.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok((hops > 0).then_some(current)),
        }
    }
    Err(WriteError::Failed(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Refuses `path` when it, or any directory between `root` and it, is a symlink leading outside
/// `root` (or nowhere); the file it stands for when it is itself a link that stays inside.
fn inside(path: &Path, root: &Path) -> Result<Option<PathBuf>, WriteError> {
    let abs_root = super::absolute(root);
    let abs = super::absolute(path);
    let shown = path.display();
    let Ok(rest) = abs.strip_prefix(&abs_root) else {
        return Err(WriteError::Refused(format!(
            "{shown} is outside the output directory {}",
            root.display()
        )));
    };
    let real_root = std::fs::canonicalize(&abs_root).unwrap_or(abs_root.clone());
    let mut walked = abs_root.clone();
    let components: Vec<_> = rest.components().collect();
    for (i, c) in components.iter().enumerate() {
        walked.push(c);
        let Ok(m) = std::fs::symlink_metadata(&walked) else {
            return Ok(None); // the rest does not exist yet: nothing to follow
        };
        if !m.file_type().is_symlink() {
            continue;
        }
        let Ok(to) = std::fs::canonicalize(&walked) else {
            return Err(WriteError::Refused(format!(
                "{shown}: {} is a symlink that leads nowhere; render never writes through it (remove the link)",
                walked.display()
            )));
        };
        if !to.starts_with(&real_root) {
            return Err(WriteError::Refused(format!(
                "{shown}: {} is a symlink to {}, outside the output directory; render never writes outside it, even with --force (remove the link, or render into the directory it points to)",
                walked.display(),
                to.display()
            )));
        }
        if i + 1 == components.len() {
            return Ok(Some(to));
        }
    }
    Ok(None)
}

/// A temp file next to the target with the new content, mode and (for an existing file) owner.
fn stage(
    t: &mut Target,
    contents: &[u8],
    created_dirs: &mut Vec<PathBuf>,
) -> Result<tempfile::NamedTempFile, String> {
    let dir = parent_dir(&t.real).to_path_buf();
    let shown = t.given.display().to_string();
    create_dirs(&dir, created_dirs).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    if let Some(old) = &t.old
        && let Err(e) = chown(tmp.as_file(), old.uid, old.gid)
    {
        // The file changes hands; never let a new group read a secret.
        t.notes.push(format!(
            "could not keep its owner and group ({e}); it now belongs to this user"
        ));
        if t.secret {
            t.new_mode &= !0o077;
        }
    }
    set_mode(tmp.as_file(), t.new_mode).map_err(|e| format!("{shown}: {e}"))?;
    tmp.write_all(contents)
        .map_err(|e| format!("{shown}: {e}"))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| format!("{shown}: {e}"))?;
    Ok(tmp)
}

/// The directory a file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Create `dir` and its missing ancestors, remembering each one created (outermost first).
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    for p in missing.into_iter().rev() {
        match std::fs::create_dir(&p) {
            Ok(()) => created.push(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn remove_created_dirs(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// How to take back one step.
enum Undo {
    Nothing,
    /// A new file: remove it.
    Remove(PathBuf),
    /// A replaced file: its old inode, kept under a temp name, goes back.
    Restore {
        backup: PathBuf,
        target: PathBuf,
    },
    /// A chmod: the old mode goes back.
    Chmod {
        target: PathBuf,
        mode: u32,
    },
}

impl Undo {
    fn undo(self) {
        match self {
            Undo::Nothing => {}
            Undo::Remove(p) => {
                let _ = std::fs::remove_file(p);
            }
            Undo::Restore { backup, target } => {
                let _ = std::fs::rename(backup, target);
            }
            Undo::Chmod { target, mode } => {
                let _ = set_path_mode(&target, mode);
            }
        }
    }

    fn forget(self) {
        if let Undo::Restore { backup, .. } = self {
            let _ = std::fs::remove_file(backup);
        }
    }
}

fn replace(
    t: &Target,
    tmp: tempfile::NamedTempFile,
    rename: &mut dyn FnMut(&Path, &Path) -> std::io::Result<()>,
) -> Result<Undo, String> {
    let shown = t.given.display().to_string();
    // Keep the old file (same inode, a second name) until every rename succeeded.
    let undo = match &t.old {
        None => Undo::Remove(t.real.clone()),
        Some(_) => {
            let tmp_name = tmp
                .path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let backup = t.real.with_file_name(format!(
                "{}-old{TEMP_SUFFIX}",
                tmp_name.trim_end_matches(TEMP_SUFFIX)
            ));
            std::fs::hard_link(&t.real, &backup).map_err(|e| {
                format!("{shown}: cannot keep the old file while replacing it: {e}")
            })?;
            Undo::Restore {
                backup,
                target: t.real.clone(),
            }
        }
    };
    let (_, tmp_path) = tmp.keep().map_err(|e| format!("{shown}: {}", e.error))?;
    if let Err(e) = rename(&tmp_path, &t.real) {
        let _ = std::fs::remove_file(&tmp_path);
        undo.forget(); // the target is untouched: only the second name goes
        return Err(format!("{shown}: {e}"));
    }
    Ok(undo)
}

fn tighten(t: &Target) -> Result<Undo, String> {
    match &t.old {
        Some(old) if old.mode != t.new_mode => {
            set_path_mode(&t.real, t.new_mode)
                .map_err(|e| format!("{}: {e}", t.given.display()))?;
            Ok(Undo::Chmod {
                target: t.real.clone(),
                mode: old.mode,
            })
        }
        _ => Ok(Undo::Nothing),
    }
}

/// Remove `.poolstack-<pid>-*.tmp` files in `dir` whose process is gone (a run killed between
/// writing its temp files and renaming them), and the unnumbered ones of earlier versions.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        else {
            continue;
        };
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let pid = middle
            .split_once('-')
            .and_then(|(p, _)| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| p == std::process::id() || process_alive(p));
        if !alive {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(unix)]
fn chown(file: &std::fs::File, uid: u32, gid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata()?;
    if m.uid() == uid && m.gid() == gid {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(uid), Some(gid))
}

#[cfg(not(unix))]
fn chown(_file: &std::fs::File, _uid: u32, _gid: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_path_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_path_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// The checks [`write_all`] makes before changing anything, on their own (so a caller can report
/// a refused target before its other refusals).
pub fn check_all(files: &[PendingFile<'_>], links: Links<'_>) -> Result<(), WriteError> {
    for f in files {
        check_target(f, links)?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn file<'a>(path: &'a Path, contents: &'a str, secret: bool) -> PendingFile<'a> {
        PendingFile {
            path,
            contents: contents.as_bytes(),
            secret,
        }
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().mode() & 0o7777
    }

    fn set(p: &Path, m: u32) {
        set_path_mode(p, m).unwrap();
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                out.push(name);
            }
            if e.file_type().unwrap().is_dir() {
                out.extend(leftovers(&e.path()));
            }
        }
        out
    }

    fn am_root() -> bool {
        let d = tempfile::tempdir().unwrap();
        std::fs::metadata(d.path()).unwrap().uid() == 0
    }

    #[test]
    fn new_files_get_the_policy_modes_and_leave_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x/a.txt");
        let b = dir.path().join("b.txt");
        let w = write_all(
            &[file(&a, "a", true), file(&b, "b", false)],
            Links::StayInside(dir.path()),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a");
        assert_eq!(mode(&a), 0o600);
        assert_eq!(mode(&b), 0o644);
        assert_eq!(w[0].action, Action::Created);
        assert_eq!(w[0].mode, 0o600);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn unchanged_files_are_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, "same").unwrap();
        set(&a, 0o640);
        let before = std::fs::metadata(&a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let w = write_all(&[file(&a, "same", true)], Links::StayInside(dir.path())).unwrap();
        let after = std::fs::metadata(&a).unwrap();
        assert_eq!(w[0].action, Action::Unchanged);
        assert!(w[0].notes.is_empty(), "{:?}", w[0].notes);
        assert_eq!(before.ino(), after.ino());
        assert_eq!(before.mtime_nsec(), after.mtime_nsec());
        assert_eq!(before.ctime_nsec(), after.ctime_nsec());
        assert_eq!(mode(&a), 0o640);
    }

    #[test]
    fn an_unchanged_secret_readable_by_others_is_only_chmodded() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("userlist.txt");
        std::fs::write(&a, "\"u\" \"p\"\n").unwrap();
        set(&a, 0o644);
        let ino = std::fs::metadata(&a).unwrap().ino();
        let w = write_all(
            &[file(&a, "\"u\" \"p\"\n", true)],
            Links::StayInside(dir.path()),
        )
        .unwrap();
        assert_eq!(w[0].action, Action::Unchanged);
        assert_eq!(mode(&a), 0o640);
        assert_eq!(std::fs::metadata(&a).unwrap().ino(), ino);
        assert!(w[0].notes[0].contains("0644 → 0640"), "{:?}", w[0].notes);
    }

    #[test]
    fn a_replaced_secret_keeps_owner_group_and_mode_less_world_access() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("userlist.txt");
        std::fs::write(&a, "old").unwrap();
        set(&a, 0o646);
        let root = am_root();
        if root {
            std::os::unix::fs::chown(&a, Some(4321), Some(4322)).unwrap();
        }
        let w = write_all(&[file(&a, "new", true)], Links::StayInside(dir.path())).unwrap();
        assert_eq!(w[0].action, Action::Replaced);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new");
        assert_eq!(mode(&a), 0o640);
        assert!(w[0].notes.iter().any(|n| n.contains("0646 → 0640")));
        if root {
            let m = std::fs::metadata(&a).unwrap();
            assert_eq!((m.uid(), m.gid()), (4321, 4322));
        }
        // A file that is not secret keeps its mode as it is.
        let b = dir.path().join("pgbouncer.ini");
        std::fs::write(&b, "old").unwrap();
        set(&b, 0o664);
        write_all(&[file(&b, "new", false)], Links::StayInside(dir.path())).unwrap();
        assert_eq!(mode(&b), 0o664);
    }

    #[test]
    fn a_failed_rename_puts_back_what_was_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let b = dir.path().join("sub/b.txt");
        let c = dir.path().join("c.txt");
        std::fs::write(&a, "old a").unwrap();
        std::fs::write(&c, "old c").unwrap();
        let ino = std::fs::metadata(&a).unwrap().ino();
        let mut calls = 0;
        let err = write_all_with(
            &[
                file(&a, "new a", false),
                file(&b, "new b", false),
                file(&c, "new c", false),
            ],
            Links::StayInside(dir.path()),
            &mut |from, to| {
                calls += 1;
                if calls == 3 {
                    Err(std::io::Error::other("injected"))
                } else {
                    std::fs::rename(from, to)
                }
            },
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::Failed(_)), "{err}");
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        assert_eq!(std::fs::metadata(&a).unwrap().ino(), ino);
        assert!(!b.exists() && !dir.path().join("sub").exists());
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "old c");
        assert!(
            leftovers(dir.path()).is_empty(),
            "{:?}",
            leftovers(dir.path())
        );
    }

    #[test]
    fn a_target_that_cannot_be_written_stops_everything_before_the_first_change() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        std::fs::write(&a, "old a").unwrap();
        let d = dir.path().join("b.env");
        std::fs::create_dir(&d).unwrap();
        let long = dir.path().join(format!("{}.env", "a".repeat(300)));
        for bad in [&d, &long] {
            let err = write_all(
                &[file(&a, "new a", false), file(bad, "x", false)],
                Links::StayInside(dir.path()),
            )
            .unwrap_err();
            assert!(matches!(err, WriteError::Failed(_)), "{err}");
            assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        }
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn render_never_writes_through_a_link_out_of_its_root() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.txt");
        let link = dir.path().join("pgbouncer.ini");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = write_all(
            &[file(&first, "x", false), file(&link, "new", false)],
            Links::StayInside(dir.path()),
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::Refused(_)), "{err}");
        assert!(err.to_string().contains("outside the output directory"));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!first.exists());
        // A dangling link, and a directory on the way that leads out.
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(outside.path().join("nowhere"), &link).unwrap();
        let err =
            write_all(&[file(&link, "new", false)], Links::StayInside(dir.path())).unwrap_err();
        assert!(err.to_string().contains("leads nowhere"), "{err}");
        assert!(!outside.path().join("nowhere").exists());
        let sub = dir.path().join("pgbouncer");
        std::os::unix::fs::symlink(outside.path(), &sub).unwrap();
        let through = sub.join("victim");
        let err = write_all(
            &[file(&through, "new", false)],
            Links::StayInside(dir.path()),
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::Refused(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn a_link_inside_the_root_and_an_explicit_link_are_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        let w = write_all(&[file(&link, "new", true)], Links::StayInside(dir.path())).unwrap();
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(w[0].notes.iter().any(|n| n.contains("through the symlink")));

        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("userlist.txt");
        std::fs::write(&target, "old").unwrap();
        set(&target, 0o640);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_all(&[file(&link, "new", true)], Links::Follow).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(mode(&target), 0o640);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(leftovers(elsewhere.path()).is_empty());
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn stale_temp_files_of_dead_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(".poolstack-4000000000-abc123.tmp");
        let old_style = dir.path().join(".poolstack-Xy12Ab.tmp");
        let live = dir
            .path()
            .join(format!(".poolstack-{}-zzz.tmp", std::process::id()));
        let other = dir.path().join("keep.tmp");
        for p in [&dead, &old_style, &live, &other] {
            std::fs::write(p, "x").unwrap();
        }
        let a = dir.path().join("a.txt");
        write_all(&[file(&a, "a", false)], Links::StayInside(dir.path())).unwrap();
        assert!(!dead.exists() && !old_style.exists());
        assert!(live.exists() && other.exists());
    }
}
