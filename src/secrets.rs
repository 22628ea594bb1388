//! Passwords, fetched from where the manifest says (environment, file, prompt) and never shown.

use crate::diag::InputError;
use crate::manifest::PasswordSource;
use crate::stack::Stack;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// A password in memory. Its Debug never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: String) -> Password {
        Password(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

/// Whether missing passwords are an error (render writes) or simply unknown (render --check, check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Every user's password is needed: a missing one is exit 2. Prompts are allowed on a terminal.
    All,
    /// Use what the environment and files give; never prompt; missing ones stay unknown.
    IfAvailable,
}

/// The users' passwords that could be obtained.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    passwords: BTreeMap<String, Password>,
    /// Known stored verifiers (`verifier = { userlist = … }`), by user. Never shown.
    verifiers: BTreeMap<String, Password>,
}

impl Secrets {
    pub fn get(&self, user: &str) -> Option<&Password> {
        self.passwords.get(user)
    }

    pub fn insert(&mut self, user: &str, password: Password) {
        self.passwords.insert(user.to_string(), password);
    }

    /// The verifier PostgreSQL stores for `user`, when the manifest says where it is known from
    /// and it could be read.
    pub fn known_verifier(&self, user: &str) -> Option<&str> {
        self.verifiers.get(user).map(Password::expose)
    }

    /// True when every user of the stack has a known password.
    pub fn complete_for(&self, stack: &Stack) -> bool {
        stack
            .users
            .iter()
            .all(|u| self.passwords.contains_key(&u.name.value))
    }

    /// Fetch each user's password from its source.
    pub fn resolve(stack: &Stack, need: Need) -> Result<Secrets, InputError> {
        let base = stack
            .manifest_path
            .as_ref()
            .and_then(|p| p.parent().map(|d| d.to_path_buf()))
            .unwrap_or_default();
        let mut out = Secrets::default();
        for user in &stack.users {
            let name = &user.name.value;
            let located = |msg: String| -> InputError {
                let loc = user
                    .password
                    .as_ref()
                    .and_then(|p| p.loc().cloned())
                    .or_else(|| user.name.loc().cloned());
                match loc {
                    Some(l) => InputError::located(msg, l, &stack.sources),
                    None => InputError::new(msg),
                }
            };
            let Some(source) = &user.password else {
                if need == Need::All {
                    return Err(located(format!("user `{name}` has no password source"))
                        .with_help("add `password = { env = \"VAR\" }` (or { file = \"path\" }, or { prompt = true })"));
                }
                continue;
            };
            let got = match &source.value {
                PasswordSource::Literal(s) => Some(s.0.clone()),
                PasswordSource::Env { env } => match std::env::var(env) {
                    Ok(v) => Some(v),
                    Err(std::env::VarError::NotPresent) => {
                        if need == Need::All {
                            return Err(located(format!("the password of user `{name}` comes from ${env}, which is not set"))
                                .with_help(format!("set it for this command, e.g. `{env}=… poolstack render`, or export it from your secret store")));
                        }
                        None
                    }
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(located(format!(
                            "${env} (the password of user `{name}`) is not valid UTF-8"
                        )));
                    }
                },
                PasswordSource::File { file } => {
                    let path = base.join(file);
                    match crate::fsutil::read_bounded(&path, PASSWORD_FILE_LIMIT) {
                        Ok(bytes) => match String::from_utf8(bytes) {
                            Ok(mut s) => {
                                // A password file ends with one newline, which is not part of the password.
                                if s.ends_with('\n') {
                                    s.pop();
                                    if s.ends_with('\r') {
                                        s.pop();
                                    }
                                }
                                Some(s)
                            }
                            Err(_) => {
                                return Err(located(format!(
                                    "the password file {} of user `{name}` is not UTF-8 text",
                                    path.display()
                                )));
                            }
                        },
                        Err(e) => {
                            if need == Need::All {
                                return Err(located(format!(
                                    "cannot read the password file {} of user `{name}`: {e}",
                                    path.display()
                                )));
                            }
                            None
                        }
                    }
                }
                PasswordSource::Prompt { .. } => {
                    if need == Need::All {
                        if !std::io::stdin().is_terminal() {
                            return Err(located(format!("the password of user `{name}` is to be typed, but there is no terminal"))
                                .with_help("run on a terminal, or give it with { env = \"VAR\" } / { file = \"path\" }"));
                        }
                        let typed = rpassword::prompt_password(format!(
                            "Password for PostgreSQL user {name}: "
                        ))
                        .map_err(|e| {
                            located(format!("cannot read the password of user `{name}`: {e}"))
                        })?;
                        Some(typed)
                    } else {
                        None
                    }
                }
            };
            if let Some(p) = got {
                if p.is_empty() {
                    return Err(located(format!("the password of user `{name}` is empty"))
                        .with_help("PgBouncer refuses empty passwords: every login would fail"));
                }
                // Checked here, where the password's source has a place, not later where a
                // secret is computed and the error could only name the user.
                if p.contains('\0') {
                    return Err(located(format!("the password of user `{name}` holds a NUL byte"))
                        .with_help("neither PostgreSQL nor PgBouncer can use such a password: fix its source"));
                }
                out.insert(name, Password(p));
            }
        }
        out.verifiers = known_verifiers(stack, need)?;
        Ok(out)
    }
}

/// The largest password file read (PgBouncer takes passwords up to 2,048 bytes; a device such
/// as /dev/zero would otherwise be read until memory runs out).
const PASSWORD_FILE_LIMIT: u64 = 1024 * 1024;
/// Largest verifier file read (a userlist of 10,000 users is well under 2 MiB).
const MAX_VERIFIER_FILE: u64 = 64 << 20;

/// Each `verifier = { userlist = "…" }` entry, read from its file. With [`Need::All`] a file that
/// cannot be read, or that has no entry for the user, is an input error located at the key;
/// otherwise such a user simply has no known verifier.
fn known_verifiers(stack: &Stack, need: Need) -> Result<BTreeMap<String, Password>, InputError> {
    use crate::formats::userlist::Userlist;
    use std::io::Read;
    let mut files: BTreeMap<std::path::PathBuf, Option<Userlist>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for user in &stack.users {
        let Some(source) = &user.verifier else {
            continue;
        };
        let name = &user.name.value;
        let path = &source.value;
        let located = |msg: String, help: &str| -> InputError {
            match source.loc() {
                Some(l) => InputError::located(msg, l.clone(), &stack.sources),
                None => InputError::new(msg),
            }
            .with_help(help.to_string())
        };
        if !files.contains_key(path) {
            let read = std::fs::File::open(path).and_then(|f| {
                if !f.metadata()?.is_file() {
                    return Err(std::io::Error::other("not a regular file"));
                }
                let mut bytes = Vec::new();
                f.take(MAX_VERIFIER_FILE).read_to_end(&mut bytes)?;
                Ok(bytes)
            });
            match read {
                Ok(bytes) => {
                    files.insert(path.clone(), Some(Userlist::parse_bytes(&bytes)));
                }
                Err(e) if need == Need::All => {
                    return Err(located(
                        format!(
                            "cannot read {}, where the verifier of user `{name}` is known from: {e}",
                            path.display()
                        ),
                        "write it with `poolstack userlist --from-postgres URL --user NAME -o FILE`, or remove `verifier` (see AUT010)",
                    ));
                }
                Err(_) => {
                    files.insert(path.clone(), None);
                }
            }
        }
        let entry = files
            .get(path)
            .and_then(Option::as_ref)
            .and_then(|list| list.get(name));
        match entry {
            Some(e) => {
                out.insert(name.clone(), Password(e.secret.clone()));
            }
            None if need == Need::All && files.get(path).is_some_and(Option::is_some) => {
                return Err(located(
                    format!(
                        "{} has no entry for user `{name}`, whose verifier the manifest says is known from it",
                        path.display()
                    ),
                    "copy the role's verifier with `poolstack userlist --from-postgres URL --user NAME -o FILE`",
                ));
            }
            None => {}
        }
    }
    Ok(out)
}
