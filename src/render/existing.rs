//! What is already on disk where render writes: the userlist and roles.sql verifiers (to keep
//! entries that still verify byte for byte) and the state of every generated file.

use crate::auth::{self, SecretKind};
use crate::formats::userlist::Userlist;
use crate::render::FileKind;
use crate::stack::Stack;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Existing {
    /// The userlist at the output path, if there is one.
    pub userlist: Option<Userlist>,
    /// user → verifier, from an existing roles.sql written by poolstack.
    pub role_verifiers: BTreeMap<String, String>,
}

impl Existing {
    pub fn read(stack: &Stack) -> Existing {
        let limit = crate::formats::text::MAX_FILE_BYTES;
        let userlist = crate::fsutil::read_bounded(&stack.outputs.userlist.value, limit)
            .ok()
            .map(|bytes| Userlist::parse_bytes(&bytes));
        let role_verifiers = crate::fsutil::read_bounded(&stack.outputs.roles_sql.value, limit)
            .map(|t| role_verifiers(&String::from_utf8_lossy(&t)))
            .unwrap_or_default();
        Existing {
            userlist,
            role_verifiers,
        }
    }

    pub fn userlist_secret(&self, user: &str) -> Option<&str> {
        self.userlist
            .as_ref()
            .and_then(|u| u.get(user))
            .map(|e| e.secret.as_str())
    }
}

/// Users and secret types of a secret file (userlist.txt or roles.sql), never the secrets: what
/// is compared when the passwords are not available.
pub fn secret_types(kind: &FileKind, text: &str) -> BTreeMap<String, SecretKind> {
    match kind {
        FileKind::Userlist => Userlist::parse(text)
            .entries
            .iter()
            .map(|e| (e.user.clone(), auth::classify(&e.secret)))
            .collect(),
        FileKind::Deploy { .. } => Userlist::parse(&embedded_userlist(text))
            .entries
            .iter()
            .map(|e| (e.user.clone(), auth::classify(&e.secret)))
            .collect(),
        _ => role_verifiers(text)
            .into_iter()
            .map(|(u, v)| (u, auth::classify(&v)))
            .collect(),
    }
}

/// The userlist entries a deploy Secret (`stringData: userlist.txt: |`) holds, as userlist text.
pub fn embedded_userlist(yaml: &str) -> String {
    yaml.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('"'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `ALTER ROLE "name" WITH LOGIN PASSWORD 'verifier';` lines, as roles.sql.j2 writes them.
pub fn role_verifiers(sql: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in sql.lines() {
        let Some(rest) = line.trim().strip_prefix("ALTER ROLE ") else {
            continue;
        };
        let Some((ident, rest)) = take_quoted(rest, '"') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("WITH LOGIN PASSWORD ") else {
            continue;
        };
        let Some((verifier, _)) = take_quoted(rest, '\'') else {
            continue;
        };
        out.insert(ident, verifier);
    }
    out
}

/// A `q`-quoted token with doubled-quote escapes at the start of `s`; returns it and the rest.
fn take_quoted(s: &str, q: char) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != q {
        return None;
    }
    let mut out = String::new();
    let mut iter = s[1..].char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == q {
            if iter.peek().map(|(_, n)| *n) == Some(q) {
                out.push(q);
                iter.next();
            } else {
                return Some((out, &s[1 + i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_role_verifiers() {
        let sql = "ALTER ROLE \"tra\"\"der\" WITH LOGIN PASSWORD 'md5abc';\nALTER ROLE \"x\" WITH LOGIN PASSWORD 'it''s';\n";
        let v = role_verifiers(sql);
        assert_eq!(v.get("tra\"der").map(String::as_str), Some("md5abc"));
        assert_eq!(v.get("x").map(String::as_str), Some("it's"));
    }
}
