//! Each answer of `poolstack init`, checked where it is given: the interview asks again with the
//! reason instead of failing at the end (and losing every answer). Pure functions, so each rule is
//! tested without a terminal; the messages are what the user reads under the prompt.

use crate::catalog::pgbouncer::PgbVersion;

/// A name written into the manifest: not empty, no control characters.
pub fn name(s: &str) -> Result<(), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("type a name".to_string());
    }
    if s.chars().any(char::is_control) {
        return Err("a name cannot hold control characters".to_string());
    }
    Ok(())
}

/// A host name or address: not empty, no spaces.
pub fn host(s: &str) -> Result<(), String> {
    let s = s.trim();
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{s}` is not a host name: type a name or address such as db or 10.0.0.5"
        ));
    }
    Ok(())
}

/// A TCP port, 1 to 65535.
pub fn port(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u64>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        Ok(n) => Err(format!("{n} is not a port: ports run from 1 to 65535")),
        Err(_) => Err(format!(
            "`{}` is not a port: type a whole number from 1 to 65535",
            s.trim()
        )),
    }
}

/// A count of at least 1 (replicas, processes, CPUs).
pub fn count(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n @ 1..=100_000) => Ok(n),
        Ok(0) => Err("type at least 1".to_string()),
        Ok(n) => Err(format!("{n} is more than poolstack accepts here (100000)")),
        Err(_) => Err(format!("`{}` is not a whole number", s.trim())),
    }
}

/// CPUs, or nothing to skip.
pub fn optional_count(s: &str) -> Result<Option<u32>, String> {
    match s.trim() {
        "" => Ok(None),
        t => count(t).map(Some),
    }
}

/// A size with a unit, or nothing to skip.
pub fn optional_size(s: &str) -> Result<Option<String>, String> {
    match s.trim() {
        "" => Ok(None),
        t => crate::units::Bytes::parse(t)
            .map(|_| Some(t.to_string()))
            .map_err(|e| e.0),
    }
}

/// A database name the chosen PgBouncer version can read as a [databases] key (any name without
/// PgBouncer).
pub fn database(s: &str, pgbouncer: Option<&str>) -> Result<(), String> {
    name(s)?;
    let Some(version) = pgbouncer.and_then(PgbVersion::parse) else {
        return Ok(());
    };
    match crate::stack::resolve::ini_name_problem(version, "database", s.trim()) {
        Some((problem, help)) => Err(format!("{problem}; {help}")),
        None => Ok(()),
    }
}

/// A user name: it is written quoted into userlist.txt, so only a name.
pub fn user(s: &str) -> Result<(), String> {
    name(s)?;
    if s.contains('"') {
        return Err(
            "a user name cannot hold a double quote (userlist.txt quotes names)".to_string(),
        );
    }
    Ok(())
}

/// An app name: its env file is `<name>.env` next to the manifest, and names are unique.
pub fn app(s: &str, taken: &[String]) -> Result<(), String> {
    let s = s.trim();
    name(s)?;
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        || s.starts_with('.')
    {
        return Err(format!(
            "`{s}` cannot name an app: its env file is `{s}.env`, so use letters, digits and _ - . (not first)"
        ));
    }
    if taken.iter().any(|t| t == s) {
        return Err(format!(
            "there is already an app named `{s}`: give each app its own name"
        ));
    }
    Ok(())
}

/// An environment variable name, as a shell can set it.
pub fn env_var(s: &str) -> Result<(), String> {
    let s = s.trim();
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(format!(
            "`{s}` is not an environment variable name: letters, digits and _, not starting with a digit"
        )),
    }
}

/// A path to a file.
pub fn file(s: &str) -> Result<(), String> {
    match s.trim().is_empty() {
        true => Err("type a path".to_string()),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_outside_1_to_65535_are_refused_not_replaced() {
        assert_eq!(port("6432"), Ok(6432));
        assert_eq!(port(" 1 "), Ok(1));
        assert_eq!(port("65535"), Ok(65535));
        assert_eq!(
            port("99999"),
            Err("99999 is not a port: ports run from 1 to 65535".to_string())
        );
        assert!(port("0").is_err());
        assert!(port("-1").unwrap_err().contains("whole number"));
        assert!(port("abc").is_err());
    }

    #[test]
    fn database_names_follow_what_the_pgbouncer_version_reads() {
        assert!(database("trading", Some("1.24")).is_ok());
        let e = database("trading db", Some("1.24")).unwrap_err();
        assert!(e.contains("PgBouncer 1.24 cannot read"), "{e}");
        // 1.25 reads quoted names; without PgBouncer, any name goes.
        assert!(database("trading db", Some("1.25")).is_ok());
        assert!(database("trading db", None).is_ok());
        assert!(
            database("pgbouncer", Some("1.25"))
                .unwrap_err()
                .contains("reserved")
        );
        assert!(database("", None).is_err());
    }

    #[test]
    fn app_names_are_unique_and_make_file_names() {
        let taken = vec!["api".to_string()];
        assert!(app("worker", &taken).is_ok());
        assert!(
            app("api", &taken)
                .unwrap_err()
                .contains("already an app named `api`")
        );
        assert!(app("../escape", &taken).is_err());
        assert!(app(".hidden", &taken).is_err());
        assert!(app("my app", &taken).is_err());
        assert!(app("", &taken).is_err());
    }

    #[test]
    fn counts_sizes_and_variables() {
        assert_eq!(count("3"), Ok(3));
        assert!(count("0").is_err());
        assert!(count("x").is_err());
        assert_eq!(optional_count(""), Ok(None));
        assert_eq!(optional_count("8"), Ok(Some(8)));
        assert_eq!(optional_size(""), Ok(None));
        assert_eq!(optional_size("16GB"), Ok(Some("16GB".to_string())));
        assert!(optional_size("16 gigs").is_err());
        assert!(env_var("APP_PASSWORD").is_ok());
        assert!(env_var("1X").is_err());
        assert!(env_var("A-B").is_err());
        assert!(user("app").is_ok());
        assert!(user("a\"b").is_err());
        assert!(host("db").is_ok());
        assert!(host("my db").is_err());
    }
}
