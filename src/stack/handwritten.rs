//! What the stack knows about hand-written files that only a file reader can give: today the
//! userlist.txt as PgBouncer reads it (for AUT005, AUT007, AUT009, NET003). A rendered userlist
//! is correct by construction, so a stack resolved from a manifest has none of this.

use crate::auth::{SecretKind, looks_like_unprefixed_md5, looks_like_uppercase_md5};
use crate::formats::userlist::{BrokenReason, Userlist};
use crate::source::{FileId, Loc};

/// A hand-written userlist.txt: the entries PgBouncer loads and where it stops reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandUserlist {
    /// The file in the stack's `sources`.
    pub file: FileId,
    /// Entries PgBouncer loads, in file order (a user listed twice: the last one wins).
    pub entries: Vec<HandUserlistEntry>,
    /// Where PgBouncer stops reading, if it does: every later user is lost.
    pub broken: Option<UserlistBreak>,
}

/// One loaded `"user" "secret"` entry, described without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandUserlistEntry {
    pub user: String,
    /// The user field (between its quotes).
    pub user_loc: Loc,
    /// The secret field (between its quotes).
    pub secret_loc: Loc,
    /// How PgBouncer reads the secret.
    pub kind: SecretKind,
    /// The secret is empty (`""`): the user loads but every password login fails.
    pub empty: bool,
    /// `md5` + 32 hex digits with an uppercase letter: PgBouncer takes it as a plaintext password.
    pub uppercase_md5: bool,
    /// 32 hex digits without the `md5` prefix: PgBouncer takes it as a plaintext password.
    pub unprefixed_md5: bool,
    /// The secret was taken from a later line: this line held only a user name, and the next
    /// line's user became its "secret".
    pub secret_on_later_line: bool,
}

/// Where PgBouncer stops reading the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserlistBreak {
    pub loc: Loc,
    pub reason: BrokenReason,
    /// Users named after the break that PgBouncer never loads.
    pub users_lost: Vec<String>,
}

impl HandUserlist {
    /// The view of a parsed userlist; `text` is the text that was parsed (file `file` in the
    /// stack's sources).
    pub fn from_parsed(file: FileId, parsed: &Userlist, text: &str) -> HandUserlist {
        let loc = |span: &std::ops::Range<usize>| Loc {
            file,
            span: span.clone(),
        };
        HandUserlist {
            file,
            entries: parsed
                .entries
                .iter()
                .map(|e| HandUserlistEntry {
                    user: e.user.clone(),
                    user_loc: loc(&e.user_span),
                    secret_loc: loc(&e.secret_span),
                    kind: e.kind(),
                    empty: e.secret.is_empty(),
                    uppercase_md5: looks_like_uppercase_md5(&e.secret),
                    unprefixed_md5: looks_like_unprefixed_md5(&e.secret),
                    secret_on_later_line: e.secret_line != e.line,
                })
                .collect(),
            broken: parsed.broken.as_ref().map(|b| UserlistBreak {
                loc: loc(&b.span),
                reason: b.reason,
                users_lost: parsed.users_lost_after_break(text),
            }),
        }
    }

    /// The entry PgBouncer uses for `user` (the last one), if it loads one.
    pub fn get(&self, user: &str) -> Option<&HandUserlistEntry> {
        self.entries.iter().rev().find(|e| e.user == user)
    }
}
