//! PgBouncer's `auth_file` (userlist.txt): a reader that keeps spans and a writer.
//!
//! The reader follows PgBouncer's `load_auth_file` (src/loader.c, the same logic from 1.18 to
//! master) byte for byte:
//!
//! - Whitespace (C `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`) and blank lines are skipped,
//!   so indentation and CRLF line ends are fine.
//! - A line whose first non-blank character is `;` is a comment. Nothing else is: a `#` line,
//!   or any line not starting with `"`, makes PgBouncer log `broken auth file` and **stop**;
//!   users read before it stay loaded, every later one is silently missing
//!   ([`Userlist::broken`], [`Userlist::users_lost_after_break`]).
//! - An entry is `"user"`, then anything up to the next `"` (normally blanks), then
//!   `"secret"`; the rest of the line is ignored ([`UserlistEntry::trailing`]). Inside a field
//!   `""` stands for one `"`. The search for the closing quote does **not** stop at line ends,
//!   and neither does the search for the secret's opening quote: a line with a single field
//!   takes the next line's user name as its secret (visible as
//!   [`UserlistEntry::secret_line`] ≠ [`UserlistEntry::line`]).
//! - A field whose raw length (bytes between the quotes, a doubled quote counting 2) is
//!   [`MAX_USERNAME`] (128) or more for the user, or [`MAX_PASSWORD`] (2048, PgBouncer ≤ 1.25.2;
//!   65531 on master) or more for the secret, stops the reading (`username too long in auth
//!   file` / `password too long in auth file`).
//! - PgBouncer reads the file as a C string: a NUL byte ends it silently
//!   ([`BrokenReason::NulByte`]).
//! - A user listed twice: the **last** entry wins (PgBouncer's `add_user` overwrites the
//!   password of a user it already has), so [`Userlist::get`] returns the last one.

use std::fmt;
use std::ops::Range;

use crate::auth::{SecretKind, classify};

/// PgBouncer's `MAX_USERNAME`: a user field's raw length must be below this.
pub const MAX_USERNAME: usize = 128;
/// PgBouncer's `MAX_PASSWORD` up to 1.25.2: a secret field's raw length must be below this.
pub const MAX_PASSWORD: usize = 2048;
/// PgBouncer's `MAX_PASSWORD` on master (after 1.25.2).
pub const MAX_PASSWORD_MASTER: usize = 65531;

/// A parsed auth_file: the entries PgBouncer loads, in file order, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Userlist {
    /// Entries PgBouncer loads, in file order (duplicates included; the last one wins).
    pub entries: Vec<UserlistEntry>,
    /// Line numbers (1-based) of `;` comment lines read before any break.
    pub comments: Vec<usize>,
    /// Where PgBouncer stops reading, if it does before the end: every later user is lost.
    pub broken: Option<BrokenLine>,
}

/// One `"user" "secret"` entry. Spans are byte offsets into the parsed text; `user_span` and
/// `secret_span` cover the raw field *between* the quotes (doubled quotes as written), so
/// unquoting `text[user_span]` gives `user`. `Debug` shows the secret's kind, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct UserlistEntry {
    /// The user name, unquoted.
    pub user: String,
    /// The secret (plaintext password, md5 hash or SCRAM verifier), unquoted.
    pub secret: String,
    /// 1-based line of the user's opening quote.
    pub line: usize,
    pub user_span: Range<usize>,
    pub secret_span: Range<usize>,
    /// Ignored text after the secret on its line (an old third field, junk), trimmed of
    /// whitespace; `None` when there is nothing but whitespace.
    pub trailing: Option<Range<usize>>,
    /// 1-based line of the secret's opening quote; differs from `line` when the secret was
    /// taken from a later line (a line with only a user name steals the next line's user).
    pub secret_line: usize,
    /// The bytes between the user's closing quote and the secret's opening quote. PgBouncer
    /// skips anything here; a well-formed entry has only blanks on one line.
    pub separator: Range<usize>,
}

impl UserlistEntry {
    /// How PgBouncer reads the secret.
    pub fn kind(&self) -> SecretKind {
        classify(&self.secret)
    }
}

impl fmt::Debug for UserlistEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserlistEntry")
            .field("user", &self.user)
            .field("secret", &format_args!("<{}>", self.kind().as_str()))
            .field("line", &self.line)
            .field("user_span", &self.user_span)
            .field("secret_span", &self.secret_span)
            .field("trailing", &self.trailing)
            .field("secret_line", &self.secret_line)
            .field("separator", &self.separator)
            .finish()
    }
}

/// Where PgBouncer stops reading the file: every later user is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLine {
    /// 1-based line of `span.start`.
    pub line: usize,
    /// The offending text: the rest of the line for a line that is not an entry, the opening
    /// quote to the end of its line for an unterminated field or a missing secret, the whole
    /// quoted field for a field too long, the NUL byte itself.
    pub span: Range<usize>,
    pub reason: BrokenReason,
}

/// Why PgBouncer stops reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrokenReason {
    /// A line starting with `#` (only `;` starts a comment).
    HashComment,
    /// A line starting with anything other than `"`, `;` or whitespace.
    NotQuoted,
    /// A field's closing quote is missing (the end of the file came first).
    UnterminatedQuote,
    /// No `"` follows the user field before the end of the file.
    MissingSecret,
    /// The user field's raw length is [`MAX_USERNAME`] or more.
    UserTooLong,
    /// The secret field's raw length is the password limit ([`MAX_PASSWORD`]) or more.
    SecretTooLong,
    /// A NUL byte: PgBouncer reads the file as a C string and sees nothing after it.
    NulByte,
    /// The file starts with a UTF-8 byte order mark, which PgBouncer takes as a line not
    /// starting with `"`: no user at all is loaded.
    ByteOrderMark,
}

impl BrokenReason {
    /// What PgBouncer logs (at ERROR level); `None` when it stops silently.
    pub fn pgbouncer_message(self) -> Option<&'static str> {
        match self {
            BrokenReason::HashComment
            | BrokenReason::NotQuoted
            | BrokenReason::UnterminatedQuote
            | BrokenReason::MissingSecret
            | BrokenReason::ByteOrderMark => Some("broken auth file"),
            BrokenReason::UserTooLong => Some("username too long in auth file"),
            BrokenReason::SecretTooLong => Some("password too long in auth file"),
            BrokenReason::NulByte => None,
        }
    }

    /// A one-line explanation for diagnostics.
    pub fn describe(self) -> &'static str {
        match self {
            BrokenReason::HashComment => {
                "a line starting with '#': only ';' starts a comment in userlist.txt"
            }
            BrokenReason::NotQuoted => "a line that does not start with '\"'",
            BrokenReason::UnterminatedQuote => "a quoted field is never closed",
            BrokenReason::MissingSecret => "a user name with no quoted secret after it",
            BrokenReason::UserTooLong => "a user name of 128 bytes or more",
            BrokenReason::SecretTooLong => "a secret too long for PgBouncer",
            BrokenReason::NulByte => "a NUL byte (PgBouncer ignores everything after it)",
            BrokenReason::ByteOrderMark => "the file starts with a UTF-8 byte order mark",
        }
    }
}

impl fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// 1-based line numbers for byte offsets.
struct LineIndex {
    /// Offsets of the first byte of each line.
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

struct RawEntry {
    user: Range<usize>,
    secret: Range<usize>,
    line: usize,
    secret_line: usize,
    trailing: Option<Range<usize>>,
    separator: Range<usize>,
}

struct RawList {
    entries: Vec<RawEntry>,
    comments: Vec<usize>,
    broken: Option<BrokenLine>,
}

/// The reading loop of PgBouncer's `load_auth_file`, over bytes. Offsets are into `bytes`.
fn parse_raw(bytes: &[u8], max_password: usize) -> RawList {
    let lines = LineIndex::new(bytes);
    let nul = bytes.iter().position(|&b| b == 0);
    // What PgBouncer sees: the C string up to the first NUL.
    let b = &bytes[..nul.unwrap_or(bytes.len())];
    let n = b.len();

    let eol = |from: usize| -> usize {
        b.get(from..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
            .map_or(n, |i| from + i)
    };
    // End of the line containing `from`, trailing whitespace (the CR of CRLF) excluded.
    let line_end = |from: usize| -> usize {
        let mut end = eol(from);
        while end > from && is_c_space(b[end - 1]) {
            end -= 1;
        }
        end
    };
    // PgBouncer's find_quote: the next '"'; unless `start`, a doubled quote is skipped.
    let find_quote = |from: usize, start: bool| -> usize {
        let mut p = from;
        loop {
            while p < n && b[p] != b'"' {
                p += 1;
            }
            if !start && p + 1 < n && b[p + 1] == b'"' {
                p += 2;
                continue;
            }
            return p;
        }
    };
    let broken_at = |span: Range<usize>, reason: BrokenReason| BrokenLine {
        line: lines.line_of(span.start),
        span,
        reason,
    };
    // Scanning ran into the end of what PgBouncer sees.
    let hit_end = |otherwise: BrokenLine| match nul {
        Some(at) => broken_at(at..at + 1, BrokenReason::NulByte),
        None => otherwise,
    };

    let mut out = RawList {
        entries: Vec::new(),
        comments: Vec::new(),
        broken: None,
    };
    let mut p = 0;
    loop {
        while p < n && is_c_space(b[p]) {
            p += 1;
        }
        if p >= n {
            if let Some(at) = nul {
                out.broken = Some(broken_at(at..at + 1, BrokenReason::NulByte));
            }
            break;
        }
        if b[p] == b';' {
            out.comments.push(lines.line_of(p));
            p = eol(p);
            continue;
        }
        if b[p] != b'"' {
            let reason = if p == 0 && b.starts_with(b"\xEF\xBB\xBF") {
                BrokenReason::ByteOrderMark
            } else if b[p] == b'#' {
                BrokenReason::HashComment
            } else {
                BrokenReason::NotQuoted
            };
            let end = line_end(p);
            out.broken = Some(broken_at(p..end, reason));
            break;
        }

        let user_quote = p;
        let user_start = p + 1;
        let user_end = find_quote(user_start, false);
        if user_end >= n {
            let span = user_quote..line_end(user_quote);
            out.broken = Some(hit_end(broken_at(span, BrokenReason::UnterminatedQuote)));
            break;
        }
        if user_end - user_start >= MAX_USERNAME {
            out.broken = Some(broken_at(
                user_quote..user_end + 1,
                BrokenReason::UserTooLong,
            ));
            break;
        }

        let secret_quote = find_quote(user_end + 1, true);
        if secret_quote >= n {
            let span = user_quote..line_end(user_end + 1).max(user_end + 1);
            out.broken = Some(hit_end(broken_at(span, BrokenReason::MissingSecret)));
            break;
        }
        let secret_start = secret_quote + 1;
        let secret_end = find_quote(secret_start, false);
        if secret_end >= n {
            let span = secret_quote..line_end(secret_quote);
            out.broken = Some(hit_end(broken_at(span, BrokenReason::UnterminatedQuote)));
            break;
        }
        if secret_end - secret_start >= max_password {
            out.broken = Some(broken_at(
                secret_quote..secret_end + 1,
                BrokenReason::SecretTooLong,
            ));
            break;
        }

        p = secret_end + 1;
        let line_stop = eol(p);
        let mut t_start = p;
        let mut t_end = line_stop;
        while t_start < t_end && is_c_space(b[t_start]) {
            t_start += 1;
        }
        while t_end > t_start && is_c_space(b[t_end - 1]) {
            t_end -= 1;
        }
        out.entries.push(RawEntry {
            user: user_start..user_end,
            secret: secret_start..secret_end,
            line: lines.line_of(user_quote),
            secret_line: lines.line_of(secret_quote),
            trailing: (t_start < t_end).then_some(t_start..t_end),
            separator: user_end + 1..secret_quote,
        });
        p = line_stop;
    }
    out
}

/// Undo the doubling of quotes inside a field.
fn unquote(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        out.push(raw[i]);
        i += if raw[i] == b'"' && raw.get(i + 1) == Some(&b'"') {
            2
        } else {
            1
        };
    }
    out
}

fn unquote_lossy(raw: &[u8]) -> String {
    String::from_utf8_lossy(&unquote(raw)).into_owned()
}

/// Maps byte offsets in some bytes to offsets in `String::from_utf8_lossy` of them.
struct LossyMap {
    /// (offset in the bytes, offset in the lossy text, is an invalid sequence)
    segments: Vec<(usize, usize, bool)>,
}

impl LossyMap {
    fn new(bytes: &[u8]) -> Self {
        let mut segments = Vec::new();
        let (mut orig, mut lossy) = (0, 0);
        for chunk in bytes.utf8_chunks() {
            let valid = chunk.valid().len();
            if valid > 0 {
                segments.push((orig, lossy, false));
                orig += valid;
                lossy += valid;
            }
            let invalid = chunk.invalid().len();
            if invalid > 0 {
                segments.push((orig, lossy, true));
                orig += invalid;
                lossy += char::REPLACEMENT_CHARACTER.len_utf8();
            }
        }
        segments.push((orig, lossy, false));
        LossyMap { segments }
    }

    fn map(&self, offset: usize) -> usize {
        let i = self
            .segments
            .partition_point(|&(o, _, _)| o <= offset)
            .saturating_sub(1);
        match self.segments.get(i) {
            Some(&(o, l, false)) => l + (offset - o),
            Some(&(o, l, true)) if offset == o => l,
            Some(&(_, l, true)) => l + char::REPLACEMENT_CHARACTER.len_utf8(),
            None => offset,
        }
    }

    fn range(&self, r: &Range<usize>) -> Range<usize> {
        self.map(r.start)..self.map(r.end)
    }
}

impl Userlist {
    /// Read an auth_file as PgBouncer ≤ 1.25.2 does. Never panics.
    pub fn parse(text: &str) -> Userlist {
        Self::parse_with_max_password(text, MAX_PASSWORD)
    }

    /// Like [`Userlist::parse`] with another secret length limit (e.g. [`MAX_PASSWORD_MASTER`]).
    pub fn parse_with_max_password(text: &str, max_password: usize) -> Userlist {
        Self::build(text.as_bytes(), max_password, None)
    }

    /// Read raw bytes. PgBouncer's rules are applied to the bytes themselves (lengths count
    /// bytes as PgBouncer does); invalid UTF-8 in names and secrets becomes U+FFFD, and every
    /// span and line number refers to `String::from_utf8_lossy(bytes)`. Never panics.
    pub fn parse_bytes(bytes: &[u8]) -> Userlist {
        let map = std::str::from_utf8(bytes)
            .is_err()
            .then(|| LossyMap::new(bytes));
        Self::build(bytes, MAX_PASSWORD, map.as_ref())
    }

    fn build(bytes: &[u8], max_password: usize, map: Option<&LossyMap>) -> Userlist {
        let raw = parse_raw(bytes, max_password);
        let span = |r: &Range<usize>| match map {
            Some(m) => m.range(r),
            None => r.clone(),
        };
        let field = |r: &Range<usize>| bytes.get(r.clone()).map(unquote_lossy).unwrap_or_default();
        Userlist {
            entries: raw
                .entries
                .iter()
                .map(|e| UserlistEntry {
                    user: field(&e.user),
                    secret: field(&e.secret),
                    line: e.line,
                    user_span: span(&e.user),
                    secret_span: span(&e.secret),
                    trailing: e.trailing.as_ref().map(span),
                    secret_line: e.secret_line,
                    separator: span(&e.separator),
                })
                .collect(),
            comments: raw.comments,
            broken: raw.broken.map(|b| BrokenLine {
                span: span(&b.span),
                ..b
            }),
        }
    }

    /// The entry PgBouncer uses for `user`: the last one when the user is listed twice
    /// (PgBouncer's `add_user` overwrites the password of a user it already has).
    pub fn get(&self, user: &str) -> Option<&UserlistEntry> {
        self.entries.iter().rev().find(|e| e.user == user)
    }

    /// Entries that a later entry for the same user overrides, in file order.
    pub fn shadowed(&self) -> Vec<&UserlistEntry> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(i, e)| self.entries[i + 1..].iter().any(|l| l.user == e.user))
            .map(|(_, e)| e)
            .collect()
    }

    /// Best effort: the users named on lines after the break (a line that, after blanks,
    /// starts with a quoted field that closes on the same line), which PgBouncer will never
    /// load. Users that are loaded from an earlier entry are left out; each name is listed
    /// once. `text` must be the text that was parsed (for [`Userlist::parse_bytes`], its
    /// lossy conversion); a text that does not fit gives what it can, without panicking.
    pub fn users_lost_after_break(&self, text: &str) -> Vec<String> {
        let Some(broken) = &self.broken else {
            return Vec::new();
        };
        let bytes = text.as_bytes();
        let start = if broken.reason == BrokenReason::NulByte {
            broken.span.end
        } else {
            match bytes.get(broken.span.end..) {
                Some(rest) => rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |i| broken.span.end + i + 1),
                None => return Vec::new(),
            }
        };
        let Some(rest) = bytes.get(start..) else {
            return Vec::new();
        };
        let mut lost: Vec<String> = Vec::new();
        for line in rest.split(|&b| b == b'\n') {
            let Some(first) = line.iter().position(|&b| !is_c_space(b)) else {
                continue;
            };
            if line[first] != b'"' {
                continue;
            }
            let field = &line[first + 1..];
            let mut i = 0;
            let close = loop {
                match field.get(i) {
                    None => break None,
                    Some(b'"') if field.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => break Some(i),
                    Some(_) => i += 1,
                }
            };
            let Some(close) = close else { continue };
            let user = unquote_lossy(&field[..close]);
            if self.get(&user).is_none() && !lost.contains(&user) {
                lost.push(user);
            }
        }
        lost
    }
}

impl Userlist {
    /// Best effort, for redaction: the secrets on the lines PgBouncer never reads (the broken
    /// line and every later one), which are no entries but still hold passwords and verifiers.
    /// On each such line, the inside of every quoted field after the first (the user), or from
    /// an unclosed quote to the end of the line. Spans are into `text`, as for
    /// [`Userlist::users_lost_after_break`].
    pub fn unloaded_secret_spans(&self, text: &str) -> Vec<Range<usize>> {
        let Some(broken) = &self.broken else {
            return Vec::new();
        };
        let bytes = text.as_bytes();
        let from = broken.span.start.min(bytes.len());
        let mut at = bytes[..from]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let mut out = Vec::new();
        for line in bytes[at..].split(|&b| b == b'\n') {
            let mut field = 0;
            let mut i = 0;
            while let Some(open) = line[i..].iter().position(|&b| b == b'"').map(|p| i + p) {
                let mut j = open + 1;
                let close = loop {
                    match line.get(j) {
                        None => break None,
                        Some(b'"') if line.get(j + 1) == Some(&b'"') => j += 2,
                        Some(b'"') => break Some(j),
                        Some(_) => j += 1,
                    }
                };
                if field > 0 {
                    out.push(at + open + 1..at + close.unwrap_or(line.len()));
                }
                field += 1;
                match close {
                    Some(c) => i = c + 1,
                    None => break,
                }
            }
            at += line.len() + 1;
        }
        out
    }
}

/// Quote a field as PgBouncer expects: surround with double quotes, double any inner quote.
pub fn quote_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One line `"user" "secret"\n`. Check the fields with [`check_entry`] first: this does not.
pub fn format_entry(user: &str, secret: &str) -> String {
    let mut line = quote_field(user);
    line.push(' ');
    line.push_str(&quote_field(secret));
    line.push('\n');
    line
}

/// Why a user/secret pair cannot be written as a userlist line that PgBouncer reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryProblem {
    /// A NUL character (PgBouncer would stop reading the file there).
    Nul,
    /// A line break (PgBouncer would read it, but one entry per line is what every other tool
    /// expects).
    LineBreak,
    /// The quoted user name is [`MAX_USERNAME`] bytes or more.
    UserTooLong,
    /// The quoted secret is [`MAX_PASSWORD`] bytes or more.
    SecretTooLong,
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryProblem::Nul => "contains a NUL character",
            EntryProblem::LineBreak => "contains a line break",
            EntryProblem::UserTooLong => {
                "user name too long for PgBouncer (128 bytes or more, quotes counted twice)"
            }
            EntryProblem::SecretTooLong => {
                "secret too long for PgBouncer (2048 bytes or more, quotes counted twice)"
            }
        })
    }
}

impl std::error::Error for EntryProblem {}

/// Can `format_entry(user, secret)` be written so that PgBouncer (≤ 1.25.2) reads back exactly
/// this user and secret? Messages never include the secret.
pub fn check_entry(user: &str, secret: &str) -> Result<(), EntryProblem> {
    let raw_len = |s: &str| s.len() + s.bytes().filter(|&b| b == b'"').count();
    if user.contains('\0') || secret.contains('\0') {
        return Err(EntryProblem::Nul);
    }
    if user.contains(['\n', '\r']) || secret.contains(['\n', '\r']) {
        return Err(EntryProblem::LineBreak);
    }
    if raw_len(user) >= MAX_USERNAME {
        return Err(EntryProblem::UserTooLong);
    }
    if raw_len(secret) >= MAX_PASSWORD {
        return Err(EntryProblem::SecretTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Besides facts.md's [RUN] cases, these behaviours were checked by hand against PgBouncer
    // 1.18 (Debian 1.18.0-1+deb12u1): a user-only line takes the next line's user as its
    // secret and that user is lost silently; junk between the fields is skipped; a third
    // field is ignored; a 127-byte user loads and a 128-byte one (also 64 doubled quotes)
    // stops the file with "username too long in auth file"; a 2047-byte secret loads and a
    // 2048-byte one stops it with "password too long in auth file"; a UTF-8 BOM gives
    // "broken auth file" and no users; a NUL byte ends the file without a message.
    const MD5: &str = "md54e8e284407a8e714c4d7c4722e72ac3f";

    fn users(u: &Userlist) -> Vec<&str> {
        u.entries.iter().map(|e| e.user.as_str()).collect()
    }

    #[test]
    fn plain_file() {
        let text = format!("\"trader\" \"{MD5}\"\n\"admin\" \"plainpw\"\n");
        let u = Userlist::parse(&text);
        assert_eq!(users(&u), ["trader", "admin"]);
        assert_eq!(u.broken, None);
        assert_eq!(u.comments, Vec::<usize>::new());
        let t = u.get("trader").expect("present");
        assert_eq!(t.secret, MD5);
        assert_eq!(t.kind(), SecretKind::Md5);
        assert_eq!(t.line, 1);
        assert_eq!(&text[t.user_span.clone()], "trader");
        assert_eq!(&text[t.secret_span.clone()], MD5);
        assert_eq!(&text[t.separator.clone()], " ");
        assert_eq!(t.trailing, None);
        let a = u.get("admin").expect("present");
        assert_eq!((a.line, a.secret_line), (2, 2));
        assert_eq!(a.kind(), SecretKind::Plain);
        assert_eq!(&text[a.secret_span.clone()], "plainpw");
        assert!(u.get("nobody").is_none());
    }

    #[test]
    fn semicolon_comment_is_fine() {
        let text = ";; users\n\"a\" \"1\"\n   ; indented comment\n\"b\" \"2\"\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a", "b"]);
        assert_eq!(u.comments, [1, 3]);
        assert_eq!(u.broken, None);
    }

    #[test]
    fn hash_line_breaks_and_later_users_are_lost() {
        let text = "\"a\" \"1\"\n# generated by hand\n\"b\" \"2\"\n  \"c\" \"3\"\n\"a\" \"4\"\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a"]);
        let b = u.broken.as_ref().expect("broken");
        assert_eq!(b.reason, BrokenReason::HashComment);
        assert_eq!(b.line, 2);
        assert_eq!(&text[b.span.clone()], "# generated by hand");
        assert_eq!(b.reason.pgbouncer_message(), Some("broken auth file"));
        // `a` is loaded from line 1, so only b and c are lost.
        assert_eq!(u.users_lost_after_break(text), ["b", "c"]);
        assert_eq!(u.get("a").map(|e| e.secret.as_str()), Some("1"));
    }

    #[test]
    fn other_unquoted_lines_break() {
        for (text, reason, line) in [
            (
                "\"a\" \"1\"\nb \"2\"\n\"c\" \"3\"",
                BrokenReason::NotQuoted,
                2,
            ),
            ("user pw\n", BrokenReason::NotQuoted, 1),
            ("'a' '1'\n", BrokenReason::NotQuoted, 1),
            ("\u{feff}\"a\" \"1\"\n", BrokenReason::ByteOrderMark, 1),
            ("\n\n  #x\n", BrokenReason::HashComment, 3),
        ] {
            let u = Userlist::parse(text);
            let b = u.broken.as_ref().expect(text);
            assert_eq!((b.reason, b.line), (reason, line), "{text:?}");
        }
        let text = "\"a\" \"1\"\nb \"2\"\n\"c\" \"3\"";
        assert_eq!(Userlist::parse(text).users_lost_after_break(text), ["c"]);
        let text = "\u{feff}\"a\" \"1\"\n\"b\" \"2\"\n";
        let u = Userlist::parse(text);
        assert!(u.entries.is_empty());
        assert_eq!(u.users_lost_after_break(text), ["b"]);
    }

    #[test]
    fn doubled_quotes() {
        // Verified on PgBouncer 1.18: user p_quo"te, password p"w.
        let text = "\"p_quo\"\"te\" \"p\"\"w\"\n";
        let u = Userlist::parse(text);
        let e = u.get("p_quo\"te").expect("present");
        assert_eq!(e.secret, "p\"w");
        assert_eq!(&text[e.user_span.clone()], "p_quo\"\"te");
        assert_eq!(&text[e.secret_span.clone()], "p\"\"w");
        // Fields made only of quotes, and empty fields.
        let text = "\"\"\"\" \"\"\n\"\" \"x\"\"\"\n";
        let u = Userlist::parse(text);
        let got: Vec<(&str, &str)> = u
            .entries
            .iter()
            .map(|e| (e.user.as_str(), e.secret.as_str()))
            .collect();
        assert_eq!(got, [("\"", ""), ("", "x\"")]);
    }

    #[test]
    fn third_field_and_junk_are_ignored() {
        let text = "\"a\" \"1\" \"\"\n\"b\" \"2\" trailing junk  \r\n\"c\" \"3\"\r\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a", "b", "c"]);
        assert_eq!(u.broken, None);
        let a = u.get("a").expect("a");
        assert_eq!(a.trailing.clone().map(|r| &text[r]), Some("\"\""));
        let b = u.get("b").expect("b");
        assert_eq!(b.trailing.clone().map(|r| &text[r]), Some("trailing junk"));
        assert_eq!(b.secret, "2");
        assert_eq!(u.get("c").expect("c").trailing, None);
    }

    #[test]
    fn tabs_indentation_blank_lines_crlf() {
        let text = "\r\n\t  \"a\"\t\t\"1\"\r\n\r\n   \r\n\x0b\x0c\"b\" \t \"2\"\r\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a", "b"]);
        assert_eq!(u.broken, None);
        let a = u.get("a").expect("a");
        assert_eq!(a.secret, "1");
        assert_eq!(a.line, 2);
        assert_eq!(&text[a.separator.clone()], "\t\t");
        let b = u.get("b").expect("b");
        assert_eq!((b.line, b.secret.as_str()), (5, "2"));
        assert_eq!(&text[b.user_span.clone()], "b");
        assert_eq!(b.trailing, None, "the CR is not junk");
    }

    #[test]
    fn uppercase_md5_is_plaintext() {
        let upper = MD5.to_uppercase().replacen("MD5", "md5", 1);
        let text = format!("\"trader\" \"{upper}\"\n");
        let u = Userlist::parse(&text);
        let e = u.get("trader").expect("present");
        assert_eq!(e.kind(), SecretKind::Plain);
        assert!(crate::auth::looks_like_uppercase_md5(&e.secret));
    }

    #[test]
    fn duplicate_users_last_wins() {
        let text = "\"a\" \"1\"\n\"b\" \"x\"\n\"a\" \"2\"\n";
        let u = Userlist::parse(text);
        assert_eq!(u.entries.len(), 3);
        let a = u.get("a").expect("a");
        assert_eq!((a.secret.as_str(), a.line), ("2", 3));
        let shadowed: Vec<usize> = u.shadowed().iter().map(|e| e.line).collect();
        assert_eq!(shadowed, [1]);
    }

    #[test]
    fn quotes_reach_across_lines() {
        // A line with only a user name takes the next line's user name as its secret, and the
        // rest of that line is ignored: `b` disappears without an error.
        let text = "\"a\"\n\"b\" \"2\"\n\"c\" \"3\"\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a", "c"]);
        let a = u.get("a").expect("a");
        assert_eq!(a.secret, "b");
        assert_eq!((a.line, a.secret_line), (1, 2));
        assert_eq!(&text[a.separator.clone()], "\n");
        assert_eq!(u.broken, None);
        // Junk between the fields is skipped.
        let text = "\"a\" junk \"1\"\n";
        let a = Userlist::parse(text).entries.remove(0);
        assert_eq!(a.secret, "1");
        assert_eq!(&text[a.separator], " junk ");
        // A field may contain a line break.
        let u = Userlist::parse("\"a\nb\" \"1\"\n");
        assert_eq!(users(&u), ["a\nb"]);
    }

    #[test]
    fn unterminated_and_missing() {
        let text = "\"a\" \"1\"\n\"b\" \"2\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a"]);
        let b = u.broken.as_ref().expect("broken");
        assert_eq!((b.reason, b.line), (BrokenReason::UnterminatedQuote, 2));
        assert_eq!(&text[b.span.clone()], "\"2");

        let text = "\"a\" \"1\"\n\"b\n";
        let b = Userlist::parse(text).broken.expect("broken");
        assert_eq!((b.reason, b.line), (BrokenReason::UnterminatedQuote, 2));
        assert_eq!(&text[b.span], "\"b");

        let text = "\"a\" \"1\"\n\"b\"  \r\n";
        let b = Userlist::parse(text).broken.expect("broken");
        assert_eq!((b.reason, b.line), (BrokenReason::MissingSecret, 2));
        assert_eq!(&text[b.span], "\"b\"");

        // A doubled quote at the very end does not close the field.
        let b = Userlist::parse("\"a\"\"").broken.expect("broken");
        assert_eq!(b.reason, BrokenReason::UnterminatedQuote);
        assert!(Userlist::parse("").broken.is_none());
        assert!(Userlist::parse("  \n\r\n").entries.is_empty());
    }

    #[test]
    fn length_limits() {
        let ok_user = "u".repeat(MAX_USERNAME - 1);
        let long_user = "u".repeat(MAX_USERNAME);
        let u = Userlist::parse(&format_entry(&ok_user, "x"));
        assert_eq!(users(&u), [ok_user.as_str()]);
        let text = format!(
            "\"a\" \"1\"\n{}\"z\" \"2\"\n",
            format_entry(&long_user, "x")
        );
        let u = Userlist::parse(&text);
        let b = u.broken.as_ref().expect("broken");
        assert_eq!((b.reason, b.line), (BrokenReason::UserTooLong, 2));
        assert_eq!(
            b.reason.pgbouncer_message(),
            Some("username too long in auth file")
        );
        assert_eq!(b.span.len(), MAX_USERNAME + 2);
        assert_eq!(u.users_lost_after_break(&text), ["z"]);
        // Doubled quotes count twice: 63 quotes are 126 raw bytes, 64 are 128.
        assert!(
            Userlist::parse(&format_entry(&"\"".repeat(63), "x"))
                .broken
                .is_none()
        );
        assert_eq!(
            Userlist::parse(&format_entry(&"\"".repeat(64), "x"))
                .broken
                .map(|b| b.reason),
            Some(BrokenReason::UserTooLong)
        );
        // Multi-byte characters count in bytes.
        assert_eq!(
            Userlist::parse(&format_entry(&"\u{e9}".repeat(64), "x"))
                .broken
                .map(|b| b.reason),
            Some(BrokenReason::UserTooLong)
        );

        let ok_secret = "s".repeat(MAX_PASSWORD - 1);
        let long_secret = "s".repeat(MAX_PASSWORD);
        assert!(
            Userlist::parse(&format_entry("a", &ok_secret))
                .broken
                .is_none()
        );
        let u = Userlist::parse(&format_entry("a", &long_secret));
        assert!(u.entries.is_empty());
        assert_eq!(
            u.broken.map(|b| b.reason),
            Some(BrokenReason::SecretTooLong)
        );
        let u = Userlist::parse_with_max_password(
            &format_entry("a", &long_secret),
            MAX_PASSWORD_MASTER,
        );
        assert_eq!(u.entries.len(), 1);
    }

    #[test]
    fn nul_byte_ends_the_file() {
        let text = "\"a\" \"1\"\n\0\"b\" \"2\"\n";
        let u = Userlist::parse(text);
        assert_eq!(users(&u), ["a"]);
        let b = u.broken.as_ref().expect("broken");
        assert_eq!(
            (b.reason, b.line, b.span.clone()),
            (BrokenReason::NulByte, 2, 8..9)
        );
        assert_eq!(b.reason.pgbouncer_message(), None);
        assert_eq!(u.users_lost_after_break(text), ["b"]);
        // Inside a field.
        let u = Userlist::parse("\"a\" \"1\0\"\n\"b\" \"2\"\n");
        assert!(u.entries.is_empty());
        assert_eq!(u.broken.map(|b| b.reason), Some(BrokenReason::NulByte));
    }

    #[test]
    fn spans_point_at_the_right_bytes() {
        let text = "; c\n  \"\u{e9}l\u{e8}ve\"   \"p\u{e4}ss\"  x \n\"o\"\"k\" \"s\"";
        let u = Userlist::parse(text);
        assert_eq!(u.broken, None);
        for e in &u.entries {
            assert_eq!(
                String::from_utf8_lossy(&unquote(text[e.user_span.clone()].as_bytes())),
                e.user
            );
            assert_eq!(
                String::from_utf8_lossy(&unquote(text[e.secret_span.clone()].as_bytes())),
                e.secret
            );
            assert_eq!(&text[e.user_span.start - 1..e.user_span.start], "\"");
            assert_eq!(&text[e.secret_span.end..e.secret_span.end + 1], "\"");
        }
        let e = &u.entries[0];
        assert_eq!(
            (e.line, e.user.as_str(), e.secret.as_str()),
            (2, "\u{e9}l\u{e8}ve", "p\u{e4}ss")
        );
        assert_eq!(e.trailing.clone().map(|r| &text[r]), Some("x"));
        assert_eq!(u.entries[1].line, 3);
    }

    #[test]
    fn parse_bytes_handles_invalid_utf8() {
        let bytes = b"\"a\xff\xfeb\" \"p\xc3w\"  j\xff\n#\n\"lost\" \"x\"\n";
        let u = Userlist::parse_bytes(bytes);
        let text = String::from_utf8_lossy(bytes);
        let e = &u.entries[0];
        assert_eq!(e.user, "a\u{fffd}\u{fffd}b");
        assert_eq!(e.secret, "p\u{fffd}w");
        assert_eq!(&text[e.user_span.clone()], e.user);
        assert_eq!(&text[e.secret_span.clone()], e.secret);
        assert_eq!(e.trailing.clone().map(|r| &text[r]), Some("j\u{fffd}"));
        let b = u.broken.as_ref().expect("broken");
        assert_eq!(
            (b.reason, &text[b.span.clone()]),
            (BrokenReason::HashComment, "#")
        );
        assert_eq!(u.users_lost_after_break(&text), ["lost"]);
        // Limits count the file's bytes, not the replacement characters.
        let mut long = b"\"".to_vec();
        long.extend(std::iter::repeat_n(0xffu8, MAX_USERNAME - 1));
        long.extend_from_slice(b"\" \"x\"\n");
        let u = Userlist::parse_bytes(&long);
        assert_eq!(u.broken, None);
        assert_eq!(u.entries[0].user.chars().count(), MAX_USERNAME - 1);
        // Valid UTF-8 gives the same as parse.
        let s = "\"a\" \"1\"\n#\n";
        assert_eq!(Userlist::parse_bytes(s.as_bytes()), Userlist::parse(s));
    }

    #[test]
    fn debug_hides_secrets() {
        let text = "\"alice\" \"hunter2-very-secret\"\n";
        let u = Userlist::parse(text);
        let dbg = format!("{u:?}");
        assert!(dbg.contains("alice") && dbg.contains("<plain>"), "{dbg}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        let text = format!("\"t\" \"{MD5}\"\n");
        let dbg = format!("{:?}", Userlist::parse(&text).entries[0]);
        assert!(dbg.contains("<md5>") && !dbg.contains("4e8e2844"), "{dbg}");
    }

    #[test]
    fn writer() {
        assert_eq!(quote_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_field(""), "\"\"");
        assert_eq!(
            format_entry("trader", MD5),
            format!("\"trader\" \"{MD5}\"\n")
        );
        assert_eq!(check_entry("a", "b"), Ok(()));
        assert_eq!(check_entry("a\0", "b"), Err(EntryProblem::Nul));
        assert_eq!(check_entry("a", "b\r"), Err(EntryProblem::LineBreak));
        assert_eq!(
            check_entry(&"u".repeat(128), "b"),
            Err(EntryProblem::UserTooLong)
        );
        assert_eq!(
            check_entry(&"\"".repeat(64), "b"),
            Err(EntryProblem::UserTooLong)
        );
        assert_eq!(
            check_entry("u", &"s".repeat(2048)),
            Err(EntryProblem::SecretTooLong)
        );
        assert_eq!(check_entry(&"u".repeat(127), &"s".repeat(2047)), Ok(()));
    }

    fn check_invariants(text: &str, u: &Userlist) {
        for e in &u.entries {
            assert!(text.get(e.user_span.clone()).is_some());
            assert!(text.get(e.secret_span.clone()).is_some());
            assert!(text.get(e.separator.clone()).is_some());
            if let Some(t) = &e.trailing {
                assert!(text.get(t.clone()).is_some());
            }
            assert!(e.line >= 1 && e.secret_line >= e.line);
        }
        if let Some(b) = &u.broken {
            assert!(text.get(b.span.clone()).is_some(), "{b:?}");
            assert!(b.line >= 1);
        }
        let _ = u.users_lost_after_break(text);
        let _ = u.users_lost_after_break("");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let u = Userlist::parse(&text);
            check_invariants(&text, &u);
        }

        #[test]
        fn parse_never_panics_on_userlist_like(text in "[\"\";#\t\r\n \u{0}a\u{e9}\u{feff}]{0,80}") {
            let u = Userlist::parse(&text);
            check_invariants(&text, &u);
            for e in &u.entries {
                prop_assert_eq!(unquote_lossy(text[e.user_span.clone()].as_bytes()), e.user.clone());
            }
        }

        #[test]
        fn parse_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let u = Userlist::parse_bytes(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            check_invariants(&text, &u);
        }

        #[test]
        fn parse_bytes_userlist_like(bytes in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b'\n'), Just(b' '), Just(b';'), Just(0xffu8), Just(0xc3u8), Just(0xa9u8), Just(b'a'), Just(0u8)], 0..80)) {
            let u = Userlist::parse_bytes(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            check_invariants(&text, &u);
        }

        #[test]
        fn format_then_parse_round_trips(
            pairs in proptest::collection::vec(("[^\n\r\u{0}]{0,30}", "[^\n\r\u{0}]{0,60}"), 1..6)
        ) {
            let pairs: Vec<(String, String)> = pairs
                .into_iter()
                .filter(|(u, s)| check_entry(u, s).is_ok())
                .collect();
            let text: String = pairs.iter().map(|(u, s)| format_entry(u, s)).collect();
            let list = Userlist::parse(&text);
            prop_assert_eq!(&list.broken, &None);
            let got: Vec<(String, String)> = list
                .entries
                .iter()
                .map(|e| (e.user.clone(), e.secret.clone()))
                .collect();
            prop_assert_eq!(got, pairs.clone());
            for (i, e) in list.entries.iter().enumerate() {
                prop_assert_eq!(e.line, i + 1);
                prop_assert_eq!(e.trailing.clone(), None);
            }
            // CRLF and indentation change nothing.
            let crlf: String = pairs.iter().map(|(u, s)| format!("  {}", format_entry(u, s).replace('\n', "\r\n"))).collect();
            let again: Vec<(String, String)> = Userlist::parse(&crlf)
                .entries
                .iter()
                .map(|e| (e.user.clone(), e.secret.clone()))
                .collect();
            prop_assert_eq!(again, pairs);
        }
    }

    #[test]
    fn secrets_after_the_break_are_found_for_redaction() {
        let text = "\"a\" \"pw1\"\n# \"old\" \"pw2\"\n\"b\" \"p\"\"w3\"\n\"c\" \"open\n";
        let list = Userlist::parse(text);
        assert!(list.broken.is_some());
        let found: Vec<&str> = list
            .unloaded_secret_spans(text)
            .into_iter()
            .map(|s| &text[s])
            .collect();
        // The loaded entry's secret is an entry's `secret_span`, not one of these.
        assert_eq!(found, ["pw2", "p\"\"w3", "open"]);
        assert!(
            Userlist::parse("\"a\" \"pw\"\n")
                .unloaded_secret_spans("\"a\" \"pw\"\n")
                .is_empty()
        );
    }
}
