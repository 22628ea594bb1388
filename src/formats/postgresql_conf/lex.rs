//! The token rules of PostgreSQL's `guc-file.l` (byte-identical in 13–18), applied the way
//! flex applies them: the longest match wins, and on a tie the rule listed first.
//!
//! Rule order in guc-file.l: `\n`, `[ \t\r]+`, `#.*`, ID, QUALIFIED_ID, STRING,
//! UNQUOTED_STRING, INTEGER, REAL, `=`, `.` (anything else: an error token).
//! Bytes ≥ 0x80 are LETTERs, so a token boundary never falls inside a UTF-8 sequence except
//! after a backslash in a string, which the string then continues past.

/// A token kind (`GUC_*` in guc-file.l).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Eol,
    Id,
    QualifiedId,
    String,
    Unquoted,
    Integer,
    Real,
    Equals,
    /// Any other single byte (flex's `.` rule).
    Error,
}

/// One token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// A cursor over a file's bytes that yields tokens, skipping whitespace and comments.
pub struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// 1-based line of the next byte; counted as `\n` tokens go by (linear, like the lexer).
    pub line: usize,
    /// No string can start before this offset: a scan for a closing quote already reached the
    /// end of the line without one, and later quotes on that line fare no better (backslash
    /// pairs line up the same way). Keeps `'\'\'\'…` lines linear.
    no_string_before: usize,
}

fn is_letter(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_letter_or_digit(b: u8) -> bool {
    is_letter(b) || b.is_ascii_digit()
}

/// Length of the run of bytes from `at` satisfying `pred`.
fn run(bytes: &[u8], at: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(at..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| pred(b)).count())
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            no_string_before: 0,
        }
    }

    /// The next token, or `None` at the end of the text.
    pub fn next_token(&mut self) -> Option<Token> {
        loop {
            let b = *self.bytes.get(self.pos)?;
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => self.pos += run(self.bytes, self.pos, |c| c != b'\n'),
                _ => break,
            }
        }
        let start = self.pos;
        let string = if start < self.no_string_before {
            0
        } else {
            let (len, scanned_to) = string_len(self.bytes, start);
            if len == 0 {
                self.no_string_before = scanned_to;
            }
            len
        };
        let (kind, len) = longest_match(self.bytes, start, string);
        self.pos = start + len;
        if kind == Tok::Eol {
            self.line += 1;
        }
        Some(Token {
            kind,
            start,
            end: self.pos,
        })
    }
}

/// The token flex would return at `at` (which is not whitespace or a comment), and its length;
/// `string` is the length of the STRING match there.
fn longest_match(bytes: &[u8], at: usize, string: usize) -> (Tok, usize) {
    let b = bytes[at];
    if b == b'\n' {
        return (Tok::Eol, 1);
    }
    // Candidates in guc-file.l's rule order; the first of the longest wins.
    let candidates = [
        (Tok::Id, id_len(bytes, at)),
        (Tok::QualifiedId, qualified_id_len(bytes, at)),
        (Tok::String, string),
        (Tok::Unquoted, unquoted_len(bytes, at)),
        (Tok::Integer, integer_len(bytes, at)),
        (Tok::Real, real_len(bytes, at)),
        (Tok::Equals, usize::from(b == b'=')),
    ];
    let mut best = (Tok::Error, 1);
    let mut best_len = 0;
    for (kind, len) in candidates {
        if len > best_len {
            best = (kind, len);
            best_len = len;
        }
    }
    best
}

fn id_len(bytes: &[u8], at: usize) -> usize {
    if !bytes.get(at).copied().is_some_and(is_letter) {
        return 0;
    }
    1 + run(bytes, at + 1, is_letter_or_digit)
}

fn qualified_id_len(bytes: &[u8], at: usize) -> usize {
    let first = id_len(bytes, at);
    if first == 0 || bytes.get(at + first) != Some(&b'.') {
        return 0;
    }
    match id_len(bytes, at + first + 1) {
        0 => 0,
        second => first + 1 + second,
    }
}

fn unquoted_len(bytes: &[u8], at: usize) -> usize {
    if !bytes.get(at).copied().is_some_and(is_letter) {
        return 0;
    }
    1 + run(bytes, at + 1, |c| {
        is_letter_or_digit(c) || matches!(c, b'-' | b'.' | b'_' | b':' | b'/')
    })
}

/// `\'([^'\\\n]|\\.|\'\')*\'`: the match length (0 when the string is not closed on its
/// line) and how far the scan went.
fn string_len(bytes: &[u8], at: usize) -> (usize, usize) {
    if bytes.get(at) != Some(&b'\'') {
        return (0, at);
    }
    let mut i = at + 1;
    // The longest match: a closing quote followed by another quote continues as `''`.
    let mut longest = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\n' => break,
            b'\\' => match bytes.get(i + 1) {
                Some(&n) if n != b'\n' => i += 2,
                _ => break,
            },
            b'\'' => {
                longest = i + 1 - at;
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    break;
                }
            }
            _ => i += 1,
        }
    }
    (longest, i)
}

fn sign_len(bytes: &[u8], at: usize) -> usize {
    usize::from(matches!(bytes.get(at), Some(b'-' | b'+')))
}

/// `{SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*`
fn integer_len(bytes: &[u8], at: usize) -> usize {
    let s = sign_len(bytes, at);
    let mut best = 0;
    let digits = run(bytes, at + s, |c| c.is_ascii_digit());
    if digits > 0 {
        let end = at + s + digits;
        best = s + digits + run(bytes, end, |c| c.is_ascii_alphabetic());
    }
    if bytes.get(at + s) == Some(&b'0') && bytes.get(at + s + 1) == Some(&b'x') {
        let hex = run(bytes, at + s + 2, |c| c.is_ascii_hexdigit());
        if hex > 0 {
            let end = at + s + 2 + hex;
            best = best.max(s + 2 + hex + run(bytes, end, |c| c.is_ascii_alphabetic()));
        }
    }
    best
}

/// `{SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?` with `[Ee]{SIGN}?{DIGIT}+`
fn real_len(bytes: &[u8], at: usize) -> usize {
    let mut i = at + sign_len(bytes, at);
    i += run(bytes, i, |c| c.is_ascii_digit());
    if bytes.get(i) != Some(&b'.') {
        return 0;
    }
    i += 1;
    i += run(bytes, i, |c| c.is_ascii_digit());
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let s = sign_len(bytes, i + 1);
        let digits = run(bytes, i + 1 + s, |c| c.is_ascii_digit());
        if digits > 0 {
            i += 1 + s + digits;
        }
    }
    i - at
}

/// `DeescapeQuotedString`: strip the quotes, turn `''` into `'`, and resolve `\b \f \n \r \t`,
/// `\ooo` (octal, up to three digits) and `\x` → `x`. The result is a C string, so an octal
/// `\0` ends it there.
pub fn deescape(token: &str) -> String {
    let bytes = token.as_bytes();
    let inner = bytes.get(1..bytes.len().saturating_sub(1)).unwrap_or(&[]);
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while let Some(&c) = inner.get(i) {
        let byte = match c {
            b'\\' => {
                i += 1;
                match inner.get(i).copied() {
                    Some(b'b') => 0x08,
                    Some(b'f') => 0x0c,
                    Some(b'n') => b'\n',
                    Some(b'r') => b'\r',
                    Some(b't') => b'\t',
                    Some(b'0'..=b'7') => {
                        let digits = run(inner, i, |d| (b'0'..=b'7').contains(&d)).min(3);
                        let value = inner[i..i + digits]
                            .iter()
                            .fold(0u32, |v, d| (v << 3) + u32::from(d - b'0'));
                        i += digits - 1;
                        // C stores it in a char: only the low byte survives.
                        (value & 0xff) as u8
                    }
                    Some(other) => other,
                    None => break,
                }
            }
            b'\'' if inner.get(i + 1) == Some(&b'\'') => {
                i += 1;
                b'\''
            }
            other => other,
        };
        if byte == 0 {
            break;
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(Tok, &str)> {
        let mut lexer = Lexer::new(text);
        std::iter::from_fn(|| lexer.next_token())
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn flex_longest_match_and_rule_order() {
        use Tok::*;
        assert_eq!(tokens("1.5GB"), [(Real, "1.5"), (Id, "GB")]);
        assert_eq!(tokens("7GB"), [(Integer, "7GB")]);
        assert_eq!(tokens("1e1"), [(Integer, "1e"), (Integer, "1")]);
        assert_eq!(
            tokens("1.0e1 .5 -3"),
            [(Real, "1.0e1"), (Real, ".5"), (Integer, "-3")]
        );
        assert_eq!(
            tokens("0x64 0X64"),
            [(Integer, "0x64"), (Integer, "0X"), (Integer, "64")]
        );
        assert_eq!(
            tokens("a.b a.b.c a.b/c"),
            [
                (QualifiedId, "a.b"),
                (Unquoted, "a.b.c"),
                (Unquoted, "a.b/c")
            ]
        );
        assert_eq!(
            tokens("conf.d my-cluster.v1:prod/a"),
            [(QualifiedId, "conf.d"), (Unquoted, "my-cluster.v1:prod/a")]
        );
        assert_eq!(
            tokens("%m \"x"),
            [(Error, "%"), (Id, "m"), (Error, "\""), (Id, "x")]
        );
        assert_eq!(
            tokens("a='it''s' # c\r\n"),
            [(Id, "a"), (Equals, "="), (String, "'it''s'"), (Eol, "\n")]
        );
        assert_eq!(tokens("'ab\n"), [(Error, "'"), (Id, "ab"), (Eol, "\n")]);
        assert_eq!(tokens("'a\\'b'"), [(String, "'a\\'b'")]);
        assert_eq!(tokens("\u{feff}x"), [(Id, "\u{feff}x")]);
        assert_eq!(tokens("'\\'\\''"), [(String, "'\\'\\''")]);
        use Tok::Error as E;
        assert_eq!(
            tokens("'\\'\\'x"),
            [
                (E, "'"),
                (E, "\\"),
                (E, "'"),
                (E, "\\"),
                (E, "'"),
                (Id, "x")
            ]
        );
        assert_eq!(tokens("'a\\'b'c"), [(String, "'a\\'b'"), (Id, "c")]);
    }

    #[test]
    fn deescaping_follows_postgres() {
        assert_eq!(deescape("'it''s'"), "it's");
        assert_eq!(deescape("'it\\'s'"), "it's");
        assert_eq!(deescape("'a\\tb\\n\\q\\\\'"), "a\tb\nq\\");
        assert_eq!(deescape("'\\101\\1012'"), "AA2");
        assert_eq!(deescape("'a\\000b'"), "a");
        assert_eq!(deescape("''"), "");
        assert_eq!(deescape("'a#b'"), "a#b");
    }
}
