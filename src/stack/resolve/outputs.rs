//! `[outputs]`: where the rendered files go, under `--out` or the manifest's directory.

use super::Ctx;
use crate::defaults as d;
use crate::diag::InputError;
use crate::stack::{Origin, Outputs, Setting};
use std::path::{Path, PathBuf};

pub(super) fn outputs(cx: &Ctx<'_>, out_dir: Option<&Path>) -> Outputs {
    let o = &cx.m.manifest.outputs;
    let base = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cx.m.dir.clone());
    let file = |key: &str, v: &Option<String>, default: &'static str| -> Setting<PathBuf> {
        match v {
            Some(p) => Setting::new(base.join(p), cx.origin(&["outputs", key])),
            None => Setting::new(
                base.join(default),
                Origin::Default("poolstack's default output path"),
            ),
        }
    };
    Outputs {
        pgbouncer_ini: file("pgbouncer_ini", &o.pgbouncer_ini, d::OUT_PGBOUNCER_INI),
        userlist: file("userlist", &o.userlist, d::OUT_USERLIST),
        postgresql_conf: file(
            "postgresql_conf",
            &o.postgresql_conf,
            d::OUT_POSTGRESQL_CONF,
        ),
        roles_sql: file("roles_sql", &o.roles_sql, d::OUT_ROLES_SQL),
        // Templates are part of the project, next to the manifest, whatever --out says.
        templates: o
            .templates
            .as_ref()
            .map(|t| Setting::new(cx.m.dir.join(t), cx.origin(&["outputs", "templates"]))),
        base,
    }
}

/// Every `[outputs]` path stays inside the output directory (relative, no `..` out of it, no
/// name past the file-name limit): an input error at the key otherwise.
pub(super) fn check_paths(cx: &Ctx<'_>) -> Result<(), InputError> {
    let o = &cx.m.manifest.outputs;
    for (key, value) in [
        ("pgbouncer_ini", &o.pgbouncer_ini),
        ("userlist", &o.userlist),
        ("postgresql_conf", &o.postgresql_conf),
        ("roles_sql", &o.roles_sql),
    ] {
        if let Some(problem) = value
            .as_deref()
            .and_then(|v| crate::fsutil::output_path_problem(Path::new(v)))
        {
            return Err(cx
                .input_error(
                    &["outputs", key],
                    false,
                    format!("[outputs] {key} must be a path inside the output directory: {problem}"),
                )
                .with_help("give a path relative to the output directory (the manifest's, or --out), e.g. \"pgbouncer/pgbouncer.ini\""));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{MINIMAL, cx, default_text, manifest, written};
    use super::*;

    #[test]
    fn defaults_under_the_manifest_directory_or_out() {
        let m = manifest(MINIMAL);
        let o = outputs(&cx(&m), None);
        assert_eq!(o.userlist.value, PathBuf::from(d::OUT_USERLIST));
        assert_eq!(default_text(&o.userlist), "poolstack's default output path");
        let o = outputs(&cx(&m), Some(Path::new("/out")));
        assert_eq!(o.userlist.value, Path::new("/out").join(d::OUT_USERLIST));
    }

    #[test]
    fn written_paths_and_templates_next_to_the_manifest() {
        let m = manifest(&format!(
            "{MINIMAL}\n[outputs]\nuserlist = \"u.txt\"\ntemplates = \"tpl\"\n"
        ));
        let o = outputs(&cx(&m), Some(Path::new("/out")));
        assert_eq!(o.userlist.value, PathBuf::from("/out/u.txt"));
        assert_eq!(written(&m, &o.userlist), "\"u.txt\"");
        let t = o.templates.expect("written");
        assert_eq!(t.value, PathBuf::from("tpl"), "not under --out");
    }
}
