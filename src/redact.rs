//! Finding secrets in raw text, before any parser has run (or where a parser gave up), so that
//! no report can draw one: the values of keys named like a secret (`password = "…"`,
//! `password='…'` inside a connection string, `PGPASSWORD=…`), the password of a URL
//! (`scheme://user:password@host`), and everything after the user name on a userlist line that
//! does not parse. Lexical and deliberately generous: starring too much only hides text, while
//! starring too little prints a password. Every span keeps the quotes around a value, so a
//! snippet still reads as what it was.

use std::ops::Range;

/// Whether a key names a secret value (not a variable name, a file path or a setting about
/// passwords such as `password_encryption`).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.trim_matches(['"', '\'']).to_ascii_lowercase();
    let secretish = ["password", "passwd", "secret", "pwd"]
        .iter()
        .any(|w| k.contains(w))
        || k.ends_with("pass");
    let about = [
        "encryption",
        "_env",
        "file",
        "warnings",
        "_hash",
        "_type",
        "_query",
        "iterations",
    ];
    secretish && !about.iter().any(|a| k.ends_with(a))
}

/// `value` with everything but surrounding quotes starred out (for messages that quote a value).
pub fn mask(value: &str) -> String {
    let q = |c: char| c == '"' || c == '\'';
    let lead = value.chars().take_while(|&c| q(c)).count();
    let inner: String = value.chars().skip(lead).collect();
    let trail_quotes: String = inner
        .chars()
        .rev()
        .take_while(|&c| q(c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let body = inner.chars().count() - trail_quotes.chars().count();
    format!(
        "{}{}{}",
        &value[..lead],
        "*".repeat(body.max(1)),
        trail_quotes
    )
}

fn key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Spans of secret values in `text`: after keys named like a secret, and URL passwords.
pub fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    // Every place a secret-like word starts; each is looked at once, so the scan is linear.
    while let Some(hit) = ["pass", "secret", "pwd"]
        .iter()
        .filter_map(|w| lower[from..].find(w).map(|i| from + i))
        .min()
    {
        let mut start = hit;
        while start > 0 && key_byte(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = hit;
        while end < bytes.len() && key_byte(bytes[end]) {
            end += 1;
        }
        from = end.max(hit + 1);
        if !is_secret_key(&text[start..end]) {
            continue;
        }
        let mut p = end;
        if matches!(bytes.get(p), Some(b'"' | b'\'')) {
            p += 1; // a quoted key: `"password" = …`
        }
        while matches!(bytes.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        if bytes.get(p) != Some(&b'=') {
            continue;
        }
        p += 1;
        while matches!(bytes.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        if let Some(span) = value_span(bytes, p) {
            from = from.max(span.end);
            out.push(span);
        }
    }
    out.extend(url_passwords(text));
    out
}

/// The secret part of the value starting at `p` (inside its quotes), if it is one.
fn value_span(bytes: &[u8], p: usize) -> Option<Range<usize>> {
    let line_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map_or(bytes.len(), |i| from + i)
    };
    match bytes.get(p)? {
        b'{' | b'$' | b'[' | b'\n' | b'\r' => None,
        &q @ (b'"' | b'\'') => {
            let triple = bytes.get(p..p + 3) == Some(&[q, q, q][..]);
            if triple {
                let body = p + 3;
                let close = bytes[body..]
                    .windows(3)
                    .position(|w| w == [q, q, q])
                    .map_or(bytes.len(), |i| body + i);
                return Some(body..close);
            }
            let body = p + 1;
            let end = line_end(body);
            let mut i = body;
            while i < end {
                match bytes[i] {
                    b'\\' if q == b'"' => i += 2,
                    c if c == q && bytes.get(i + 1) == Some(&q) => i += 2,
                    // Text glued to the closing quote still belongs to the value (`'a'b` is one
                    // token to a connection-string reader): it is starred too.
                    c if c == q => {
                        let mut j = i + 1;
                        while j < end && !matches!(bytes[j], b' ' | b'\t') {
                            j += 1;
                        }
                        return Some(if j > i + 1 { body..j } else { body..i });
                    }
                    _ => i += 1,
                }
            }
            Some(body..end) // never closed: the rest of the line
        }
        _ => {
            let mut i = p;
            while i < bytes.len() {
                match bytes[i] {
                    b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'&' => break,
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break,
                    _ => i += 1,
                }
            }
            (i > p).then_some(p..i.min(bytes.len()))
        }
    }
}

/// `scheme://user:password@host`: the password, up to the last `@` of the URL (a password may
/// hold an unencoded `@` or `/`).
fn url_passwords(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let mut end = start;
        while end < bytes.len()
            && !matches!(
                bytes[end],
                b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'<' | b'>'
            )
        {
            end += 1;
        }
        from = end.max(start);
        let token = &text[start..end];
        let (Some(at), Some(colon)) = (token.rfind('@'), token.find(':')) else {
            continue;
        };
        if colon >= at {
            continue;
        }
        let pw = start + colon + 1..start + at;
        if !text[pw.clone()].starts_with('$') && !pw.is_empty() {
            out.push(pw);
        }
    }
    out
}

/// `text` with [`secret_spans`] starred out: every message and help text goes through this, so
/// a value quoted in a message (a duplicate's winning line, a URL) cannot carry a password.
pub fn scrub(text: String) -> String {
    let lower_hit = ["pass", "secret", "pwd"]
        .iter()
        .any(|w| text.to_ascii_lowercase().contains(w));
    if !lower_hit && !text.contains("://") {
        return text;
    }
    let spans = secret_spans(&text);
    if spans.is_empty() {
        return text;
    }
    let mut bytes = text.into_bytes();
    for r in spans {
        let end = r.end.min(bytes.len());
        // Spans end on ASCII delimiters: whole characters become stars.
        for b in &mut bytes[r.start.min(end)..end] {
            *b = b'*';
        }
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// Everything after the user name on every userlist line, whether or not it parses (an
/// unquoted secret, an unterminated or single quote, text after the entry), except the double
/// quotes and blanks, so a well-formed line still reads `"user" "****"`.
pub fn userlist_after_names(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        // A `#` line (which PgBouncer does not take as a comment) reads as the entry after it.
        let unhashed = body.trim_start().trim_start_matches('#').trim_start();
        let lead = body.len() - unhashed.len();
        let rest = &body[lead..];
        if rest.is_empty() || rest.starts_with(';') {
            continue;
        }
        let b = rest.as_bytes();
        // The user name: a `"…"` token (`""` inside), else the first word.
        let name_end = if b[0] == b'"' {
            let mut i = 1;
            loop {
                match b.get(i) {
                    None => break None,
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => break Some(i + 1),
                    Some(_) => i += 1,
                }
            }
        } else {
            rest.find([' ', '\t'])
        };
        // An unterminated name: nothing can be told apart, so all of it but the first word.
        let name_end = name_end
            .or_else(|| rest.find([' ', '\t']))
            .unwrap_or(rest.len());
        let from = start + lead + name_end;
        let mut run: Option<usize> = None;
        for (i, b) in text.as_bytes()[from..start + body.len()].iter().enumerate() {
            let keep = matches!(b, b'"' | b' ' | b'\t');
            match (keep, run) {
                (false, None) => run = Some(from + i),
                (true, Some(r)) => {
                    out.push(r..from + i);
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(r) = run {
            out.push(r..start + body.len());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starred(text: &str) -> String {
        let mut s = text.to_string();
        for r in secret_spans(text) {
            s.replace_range(r.clone(), &"*".repeat(r.len()));
        }
        s
    }

    #[test]
    fn values_of_secret_keys_are_found_in_any_syntax() {
        for (text, want) in [
            ("password = \"hunter2\"\n", "password = \"*******\"\n"),
            (
                "password = \"hunter2\nnext = 1\n",
                "password = \"*******\nnext = 1\n",
            ),
            ("password = 'it''s'\n", "password = '*****'\n"),
            (
                "password = \"\"\"a\nb\"\"\"\n",
                "password = \"\"\"***\"\"\"\n",
            ),
            (
                "app = host=db password=abc dbname=app\n",
                "app = host=db password=*** dbname=app\n",
            ),
            (
                "app = host=db password='a b\n",
                "app = host=db password='***\n",
            ),
            ("app = password=\"x y\"\n", "app = password=\"***\"\n"),
            (
                "app = password='ab'cd dbname=x\n",
                "app = password='***** dbname=x\n",
            ),
            (
                "primary_conninfo = 'host=p user=r password=s3cr3t'\n",
                "primary_conninfo = 'host=p user=r password=******'\n",
            ),
            (
                "PGPASSWORD=abc\nPGPASS=def\n",
                "PGPASSWORD=***\nPGPASS=***\n",
            ),
            (
                "[users] \"password\" = \"x\"\n",
                "[users] \"password\" = \"*\"\n",
            ),
            (
                "u = { name = \"a\", password = \"pw\" }\n",
                "u = { name = \"a\", password = \"**\" }\n",
            ),
        ] {
            assert_eq!(starred(text), want, "{text:?}");
        }
    }

    #[test]
    fn references_and_settings_about_passwords_stay() {
        for text in [
            "password = { env = \"PW\" }\n",
            "password_encryption = \"scram-sha-256\"\n",
            "password_env = \"TRADER_PASSWORD\"\n",
            "DATABASE_URL=postgresql://app:${APP_PASSWORD}@db/app\n",
            "auth_file = /etc/pgbouncer/userlist.txt\n",
            "passthrough = 1\n",
        ] {
            assert_eq!(starred(text), text);
        }
    }

    #[test]
    fn url_passwords_up_to_the_last_at() {
        assert_eq!(
            starred("DATABASE_URL=postgresql://app:pa/ss@w@db:5432/app\n"),
            "DATABASE_URL=postgresql://app:*******@db:5432/app\n"
        );
        assert_eq!(
            starred("see https://example.com/a:b\n"),
            "see https://example.com/a:b\n"
        );
    }

    #[test]
    fn unparsed_userlist_lines_keep_only_the_user_name() {
        let text = "\"ok\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n\"u1\" secret1\n\"u2\" \"open\n\"u3\" 'single'\nbare pw\n; comment\n\"unterminated name\n";
        let mut s = text.to_string();
        for r in userlist_after_names(text) {
            s.replace_range(r.clone(), &"*".repeat(r.len()));
        }
        for gone in ["secret1", "open", "single", " pw", "name"] {
            assert!(!s.contains(gone), "{gone}: {s}");
        }
        for kept in [
            "\"u1\" *******",
            "\"u2\" \"****",
            "\"u3\"",
            "bare",
            "; comment",
            "\"ok\" \"***",
        ] {
            assert!(s.contains(kept), "{kept}: {s}");
        }
    }

    #[test]
    fn masks_keep_quotes() {
        assert_eq!(mask("\"hunter2\""), "\"*******\"");
        assert_eq!(mask("abc"), "***");
    }
}
