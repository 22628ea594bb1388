//! Password secrets as PostgreSQL stores them and PgBouncer reads them from `auth_file`:
//! plaintext, `md5` and SCRAM-SHA-256.
//!
//! Classification follows PgBouncer's `get_password_type` (src/scram.c) exactly, quirks included:
//! md5 is `md5` followed by exactly 32 *lowercase* hex digits; SCRAM is whatever PgBouncer's
//! `parse_scram_secret` accepts (a `strtok`-based split, a `strtol` iteration count, PostgreSQL's
//! base64 decoder, 32-byte keys); anything else is a plaintext password.
//!
//! SCRAM verifiers are computed the way PostgreSQL computes them (`scram_build_secret`): the
//! password goes through SASLprep first, and when SASLprep fails (prohibited characters, bidi
//! rules, unassigned code points, or a result that maps to nothing) the raw UTF-8 bytes are used.
//!
//! No type here prints a password or a verifier in its `Debug` output.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// How PgBouncer (and PostgreSQL) store a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretKind {
    /// The password itself.
    Plain,
    /// `md5` + hex(md5(password ‖ username)).
    Md5,
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
    ScramSha256,
}

impl SecretKind {
    /// All kinds, in a stable order.
    pub const ALL: [SecretKind; 3] = [SecretKind::Plain, SecretKind::Md5, SecretKind::ScramSha256];

    /// The type with its article, for a message: "an md5", "a plain", "a scram-sha-256".
    pub fn with_article(self) -> &'static str {
        match self {
            SecretKind::Plain => "a plain",
            SecretKind::Md5 => "an md5",
            SecretKind::ScramSha256 => "a scram-sha-256",
        }
    }

    /// `"plain"`, `"md5"` or `"scram-sha-256"` (PgBouncer's and PostgreSQL's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Plain => "plain",
            SecretKind::Md5 => "md5",
            SecretKind::ScramSha256 => "scram-sha-256",
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`SecretKind::from_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSecretKind(pub String);

impl fmt::Display for UnknownSecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown secret type \"{}\" (expected plain, md5 or scram-sha-256)",
            self.0
        )
    }
}

impl std::error::Error for UnknownSecretKind {}

impl FromStr for SecretKind {
    type Err = UnknownSecretKind;

    /// Accepts `plain`, `md5`, `scram-sha-256`, ASCII case-insensitively (as PgBouncer's enum
    /// lookups are).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownSecretKind(s.to_owned()))
    }
}

/// Errors from making secrets.
#[derive(Debug)]
pub enum AuthError {
    /// The operating system's random number generator failed (no salt could be made).
    Random(String),
    /// The password cannot be written as a plaintext userlist secret: PgBouncer would read it as
    /// a secret of this kind instead (it looks like an md5 hash or a SCRAM verifier).
    AmbiguousPlaintext(SecretKind),
    /// The password contains a NUL character, which neither PostgreSQL nor PgBouncer can store
    /// or receive (both use C strings).
    NulInPassword,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Random(e) => write!(f, "could not get random bytes for a salt: {e}"),
            AuthError::AmbiguousPlaintext(kind) => write!(
                f,
                "this password cannot be stored as plaintext in userlist.txt: PgBouncer would \
                 read it as an {kind} secret; store it as md5 or scram-sha-256 instead"
            ),
            AuthError::NulInPassword => f.write_str(
                "the password contains a NUL character, which PostgreSQL and PgBouncer cannot use",
            ),
        }
    }
}

impl std::error::Error for AuthError {}

/// Iterations PostgreSQL uses by default (`scram_iterations`, 4096).
pub const SCRAM_ITERATIONS: u32 = 4096;
/// The most SCRAM iterations poolstack will verify: a verifier with more (a hostile file can say
/// 2^31−1, minutes of PBKDF2) is treated as unverifiable and replaced where poolstack writes it.
/// PostgreSQL writes 4096 unless `scram_iterations` (16+) says otherwise.
pub const MAX_VERIFY_ITERATIONS: u32 = 100_000;
/// Salt length PostgreSQL uses (`SCRAM_DEFAULT_SALT_LEN`).
pub const SCRAM_SALT_LEN: usize = 16;
/// Length of StoredKey and ServerKey (SHA-256 output).
pub const SCRAM_KEY_LEN: usize = 32;

const MD5_PREFIX: &str = "md5";
const MD5_HEX_LEN: usize = 32;

/// How PgBouncer classifies a userlist secret: md5 iff "md5" + exactly 32 lowercase hex; SCRAM
/// iff it parses as `SCRAM-SHA-256$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>` (with
/// PgBouncer's own lenient parser, see [`parse_scram`]); anything else plaintext.
///
/// Note: PgBouncer calls a SCRAM secret with an iteration count below 1 SCRAM too;
/// [`parse_scram`] returns `None` for those, so `classify` can say SCRAM where `parse_scram`
/// declines.
pub fn classify(secret: &str) -> SecretKind {
    if is_md5_secret(secret) {
        SecretKind::Md5
    } else if parse_scram_raw(secret).is_some() {
        SecretKind::ScramSha256
    } else {
        SecretKind::Plain
    }
}

fn is_md5_secret(secret: &str) -> bool {
    secret.len() == MD5_PREFIX.len() + MD5_HEX_LEN
        && secret.starts_with(MD5_PREFIX)
        && secret.as_bytes()[MD5_PREFIX.len()..]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for "md5" + 32 hex chars with at least one uppercase letter (PgBouncer takes it as
/// PLAINTEXT: a classic mistake) — for AUT007. The prefix is matched case-insensitively, so
/// `MD5` + 32 hex digits (also plaintext to PgBouncer) counts too.
pub fn looks_like_uppercase_md5(secret: &str) -> bool {
    let b = secret.as_bytes();
    b.len() == MD5_PREFIX.len() + MD5_HEX_LEN
        && b[..3].eq_ignore_ascii_case(MD5_PREFIX.as_bytes())
        && b[3..].iter().all(u8::is_ascii_hexdigit)
        && !is_md5_secret(secret)
}

/// True for exactly 32 hex chars (either case) without the md5 prefix (AUT007). Beware: a random
/// hex password (`openssl rand -hex 16`) looks exactly like this.
pub fn looks_like_unprefixed_md5(secret: &str) -> bool {
    secret.len() == MD5_HEX_LEN && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `"md5"` + hex(md5(password ‖ user)), PostgreSQL's md5 password format.
pub fn md5_secret(user: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(password.as_bytes());
    h.update(user.as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(MD5_PREFIX.len() + MD5_HEX_LEN);
    out.push_str(MD5_PREFIX);
    for byte in digest.iter() {
        out.push(hex_digit(byte >> 4));
        out.push(hex_digit(byte & 0x0f));
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0x0f)])
}

/// A parsed SCRAM-SHA-256 verifier. `Debug` shows the iteration count and the salt length only.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("kind", &SecretKind::ScramSha256.as_str())
            .field("iterations", &self.iterations)
            .field("salt_len", &self.salt.len())
            .field("keys", &"<hidden>")
            .finish()
    }
}

impl ScramVerifier {
    /// The verifier in PostgreSQL's text format (standard base64 with padding).
    pub fn to_secret(&self) -> String {
        format_scram(
            i64::from(self.iterations),
            &self.salt,
            &self.stored_key,
            &self.server_key,
        )
    }

    /// Does this verifier accept `password`?
    pub fn accepts(&self, password: &str) -> bool {
        let (stored, server) = scram_keys(password, &self.salt, self.iterations);
        ct_eq(&stored, &self.stored_key) & ct_eq(&server, &self.server_key)
    }
}

/// Parse a SCRAM-SHA-256 verifier with PgBouncer's (= PostgreSQL's) rules:
/// the text is split like `strtok` does (runs of `$`/`:` delimiters collapse, leading ones are
/// skipped), the scheme must be exactly `SCRAM-SHA-256`, the iteration count is read like
/// `strtol(…, 10)` (leading whitespace and a sign allowed, nothing after the digits) and
/// truncated to a C `int`, the salt must be valid base64 for PostgreSQL's decoder (no
/// whitespace, length a multiple of 4, `=` only as padding), and StoredKey and ServerKey must
/// decode to exactly 32 bytes.
///
/// Returns `None` when PgBouncer would not take it as SCRAM, and also when the iteration count
/// is below 1 (PgBouncer accepts those as SCRAM; such a verifier is useless, see [`classify`]).
pub fn parse_scram(secret: &str) -> Option<ScramVerifier> {
    let raw = parse_scram_raw(secret)?;
    let iterations = u32::try_from(raw.iterations).ok().filter(|&i| i >= 1)?;
    Some(ScramVerifier {
        iterations,
        salt: raw.salt,
        stored_key: raw.stored_key,
        server_key: raw.server_key,
    })
}

struct RawScram {
    /// As PgBouncer stores it: `strtol` result truncated to a C int.
    iterations: i32,
    salt: Vec<u8>,
    stored_key: [u8; 32],
    server_key: [u8; 32],
}

fn parse_scram_raw(secret: &str) -> Option<RawScram> {
    let mut rest = secret;
    let scheme = strtok(&mut rest, b"$")?;
    let iterations = strtok(&mut rest, b":")?;
    let salt = strtok(&mut rest, b"$")?;
    let stored = strtok(&mut rest, b":")?;
    let server = strtok(&mut rest, b"")?;
    if scheme != "SCRAM-SHA-256" {
        return None;
    }
    let iterations = strtol10(iterations)?;
    let salt = pg_b64_decode(salt.as_bytes())?;
    let stored_key = key32(&pg_b64_decode(stored.as_bytes())?)?;
    let server_key = key32(&pg_b64_decode(server.as_bytes())?)?;
    Some(RawScram {
        // C converts the long to int modulo 2^32 (gcc/clang); so do we.
        iterations: iterations as i32,
        salt,
        stored_key,
        server_key,
    })
}

fn key32(bytes: &[u8]) -> Option<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).ok()
}

/// `strtok(NULL, delims)` over `rest`: skip leading delimiters, take up to the next delimiter
/// (which is consumed). An empty delimiter set takes the whole remainder. `None` when nothing
/// is left.
fn strtok<'a>(rest: &mut &'a str, delims: &[u8]) -> Option<&'a str> {
    let s = *rest;
    let start = s
        .bytes()
        .position(|b| !delims.contains(&b))
        .unwrap_or(s.len());
    let s = &s[start..];
    if s.is_empty() {
        *rest = s;
        return None;
    }
    match s.bytes().position(|b| delims.contains(&b)) {
        Some(end) => {
            // The delimiter is ASCII, so `end + 1` is a char boundary.
            *rest = &s[end + 1..];
            Some(&s[..end])
        }
        None => {
            *rest = "";
            Some(s)
        }
    }
}

/// C `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `strtol(s, &end, 10)` that must consume all of `s`, with `errno` checking (out of range for
/// a 64-bit long is an error).
fn strtol10(s: &str) -> Option<i64> {
    let b = s.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let (negative, digits) = match b.as_bytes().first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.bytes() {
        let d = i64::from(c - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(d)?
        } else {
            value.checked_add(d)?
        };
    }
    Some(value)
}

/// PostgreSQL's `pg_b64_decode` (src/common/base64.c), which PgBouncer carries too: standard
/// alphabet; any whitespace is an error; `=` may appear only at the 3rd or 4th position of a
/// quad, after which every further `=` is taken as zero bits; the input must end on a quad
/// boundary; non-zero trailing bits are accepted.
fn pg_b64_decode(src: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut buf: u32 = 0;
    let mut pos = 0u8;
    let mut end = 0u8;
    for &c in src {
        let bits = match c {
            b' ' | b'\t' | b'\n' | b'\r' => return None,
            b'=' => {
                if end == 0 {
                    end = match pos {
                        2 => 1,
                        3 => 2,
                        _ => return None,
                    };
                }
                0
            }
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buf = (buf << 6) | bits;
        pos += 1;
        if pos == 4 {
            let [_, b0, b1, b2] = buf.to_be_bytes();
            out.push(b0);
            if end == 0 || end > 1 {
                out.push(b1);
            }
            if end == 0 || end > 2 {
                out.push(b2);
            }
            buf = 0;
            pos = 0;
        }
    }
    (pos == 0).then_some(out)
}

/// The password bytes PostgreSQL feeds to PBKDF2: SASLprep'd, or the raw UTF-8 bytes when
/// SASLprep fails (PostgreSQL's `pg_saslprep` also refuses a password that maps to nothing).
fn scram_password_bytes(password: &str) -> Cow<'_, [u8]> {
    match stringprep::saslprep(password) {
        Ok(prepped) if !prepped.is_empty() || password.is_empty() => match prepped {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        _ => Cow::Borrowed(password.as_bytes()),
    }
}

fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than the hash's 64-byte block, so padding the 32-byte key
    // ourselves gives the same MAC and lets us use the infallible fixed-size constructor.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// (StoredKey, ServerKey) for a password, salt and iteration count. PostgreSQL runs one PBKDF2
/// round for any count below 2, as does this.
fn scram_keys(password: &str, salt: &[u8], iterations: u32) -> ([u8; 32], [u8; 32]) {
    let prepped = scram_password_bytes(password);
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(&prepped, salt, iterations.max(1), &mut salted);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac_sha256(&salted, b"Server Key");
    (stored_key, server_key)
}

fn format_scram(iterations: i64, salt: &[u8], stored: &[u8; 32], server: &[u8; 32]) -> String {
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored),
        BASE64.encode(server)
    )
}

/// A SCRAM-SHA-256 verifier in PostgreSQL's exact format (standard base64 with padding) for
/// `password` with the given salt and iteration count. Byte-identical to what PostgreSQL
/// stores for the same inputs. The salt must not be empty (an empty base64 field does not
/// parse back, in PgBouncer or here) and `iterations` should be at least 1 (0 is computed as
/// one round, as PostgreSQL does).
pub fn scram_secret_with_salt(password: &str, salt: &[u8], iterations: u32) -> String {
    let (stored, server) = scram_keys(password, salt, iterations);
    format_scram(i64::from(iterations), salt, &stored, &server)
}

/// A fresh SCRAM-SHA-256 verifier: a random 16-byte salt from the OS, 4096 iterations.
pub fn scram_secret(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; SCRAM_SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(scram_secret_with_salt(password, &salt, SCRAM_ITERATIONS))
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Does `secret` (any kind) accept `password` for `user`? plaintext: equality; md5: recompute;
/// SCRAM: recompute StoredKey and ServerKey with the verifier's salt and iterations.
///
/// A SCRAM verifier that PgBouncer accepts with an iteration count below 1 is checked with one
/// round, as PostgreSQL would; one with more than [`MAX_VERIFY_ITERATIONS`] is not checked at
/// all (false: see [`unverifiable_iterations`]).
pub fn verifies(user: &str, password: &str, secret: &str) -> bool {
    verifies_within(user, password, secret, MAX_VERIFY_ITERATIONS).unwrap_or(false)
}

/// The iteration count of a SCRAM verifier poolstack will not verify (more than
/// [`MAX_VERIFY_ITERATIONS`]), for a "not verified: N iterations" note.
pub fn unverifiable_iterations(secret: &str) -> Option<i64> {
    parse_scram_raw(secret)
        .map(|raw| i64::from(raw.iterations))
        .filter(|&n| n > i64::from(MAX_VERIFY_ITERATIONS))
}

fn verifies_uncapped(user: &str, password: &str, secret: &str) -> bool {
    match classify(secret) {
        SecretKind::Plain => ct_eq(password.as_bytes(), secret.as_bytes()),
        SecretKind::Md5 => ct_eq(md5_secret(user, password).as_bytes(), secret.as_bytes()),
        SecretKind::ScramSha256 => match parse_scram_raw(secret) {
            Some(raw) => {
                let iterations = u32::try_from(raw.iterations).unwrap_or(1);
                let (stored, server) = scram_keys(password, &raw.salt, iterations);
                ct_eq(&stored, &raw.stored_key) & ct_eq(&server, &raw.server_key)
            }
            None => false,
        },
    }
}

/// Like [`verifies`], but `None` (not checked) when `secret` is a SCRAM verifier with more than
/// `max_iterations` iterations, so a hostile file cannot make a lint run for minutes.
pub fn verifies_within(
    user: &str,
    password: &str,
    secret: &str,
    max_iterations: u32,
) -> Option<bool> {
    if let Some(raw) = parse_scram_raw(secret)
        && i64::from(raw.iterations) > i64::from(max_iterations)
    {
        return None;
    }
    Some(verifies_uncapped(user, password, secret))
}

/// Make a secret of `kind` for user/password; reuse `existing` verbatim when it is of that kind
/// and still verifies (so re-rendering is byte-stable).
///
/// Errors: [`AuthError::NulInPassword`]; [`AuthError::AmbiguousPlaintext`] when `kind` is
/// plain but PgBouncer would read the password as an md5 or SCRAM secret;
/// [`AuthError::Random`] when no salt can be had.
pub fn secret_for(
    kind: SecretKind,
    user: &str,
    password: &str,
    existing: Option<&str>,
) -> Result<String, AuthError> {
    if password.contains('\0') {
        return Err(AuthError::NulInPassword);
    }
    if let Some(existing) = existing
        && classify(existing) == kind
        && verifies(user, password, existing)
    {
        return Ok(existing.to_owned());
    }
    match kind {
        SecretKind::Plain => match classify(password) {
            SecretKind::Plain => Ok(password.to_owned()),
            other => Err(AuthError::AmbiguousPlaintext(other)),
        },
        SecretKind::Md5 => Ok(md5_secret(user, password)),
        SecretKind::ScramSha256 => scram_secret(password),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Verifiers obtained from PostgreSQL 15.18 (`SET password_encryption = 'scram-sha-256';
    /// CREATE ROLE … PASSWORD …; SELECT rolpassword FROM pg_authid`), recorded by hand.
    /// (role, password as created, verifier)
    const PG_SCRAM: &[(&str, &str, &str)] = &[
        (
            "v_ascii",
            "trader123",
            "SCRAM-SHA-256$4096:4HtJJE5bCQI77HSC1vwXUg==$3ffeut4cospissS7tTZ3oa6FqQaEAzd3vreQFeE+4R0=:dZAG2UOn5qavObXMO6rxQIEjU7aL+gwsAh++3AxE1BQ=",
        ),
        (
            "v_quote",
            "p\"w'x y",
            "SCRAM-SHA-256$4096:E8SKszCDEWB2BYy5QWXUdw==$ZMfjKsSmkppd8rtApUrM/KY+swo4rD+LowAaSPzPhRk=:VhTynKzaBaTXhtdvWXY/tXlJ+X0ZTkyT1eevRiSO6QU=",
        ),
        (
            "v_nonascii",
            "p\u{e4}ssw\u{f6}rd\u{20ac}",
            "SCRAM-SHA-256$4096:vXFLLMW9IRY5RWCGSMxhgg==$wiOOIvBTo/LtINqEnutOqpkeHSc52drG9JLD05rHkLc=:Rva/F6BVGYprb19+UWb0LpoMOJHnM8tdVEdk9mDtMUQ=",
        ),
        (
            // SASLprep maps the no-break space to a plain space.
            "v_nbsp",
            "correct\u{a0}horse",
            "SCRAM-SHA-256$4096:lrLhgiC/cBzziSFQcAnr5A==$w6cABxt0Sj9rOtYAZy6pGFmVfF5+FK1Ac2YPjyBdq/8=:of3xgQH8I1evvoPRkjqF1SKgfbpobT+aGuD+kZuhTsE=",
        ),
        (
            // SASLprep maps the soft hyphen to nothing.
            "v_shy",
            "pass\u{ad}word",
            "SCRAM-SHA-256$4096:EqSRp3wofvgzOMkEHuBXMg==$sq0NqpQoYMXBGbLStm/w8Iy5QW8gfs0Q9JI95b8Jyug=:hjS8hNnZPZ2SnzwBelz3MaRbDSf6gyU/dpPZO3Pyc6I=",
        ),
        (
            // NFKC turns fullwidth letters into ASCII.
            "v_fullwidth",
            "\u{ff50}\u{ff41}\u{ff53}\u{ff53}",
            "SCRAM-SHA-256$4096:xMFbe2szL81vlmlX0tDezw==$UV5pobsC6kpy8jcG0Q1l0T4y3mA5P5zywu3o3Dps57w=:XViLS/APXjcy0knS2/9PEHrMd8dBXq9CPc0zdHwU1gQ=",
        ),
        (
            // A private-use character is prohibited: SASLprep fails, raw bytes are used.
            "v_private",
            "x\u{e000}y",
            "SCRAM-SHA-256$4096:YMjMtcksu6HzzmXhmBnfyQ==$QbkS0CBvVzDH+50SxWljEk06XNBLDYZVC/YUAuVPB38=:w2ctKDWNzXLfUWc8D27h0igfadYR4Te/Ty4rroR4zzQ=",
        ),
        (
            // Maps to the empty string: PostgreSQL refuses that and uses the raw bytes.
            "v_onlyshy",
            "\u{ad}",
            "SCRAM-SHA-256$4096:4u2KcFYBy/sF7UkCHZQ4Cw==$Jyb9k4eDDoEVG5rAaP/xMM+L7DkZ5BunmMPCxYhE8+c=:2lVZV5HUHQV5uqIiij2O1L7ygv+ci2w4hlOFQ5KRtrA=",
        ),
    ];

    /// From the same server with `password_encryption = 'md5'`; also checked with Python's
    /// hashlib: `'md5' + md5(b'trader123trader').hexdigest()`.
    const PG_MD5: &[(&str, &str, &str)] = &[
        ("trader", "trader123", "md54e8e284407a8e714c4d7c4722e72ac3f"),
        (
            "alice",
            "p\u{e4}ssw\u{f6}rd\u{20ac}",
            "md59164c095aa9b6884338a33ded5cb617f",
        ),
    ];

    #[test]
    fn md5_known_vectors() {
        for (user, pw, want) in PG_MD5 {
            assert_eq!(md5_secret(user, pw), *want, "{user}");
            assert_eq!(classify(want), SecretKind::Md5);
            assert!(verifies(user, pw, want));
            assert!(!verifies(user, "wrong", want));
            // The user is part of the hash: right password, other user fails.
            assert!(!verifies("someone", pw, want));
        }
        // Wrong concatenation order (user ‖ password) is a classic mistake and differs.
        assert_ne!(
            md5_secret("trader", "trader123"),
            md5_secret("trader123", "trader")
        );
    }

    #[test]
    fn scram_known_vectors_from_postgres() {
        for (role, pw, verifier) in PG_SCRAM {
            assert_eq!(classify(verifier), SecretKind::ScramSha256, "{role}");
            let v = parse_scram(verifier).expect("PostgreSQL's verifier parses");
            assert_eq!(v.iterations, 4096);
            assert_eq!(v.salt.len(), 16);
            assert_eq!(v.to_secret(), *verifier, "{role}: re-encoding");
            assert!(verifies(role, pw, verifier), "{role}: right password");
            assert!(v.accepts(pw));
            assert!(!verifies(role, "wrong", verifier), "{role}: wrong password");
            assert!(!verifies(role, &format!("{pw}x"), verifier), "{role}");
            assert_eq!(
                scram_secret_with_salt(pw, &v.salt, 4096),
                *verifier,
                "{role}: byte-for-byte reproduction"
            );
        }
    }

    #[test]
    fn saslprep_equivalences_match_postgres() {
        let find = |role: &str| {
            PG_SCRAM
                .iter()
                .find(|(r, _, _)| *r == role)
                .map(|(_, _, v)| *v)
                .unwrap_or_default()
        };
        // Mapped passwords verify with their SASLprep'd form too.
        assert!(verifies("x", "correct horse", find("v_nbsp")));
        assert!(verifies("x", "password", find("v_shy")));
        assert!(verifies("x", "pass", find("v_fullwidth")));
        // SASLprep failed there: the raw bytes count, the "cleaned" string does not.
        assert!(!verifies("x", "xy", find("v_private")));
        assert!(!verifies("x", "", find("v_onlyshy")));
    }

    #[test]
    fn scram_secret_is_fresh_and_verifies() {
        let a = scram_secret("s3cret").expect("os rng");
        let b = scram_secret("s3cret").expect("os rng");
        assert_ne!(a, b, "random salt");
        for s in [&a, &b] {
            assert_eq!(classify(s), SecretKind::ScramSha256);
            let v = parse_scram(s).expect("parses");
            assert_eq!(v.iterations, SCRAM_ITERATIONS);
            assert_eq!(v.salt.len(), SCRAM_SALT_LEN);
            assert!(verifies("u", "s3cret", s));
            assert!(!verifies("u", "s3cret ", s));
        }
    }

    #[test]
    fn classify_edge_cases() {
        let md5 = "md54e8e284407a8e714c4d7c4722e72ac3f";
        assert_eq!(classify(md5), SecretKind::Md5);
        assert_eq!(
            classify("md54E8E284407A8E714C4D7C4722E72AC3F"),
            SecretKind::Plain
        );
        assert_eq!(
            classify("MD54e8e284407a8e714c4d7c4722e72ac3f"),
            SecretKind::Plain
        );
        assert_eq!(classify(&md5[..34]), SecretKind::Plain, "31 hex digits");
        assert_eq!(classify(&format!("{md5}0")), SecretKind::Plain, "33");
        assert_eq!(
            classify("md54e8e284407a8e714c4d7c4722e72ac3g"),
            SecretKind::Plain
        );
        assert_eq!(
            classify("4e8e284407a8e714c4d7c4722e72ac3f"),
            SecretKind::Plain
        );
        assert_eq!(classify(""), SecretKind::Plain);
        assert_eq!(classify("trader123"), SecretKind::Plain);
        assert_eq!(classify("md5"), SecretKind::Plain);
    }

    fn sample_scram() -> String {
        scram_secret_with_salt("pw", b"0123456789abcdef", 4096)
    }

    /// The `strtok` / `strtol` / int-truncation cases below were also checked against
    /// PgBouncer 1.18 (Debian 1.18.0-1+deb12u1, auth_type=plain, password "pw"): leading `$`,
    /// ` +4096`, `::4096` and `4294971392` are taken as SCRAM (and accept "pw"), `$$4096` is
    /// plaintext.
    #[test]
    fn scram_parse_follows_pgbouncer_quirks() {
        let good = sample_scram();
        let (head, keys) = good.split_once("$4096:").expect("shape");
        assert_eq!(head, "SCRAM-SHA-256");
        let (salt, keys) = keys.split_once('$').expect("shape");
        let (stored, server) = keys.split_once(':').expect("shape");
        let mk = |it: &str, salt: &str, stored: &str, server: &str| {
            format!("SCRAM-SHA-256${it}:{salt}${stored}:{server}")
        };
        assert_eq!(classify(&good), SecretKind::ScramSha256);
        // The scheme is compared exactly.
        assert_eq!(
            classify(&good.replacen("SCRAM-SHA-256", "scram-sha-256", 1)),
            SecretKind::Plain
        );
        // strtok: leading delimiters of the *current* set are skipped, others are not.
        assert_eq!(classify(&format!("${good}")), SecretKind::ScramSha256);
        assert_eq!(
            classify(&format!("SCRAM-SHA-256$::4096:{salt}$::{stored}:{server}")),
            SecretKind::ScramSha256
        );
        assert_eq!(
            classify(&format!("SCRAM-SHA-256$$4096:{salt}${stored}:{server}")),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&format!("SCRAM-SHA-256$4096:{salt}$${stored}:{server}")),
            SecretKind::Plain
        );
        // strtol: leading blanks and a sign are fine, trailing junk is not.
        assert_eq!(
            classify(&mk(" +4096", salt, stored, server)),
            SecretKind::ScramSha256
        );
        assert_eq!(
            classify(&mk("4096 ", salt, stored, server)),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&mk("4096x", salt, stored, server)),
            SecretKind::Plain
        );
        assert_eq!(classify(&mk("", salt, stored, server)), SecretKind::Plain);
        assert_eq!(
            classify(&mk("99999999999999999999", salt, stored, server)),
            SecretKind::Plain,
            "overflows a long"
        );
        // Iterations below 1: SCRAM to PgBouncer, but parse_scram declines.
        for it in ["0", "-5"] {
            let s = mk(it, salt, stored, server);
            assert_eq!(classify(&s), SecretKind::ScramSha256);
            assert!(parse_scram(&s).is_none());
        }
        // 2^32 + 4096 truncates to a C int of 4096.
        let wrapped = mk("4294971392", salt, stored, server);
        assert_eq!(parse_scram(&wrapped).map(|v| v.iterations), Some(4096));
        // Base64: no whitespace, quads only, 32-byte keys.
        assert_eq!(
            classify(&mk("4096", salt, &format!(" {stored}"), server)),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&mk("4096", salt, stored, &server[..40])),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&mk("4096", "abc", stored, server)),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&mk("4096", "=abc", stored, server)),
            SecretKind::Plain
        );
        assert_eq!(
            classify(&mk("4096", "ab=c", stored, server)),
            SecretKind::ScramSha256
        );
        assert_eq!(
            classify(&mk("4096", "a-_b", stored, server)),
            SecretKind::Plain
        );
        assert_eq!(classify(&format!("{good}$")), SecretKind::Plain);
        assert_eq!(classify(&format!("{good}==")), SecretKind::Plain);
        // Missing parts.
        assert_eq!(classify("SCRAM-SHA-256$4096:abcd$"), SecretKind::Plain);
        assert_eq!(classify("SCRAM-SHA-256"), SecretKind::Plain);
    }

    #[test]
    fn pg_base64_decoder() {
        assert_eq!(pg_b64_decode(b""), Some(vec![]));
        assert_eq!(pg_b64_decode(b"cHc="), Some(b"pw".to_vec()));
        assert_eq!(pg_b64_decode(b"cA=="), Some(b"p".to_vec()));
        assert_eq!(pg_b64_decode(b"cA="), None);
        assert_eq!(pg_b64_decode(b"cA"), None);
        assert_eq!(pg_b64_decode(b"c==="), None);
        assert_eq!(pg_b64_decode(b"cA==\n"), None);
        assert_eq!(pg_b64_decode("cA\u{e9}=".as_bytes()), None);
    }

    #[test]
    fn looks_like_checks() {
        assert!(looks_like_uppercase_md5(
            "md54E8E284407A8E714C4D7C4722E72AC3F"
        ));
        assert!(looks_like_uppercase_md5(
            "md54e8e284407a8e714c4d7c4722e72aC3f"
        ));
        assert!(looks_like_uppercase_md5(
            "MD54e8e284407a8e714c4d7c4722e72ac3f"
        ));
        assert!(!looks_like_uppercase_md5(
            "md54e8e284407a8e714c4d7c4722e72ac3f"
        ));
        assert!(!looks_like_uppercase_md5(
            "md54E8E284407A8E714C4D7C4722E72AC3"
        ));
        assert!(!looks_like_uppercase_md5(
            "md54E8E284407A8E714C4D7C4722E72AC3G"
        ));
        assert!(!looks_like_uppercase_md5(""));
        assert!(!looks_like_uppercase_md5(
            "md5\u{e9}8e284407a8e714c4d7c4722e72ac3"
        ));

        assert!(looks_like_unprefixed_md5(
            "4e8e284407a8e714c4d7c4722e72ac3f"
        ));
        assert!(looks_like_unprefixed_md5(
            "4E8E284407A8E714C4D7C4722E72AC3F"
        ));
        assert!(!looks_like_unprefixed_md5(
            "md54e8e284407a8e714c4d7c4722e72ac3f"
        ));
        assert!(!looks_like_unprefixed_md5(
            "4e8e284407a8e714c4d7c4722e72ac3"
        ));
        assert!(!looks_like_unprefixed_md5(
            "4e8e284407a8e714c4d7c4722e72ac3g"
        ));
    }

    #[test]
    fn verifies_plain() {
        assert!(verifies("u", "pw", "pw"));
        assert!(!verifies("u", "pw", "pw "));
        assert!(!verifies("u", "pw", ""));
    }

    #[test]
    fn verifies_within_limits_scram_cost() {
        let s = scram_secret_with_salt("pw", b"salt", 5000);
        assert_eq!(verifies_within("u", "pw", &s, 4096), None);
        assert_eq!(verifies_within("u", "pw", &s, 5000), Some(true));
        assert_eq!(verifies_within("u", "no", &s, 5000), Some(false));
        assert_eq!(verifies_within("u", "pw", "pw", 0), Some(true));
    }

    /// A verifier claiming 2^31−1 iterations would take minutes: it is not verified (false, at
    /// once), it is named as unverifiable, and `secret_for` replaces it.
    #[test]
    fn huge_iteration_counts_are_never_computed() {
        let (_, pw, verifier) = PG_SCRAM[0];
        let hostile = verifier.replacen("$4096:", "$2147483647:", 1);
        assert!(!verifies("v_ascii", pw, &hostile));
        assert_eq!(unverifiable_iterations(&hostile), Some(2_147_483_647));
        assert_eq!(unverifiable_iterations(verifier), None);
        let fresh = secret_for(SecretKind::ScramSha256, "v_ascii", pw, Some(&hostile)).unwrap();
        assert_ne!(fresh, hostile);
        assert!(fresh.starts_with("SCRAM-SHA-256$4096:"));
    }

    #[test]
    fn secret_for_reuses_or_replaces() {
        let (_, pw, verifier) = PG_SCRAM[0];
        // Kept byte for byte when it verifies and is of the asked kind.
        assert_eq!(
            secret_for(SecretKind::ScramSha256, "trader", pw, Some(verifier)).expect("ok"),
            verifier
        );
        // Replaced when it does not verify.
        let fresh =
            secret_for(SecretKind::ScramSha256, "trader", "newpw", Some(verifier)).expect("ok");
        assert_ne!(fresh, verifier);
        assert!(verifies("trader", "newpw", &fresh));
        // Replaced when of another kind, even if it verifies.
        let md5 = secret_for(SecretKind::Md5, "trader", pw, Some(verifier)).expect("ok");
        assert_eq!(md5, "md54e8e284407a8e714c4d7c4722e72ac3f");
        assert_eq!(
            secret_for(SecretKind::Md5, "trader", pw, Some(&md5)).expect("ok"),
            md5
        );
        // md5 of another user does not verify for this one.
        assert_eq!(
            secret_for(SecretKind::Md5, "other", pw, Some(&md5)).expect("ok"),
            md5_secret("other", pw)
        );
        assert_eq!(
            secret_for(SecretKind::Plain, "u", "pw", Some("old")).expect("ok"),
            "pw"
        );
        assert_eq!(
            secret_for(SecretKind::Plain, "u", "pw", None).expect("ok"),
            "pw"
        );
        // A plaintext password PgBouncer would misread.
        assert!(matches!(
            secret_for(SecretKind::Plain, "u", &md5, None),
            Err(AuthError::AmbiguousPlaintext(SecretKind::Md5))
        ));
        assert!(matches!(
            secret_for(SecretKind::Plain, "u", verifier, None),
            Err(AuthError::AmbiguousPlaintext(SecretKind::ScramSha256))
        ));
        assert!(matches!(
            secret_for(SecretKind::Md5, "u", "a\0b", None),
            Err(AuthError::NulInPassword)
        ));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let (_, _, verifier) = PG_SCRAM[0];
        let v = parse_scram(verifier).expect("parses");
        let dbg = format!("{v:?}");
        assert!(
            dbg.contains("scram-sha-256") && dbg.contains("4096"),
            "{dbg}"
        );
        for part in verifier.split(['$', ':']) {
            if part.len() > 8 {
                assert!(!dbg.contains(part), "{dbg}");
            }
        }
        let e = AuthError::AmbiguousPlaintext(SecretKind::Md5);
        assert!(e.to_string().contains("md5"));
    }

    #[test]
    fn kind_names_round_trip() {
        for k in SecretKind::ALL {
            assert_eq!(k.as_str().parse::<SecretKind>(), Ok(k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(
            "SCRAM-SHA-256".parse::<SecretKind>(),
            Ok(SecretKind::ScramSha256)
        );
        assert!("sha256".parse::<SecretKind>().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn classify_and_parse_never_panic(s in any::<String>()) {
            let _ = classify(&s);
            let _ = parse_scram(&s);
            let _ = looks_like_uppercase_md5(&s);
            let _ = looks_like_unprefixed_md5(&s);
        }

        #[test]
        fn classify_never_panics_on_scram_like(s in "SCRAM-SHA-256[$:]{0,2}[ +-]?[0-9]{0,12}[$:]{1,2}[A-Za-z0-9+/=:$ ]{0,60}") {
            let _ = classify(&s);
            let _ = parse_scram(&s);
        }

        #[test]
        fn md5_secret_is_always_md5(user in any::<String>(), pw in any::<String>()) {
            let s = md5_secret(&user, &pw);
            prop_assert_eq!(classify(&s), SecretKind::Md5);
            prop_assert!(verifies(&user, &pw, &s));
        }

        #[test]
        fn scram_round_trips(pw in any::<String>(), salt in proptest::collection::vec(any::<u8>(), 1..24)) {
            let s = scram_secret_with_salt(&pw, &salt, 2);
            prop_assert_eq!(classify(&s), SecretKind::ScramSha256);
            let v = parse_scram(&s).expect("own output parses");
            prop_assert_eq!(&v.salt, &salt);
            prop_assert_eq!(v.iterations, 2);
            prop_assert_eq!(v.to_secret(), s.clone());
            prop_assert!(verifies("u", &pw, &s));
        }
    }
}
