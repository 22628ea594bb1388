//! The questions of `poolstack init`, asked on the terminal with their defaults. Every answer is
//! checked where it is given ([`super::validate`]): a wrong one is asked again with the reason,
//! so no answer is lost to a mistake in another.

use super::validate;
use super::{AdminAnswer, Answers, AppAnswers, KindAnswer, PasswordAnswer, PgbouncerAnswers};
use crate::catalog::pgbouncer::PgbVersion;
use crate::diag::InputError;
use inquire::validator::Validation;
use inquire::{Confirm, Select, Text};

/// PostgreSQL majors a manifest declares (13 to 18), newest first.
fn postgres_versions() -> Vec<String> {
    (13..=18).rev().map(|v| v.to_string()).collect()
}

/// PgBouncer releases poolstack knows, newest first.
fn pgbouncer_versions() -> Vec<String> {
    let (min, max) = (PgbVersion::MIN_SUPPORTED, PgbVersion::MAX_SUPPORTED);
    (min.minor..=max.minor)
        .rev()
        .map(|m| format!("{}.{m}", max.major))
        .collect()
}

fn cancelled(e: inquire::InquireError) -> InputError {
    match e {
        inquire::InquireError::OperationCanceled | inquire::InquireError::OperationInterrupted => {
            InputError::new("init cancelled; nothing was written")
        }
        other => InputError::new(format!("cannot ask: {other}")),
    }
}

/// A text question whose answer `check` accepts (else it is asked again, with check's reason).
fn ask<T>(
    msg: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<T, String> + Clone + 'static,
) -> Result<T, InputError> {
    let validator = {
        let check = check.clone();
        move |s: &str| {
            Ok(match check(s) {
                Ok(_) => Validation::Valid,
                Err(why) => Validation::Invalid(why.into()),
            })
        }
    };
    let mut q = Text::new(msg).with_validator(validator);
    if let Some(d) = default {
        q = q.with_default(d);
    }
    let answer = q.prompt().map_err(cancelled)?;
    check(&answer).map_err(InputError::new)
}

/// A choice among `options`, the cursor on `default`.
fn choose(msg: &str, options: Vec<String>, default: &str) -> Result<String, InputError> {
    let start = options.iter().position(|o| o == default).unwrap_or(0);
    Select::new(msg, options)
        .with_starting_cursor(start)
        .prompt()
        .map_err(cancelled)
}

fn choose_str(msg: &str, options: &[&str]) -> Result<String, InputError> {
    choose(
        msg,
        options.iter().map(|s| s.to_string()).collect(),
        options[0],
    )
}

fn confirm(msg: &str, default: bool) -> Result<bool, InputError> {
    Confirm::new(msg)
        .with_default(default)
        .prompt()
        .map_err(cancelled)
}

fn trimmed(
    check: fn(&str) -> Result<(), String>,
) -> impl Fn(&str) -> Result<String, String> + Clone {
    move |s: &str| check(s).map(|()| s.trim().to_string())
}

/// The password source of `user`: an environment variable (default) or a file.
fn password(user: &str) -> Result<PasswordAnswer, InputError> {
    let source = choose_str(
        &format!("Where does {user}'s password come from?"),
        &["an environment variable", "a file"],
    )?;
    Ok(if source == "a file" {
        PasswordAnswer::File(ask(
            "Password file (relative to stack.toml):",
            Some(&format!("secrets/{user}")),
            trimmed(validate::file),
        )?)
    } else {
        PasswordAnswer::Env(ask(
            "Environment variable holding it:",
            Some(&crate::manifest::write::password_env(user)),
            trimmed(validate::env_var),
        )?)
    })
}

/// Ask every question on the terminal, defaults shown.
pub fn interview(detected: Option<(String, Option<u32>, String)>) -> Result<Answers, InputError> {
    let d = Answers::default();
    let mut a = Answers {
        stack_name: ask("Stack name:", Some(&d.stack_name), trimmed(validate::name))?,
        ..d.clone()
    };
    a.pg_version = choose(
        "PostgreSQL major version:",
        postgres_versions(),
        &d.pg_version.to_string(),
    )?
    .parse()
    .unwrap_or(d.pg_version);
    a.pg_host = ask(
        "Host name apps and PgBouncer use to reach PostgreSQL:",
        Some(&d.pg_host),
        trimmed(validate::host),
    )?;
    a.pg_port = ask(
        "PostgreSQL port:",
        Some(&d.pg_port.to_string()),
        validate::port,
    )?;
    let local = confirm("Does PostgreSQL run on this machine?", false)?;
    if local && let Some((mem, cpus, source)) = &detected {
        let use_it = confirm(
            &format!(
                "Detected {mem}{} ({source}). Use these?",
                cpus.map(|c| format!(" and {c} CPUs")).unwrap_or_default()
            ),
            true,
        )?;
        if use_it {
            a.memory = Some(mem.clone());
            a.cpus = *cpus;
            a.detected_from = Some(source.clone());
        }
    }
    if a.memory.is_none() {
        a.memory = ask(
            "RAM available to PostgreSQL (e.g. 16GB; empty to skip):",
            None,
            validate::optional_size,
        )?;
    }
    // Not detected (PostgreSQL runs elsewhere, or the figures were declined): ask.
    if a.cpus.is_none() {
        a.cpus = ask(
            "CPUs available to PostgreSQL (empty to skip):",
            None,
            validate::optional_count,
        )?;
    }
    a.storage = choose_str("Storage:", &["ssd", "nvme", "hdd", "san"])?;
    a.workload = choose_str("Workload:", &["web", "oltp", "mixed", "dw", "desktop"])?;
    a.pgbouncer = if confirm("Put PgBouncer in front of PostgreSQL?", true)? {
        let dp = d.pgbouncer.clone().unwrap_or(PgbouncerAnswers {
            version: "1.24".into(),
            host: "localhost".into(),
            listen_port: 6432,
            pool_mode: "transaction".into(),
        });
        Some(PgbouncerAnswers {
            version: choose("PgBouncer version:", pgbouncer_versions(), &dp.version)?,
            host: ask(
                "Host name apps use to reach PgBouncer:",
                Some(&dp.host),
                trimmed(validate::host),
            )?,
            listen_port: ask(
                "PgBouncer port:",
                Some(&dp.listen_port.to_string()),
                validate::port,
            )?,
            pool_mode: choose_str("Pool mode:", &["transaction", "session", "statement"])?,
        })
    } else {
        None
    };
    let version = a.pgbouncer.as_ref().map(|p| p.version.clone());
    a.database = ask(
        "Database name:",
        Some(&a.stack_name.clone()),
        move |s: &str| validate::database(s, version.as_deref()).map(|()| s.trim().to_string()),
    )?;
    a.user = ask("Database user:", Some(&d.user), trimmed(validate::user))?;
    a.password = password(&a.user)?;
    a.admin = match &a.pgbouncer {
        Some(_) => {
            let name = ask(
                "PgBouncer admin user (admin console, SHOW POOLS, poolstack doctor):",
                Some(&AdminAnswer::default_for_stack().name),
                trimmed(validate::user),
            )?;
            let password = match name == a.user {
                true => a.password.clone(),
                false => password(&name)?,
            };
            Some(AdminAnswer { name, password })
        }
        None => None,
    };
    a.apps.clear();
    loop {
        let taken: Vec<String> = a.apps.iter().map(|x| x.name.clone()).collect();
        let name = ask(
            "App name:",
            Some(if a.apps.is_empty() { "api" } else { "worker" }),
            move |s: &str| validate::app(s, &taken).map(|()| s.trim().to_string()),
        )?;
        let replicas = ask(
            "Replicas (containers or hosts):",
            Some("1"),
            validate::count,
        )?;
        let processes = ask("Worker processes per replica:", Some("1"), validate::count)?;
        let kind = choose_str("Framework:", &crate::apps::names())?;
        let kind = if kind == crate::apps::default_kind().name() {
            KindAnswer::SqlAlchemy {
                driver: choose_str("SQLAlchemy driver:", &["psycopg", "psycopg2", "asyncpg"])?,
            }
        } else {
            KindAnswer::Framework(kind)
        };
        a.apps.push(AppAnswers {
            name,
            replicas,
            processes,
            kind,
        });
        if !confirm("Add another app?", false)? {
            break;
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lists_are_newest_first() {
        let pg = postgres_versions();
        assert_eq!(pg.first().map(String::as_str), Some("18"));
        assert_eq!(pg.last().map(String::as_str), Some("13"));
        let pgb = pgbouncer_versions();
        assert_eq!(pgb.first().map(String::as_str), Some("1.25"));
        assert_eq!(pgb.last().map(String::as_str), Some("1.15"));
        for list in [pg, pgb] {
            let nums: Vec<u32> = list
                .iter()
                .map(|v| v.rsplit('.').next().unwrap().parse().unwrap())
                .collect();
            assert!(nums.windows(2).all(|w| w[0] > w[1]), "{list:?}");
        }
    }
}
