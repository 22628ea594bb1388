//! Reading a hand-written config file as text, the same way for every format.

use crate::diag::InputError;
use crate::source::display_path;
use std::path::Path;

/// Files larger than this are refused (exit 2): no real configuration file comes close, and
/// reading one whole keeps every reader linear and bounded.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// It holds a NUL byte: a binary file, not a configuration file.
    Binary {
        offset: usize,
    },
    TooLarge {
        bytes: u64,
    },
}

/// Bytes → text. Invalid UTF-8 is replaced (U+FFFD), so spans stay valid in the returned
/// string; both servers read bytes, and a replaced byte is still "not ASCII" to their lexers.
pub fn decode(bytes: &[u8]) -> Result<String, TextError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(TextError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(TextError::Binary { offset });
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// Read `path` as a config file's text (see [`decode`]); every failure is an input error that
/// names the file and says what to do.
pub fn read(path: &Path) -> Result<String, InputError> {
    let shown = display_path(path);
    let meta = std::fs::metadata(path)
        .map_err(|e| InputError::new(format!("cannot read {shown}: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(
            InputError::new(format!("{shown} is a directory, not a file"))
                .with_help("name the configuration file itself"),
        );
    }
    if !meta.is_file() {
        return Err(InputError::new(format!(
            "{shown} is not a regular file (a device, a FIFO or a socket)"
        ))
        .with_help("name the configuration file itself: poolstack reads regular files only"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(&shown, meta.len()));
    }
    // The size the file reported is not trusted: the read itself stops past the limit.
    let bytes = crate::fsutil::read_bounded(path, MAX_FILE_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            too_large(&shown, MAX_FILE_BYTES + 1)
        } else {
            InputError::new(format!("cannot read {shown}: {}", io_reason(&e)))
        }
    })?;
    decode(&bytes).map_err(|e| match e {
        TextError::Binary { offset } => InputError::new(format!(
            "{shown}:{}: not a text file (a NUL byte)",
            line_col(&bytes, offset)
        ))
        .with_help("pass the configuration file itself, not a binary or compressed copy"),
        TextError::TooLarge { bytes } => too_large(&shown, bytes),
    })
}

/// `line:column` (1-based, columns in characters) of a byte offset in bytes that may not be UTF-8.
pub fn line_col(bytes: &[u8], offset: usize) -> String {
    let offset = offset.min(bytes.len());
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    format!("{line}:{column}")
}

fn too_large(shown: &str, bytes: u64) -> InputError {
    InputError::new(format!(
        "{shown} is {bytes} bytes: larger than any configuration file poolstack reads ({} MiB)",
        MAX_FILE_BYTES / (1024 * 1024)
    ))
    .with_help("check that this is the configuration file you meant")
}

/// An I/O error in a few words, without Rust's `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_invalid_utf8() {
        assert_eq!(decode(b"a\0b"), Err(TextError::Binary { offset: 1 }));
        assert_eq!(decode(b"a\xffb").unwrap(), "a\u{fffd}b");
        assert_eq!(decode(b"").unwrap(), "");
    }

    #[test]
    fn read_reports_missing_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&dir.path().join("nope.ini")).unwrap_err();
        assert!(e.message.contains("no such file"), "{}", e.message);
        let e = read(dir.path()).unwrap_err();
        assert!(e.message.contains("directory"), "{}", e.message);
        let bin = dir.path().join("x.ini");
        std::fs::write(&bin, b"\x1f\x8b\x08\0").unwrap();
        let e = read(&bin).unwrap_err();
        assert!(e.message.contains("not a text file"), "{}", e.message);
        assert!(e.message.contains("x.ini:1:4:"), "{}", e.message);
        assert_eq!(line_col(b"ab\nc\xc3\xa9d", 6), "2:3");
    }

    /// A device reports size 0; reading it would never end (or fill memory).
    #[cfg(unix)]
    #[test]
    fn devices_and_links_to_them_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.ini");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        for p in [Path::new("/dev/zero"), link.as_path()] {
            let e = read(p).unwrap_err();
            assert!(e.message.contains("not a regular file"), "{}", e.message);
        }
    }
}
