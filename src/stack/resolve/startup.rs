//! PgBouncer's ignore_startup_parameters for the apps behind it. A parameter an app's driver
//! always sends and PgBouncer may drop harmlessly (pgjdbc ≤ 42.7.4's extra_float_digits) is
//! listed there when the manifest leaves ignore_startup_parameters unset — without it PgBouncer
//! refuses every login of the app. A list the manifest writes is the user's: NET004 reports a
//! parameter it lacks.

use crate::stack::{App, Origin, PgbOption, Pgbouncer};

pub(super) fn ignore_startup_parameters(pgb: Option<&mut Pgbouncer>, apps: &[App]) {
    let Some(pgb) = pgb else {
        return;
    };
    if pgb.option("ignore_startup_parameters").is_some() {
        return;
    }
    let mut names: Vec<String> = Vec::new();
    let mut senders: Vec<String> = Vec::new();
    let mut whys: Vec<&'static str> = Vec::new();
    let mut inputs = Vec::new();
    for app in apps.iter().filter(|a| a.url.via_pgbouncer) {
        for p in app.kind().startup_params(app) {
            let Some(why) = crate::apps::harmless_to_drop(&p.name) else {
                continue;
            };
            if !names.contains(&p.name) {
                names.push(p.name.clone());
            }
            if !whys.contains(&why) {
                whys.push(why);
            }
            senders.push(format!("app `{}` sends {}", app.name.value, p.setting));
            inputs.extend(p.loc.cloned());
        }
    }
    if names.is_empty() {
        return;
    }
    pgb.options.push(PgbOption {
        name: "ignore_startup_parameters".to_string(),
        ini_text: names.join(","),
        number: None,
        origin: Origin::Derived {
            formula: format!(
                "{} as a startup parameter, which PgBouncer refuses unless it is ignored; dropping it changes nothing: {}",
                senders.join("; "),
                whys.join("; ")
            ),
            inputs,
        },
    });
}

#[cfg(test)]
mod tests {
    use super::super::resolve;
    use super::super::testing::{MINIMAL, manifest};
    use crate::diag::Severity;
    use crate::rules::testing;
    use crate::stack::Origin;

    const PGB: &str = "[pgbouncer]\nversion = \"1.18\"\npool_mode = \"transaction\"\n";

    fn toml(settings: &str, app: &str) -> String {
        format!(
            "{MINIMAL}{PGB}{settings}\n[[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\n\
             password = {{ env = \"APP_PASSWORD\" }}\n[[apps]]\nname = \"api\"\ndatabase = \"app\"\n\
             user = \"app\"\nkind = \"jdbc-hikari\"\n{app}\n"
        )
    }

    /// ignore_startup_parameters as resolved: its ini text and origin.
    fn ignore(toml: &str) -> Option<(String, Origin)> {
        let st = resolve(&manifest(toml), None).expect("resolves");
        let pgb = st.pgbouncer.expect("pgbouncer");
        let o = pgb.option("ignore_startup_parameters")?;
        Some((o.ini_text.clone(), o.origin.clone()))
    }

    #[test]
    fn old_pgjdbc_gets_extra_float_digits_ignored() {
        let t = toml("", "pgjdbc_version = \"42.5.5\"");
        let (text, origin) = ignore(&t).expect("derived");
        assert_eq!(text, "extra_float_digits");
        let Origin::Derived { formula, inputs } = &origin else {
            panic!("{origin:?}")
        };
        assert!(
            formula.starts_with(
                "app `api` sends extra_float_digits (pgjdbc 42.5.5) as a startup parameter"
            ),
            "{formula}"
        );
        assert!(formula.contains("PostgreSQL 12 and later"), "{formula}");
        assert_eq!(inputs.len(), 1, "points at pgjdbc_version");
        // Listed and harmless to drop: NET004 has nothing to say.
        assert!(testing::run("NET004", &t).is_empty());
    }

    #[test]
    fn nothing_is_derived_for_current_pgjdbc_or_without_pgbouncer() {
        assert!(ignore(&toml("", "")).is_none());
        assert!(ignore(&toml("", "pgjdbc_version = \"42.7.5\"")).is_none());
        let direct = toml("", "pgjdbc_version = \"42.5.5\"").replace(PGB, "");
        let st = resolve(&manifest(&direct), None).expect("resolves");
        assert!(st.pgbouncer.is_none());
    }

    #[test]
    fn a_list_the_manifest_writes_is_kept_and_net004_reports_what_it_lacks() {
        let t = toml(
            "[pgbouncer.settings]\nignore_startup_parameters = \"options\"",
            "pgjdbc_version = \"42.5.5\"",
        );
        let (text, origin) = ignore(&t).expect("written");
        assert_eq!(text, "options");
        assert!(origin.is_explicit());
        let d = testing::run("NET004", &t);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        // The fix it suggests silences it.
        let fixed = toml(
            "[pgbouncer.settings]\nignore_startup_parameters = \"options,extra_float_digits\"",
            "pgjdbc_version = \"42.5.5\"",
        );
        assert!(testing::run("NET004", &fixed).is_empty());
    }
}
