//! Stack → files. Each file's content is laid out by a minijinja template (`templates/`, or the
//! user's overrides from `[outputs] templates`) from a context this module builds out of the
//! resolved stack; what to write was decided by the stack, how to spell it for the target is
//! decided here.

pub mod context;
pub mod existing;
pub mod locate;
pub mod verifiers;
pub mod verify;

use crate::auth::SecretKind;
use crate::diag::InputError;
use crate::formats::header::{self, CommentStyle};
use crate::secrets::Secrets;
use crate::stack::Stack;
pub use existing::Existing;
use minijinja::Environment;
use std::path::{Path, PathBuf};

pub const TEMPLATE_NAMES: &[(&str, &str)] = &[
    (
        "pgbouncer.ini.j2",
        include_str!("../../templates/pgbouncer.ini.j2"),
    ),
    (
        "postgresql.conf.j2",
        include_str!("../../templates/postgresql.conf.j2"),
    ),
    ("roles.sql.j2", include_str!("../../templates/roles.sql.j2")),
    ("env.j2", include_str!("../../templates/env.j2")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    PgbouncerIni,
    Userlist,
    PostgresqlConf,
    RolesSql,
    Env {
        app: String,
    },
    /// The framework's own settings file of an app (Rails' database.yml, …).
    AppSettings {
        app: String,
    },
    /// A file under `monitoring/` (`[monitoring]`).
    Monitoring {
        file: String,
    },
    /// A file of a `[deploy]` target; `secret`: it holds verifiers (the Kubernetes Secret).
    Deploy {
        target: crate::manifest::deploy::DeployTarget,
        secret: bool,
    },
}

impl FileKind {
    /// Files holding passwords or password-equivalent verifiers: mode 0600, never diffed.
    pub fn is_secret(&self) -> bool {
        matches!(
            self,
            FileKind::Userlist | FileKind::RolesSql | FileKind::Deploy { secret: true, .. }
        )
    }

    pub fn label(&self) -> String {
        match self {
            FileKind::PgbouncerIni => "pgbouncer.ini".to_string(),
            FileKind::Userlist => "userlist.txt".to_string(),
            FileKind::PostgresqlConf => "PostgreSQL fragment".to_string(),
            FileKind::RolesSql => "roles.sql".to_string(),
            FileKind::Env { app } => format!(".env of app {app}"),
            FileKind::AppSettings { app } => format!("settings file of app {app}"),
            FileKind::Monitoring { file } => format!("monitoring {file}"),
            FileKind::Deploy { target, .. } => format!("{} deploy file", target.as_str()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RenderedFile {
    pub kind: FileKind,
    pub path: PathBuf,
    pub contents: String,
    pub mode: u32,
}

/// The users and secret types a secret file must hold (what `--check` compares without passwords).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedSecrets {
    pub userlist: Option<(PathBuf, Vec<(String, SecretKind)>)>,
    pub roles: Option<(PathBuf, Vec<(String, SecretKind)>)>,
    /// The Kubernetes target's Secret (the userlist's users and types).
    pub deploy_secret: Option<(PathBuf, Vec<(String, SecretKind)>)>,
}

/// One expected secret file: its kind and, when the stack has one, its path and entries.
pub type ExpectedEntry<'a> = (FileKind, &'a Option<(PathBuf, Vec<(String, SecretKind)>)>);

impl ExpectedSecrets {
    /// Every secret file, with the kind its text is read as.
    pub fn entries(&self) -> [ExpectedEntry<'_>; 3] {
        [
            (FileKind::Userlist, &self.userlist),
            (FileKind::RolesSql, &self.roles),
            (
                FileKind::Deploy {
                    target: crate::manifest::deploy::DeployTarget::Kubernetes,
                    secret: true,
                },
                &self.deploy_secret,
            ),
        ]
    }
}

#[derive(Debug, Clone)]
pub struct RenderPlan {
    pub files: Vec<RenderedFile>,
    /// Secret files that could not be built because passwords were missing.
    pub unbuilt_secrets: ExpectedSecrets,
    pub expected_secrets: ExpectedSecrets,
    /// (known-verifier file, user) where that verifier does not accept the user's password.
    pub known_verifier_rejects: Vec<(PathBuf, String)>,
    /// `[deploy]` targets not written because they refuse a setting (DEP002).
    pub refused_targets: Vec<crate::manifest::deploy::DeployTarget>,
}

/// Build every output file in memory. Secret files are built only when every password is known;
/// otherwise they are listed in `unbuilt_secrets` for a users-and-types comparison.
pub fn plan(
    stack: &Stack,
    secrets: &Secrets,
    existing: &Existing,
) -> Result<RenderPlan, InputError> {
    plan_with(stack, secrets, existing, Build::All)
}

/// Which files [`plan_with`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Everything render writes.
    All,
    /// What `check` reads back or compares with the disk: the monitoring files only when their
    /// directory exists (nothing reads them back, and a file that is not there cannot drift).
    ForCheck,
}

/// [`plan`], building what `build` asks for.
pub fn plan_with(
    stack: &Stack,
    secrets: &Secrets,
    existing: &Existing,
    build: Build,
) -> Result<RenderPlan, InputError> {
    let env = environment(stack)?;
    let mut files = Vec::new();
    let manifest = stack
        .manifest_path
        .clone()
        .unwrap_or_else(|| PathBuf::from("stack.toml"));
    let stack_name = stack.name.value.clone();
    let headed = |path: &Path, style: CommentStyle, body: String| -> String {
        let dir = path.parent().unwrap_or(Path::new("."));
        header::with_header(
            style,
            &crate::fsutil::relative(dir, &manifest),
            &stack_name,
            &body,
        )
    };

    if stack.pgbouncer.is_some() {
        let path = stack.outputs.pgbouncer_ini.value.clone();
        let body = render_template(&env, "pgbouncer.ini.j2", context::pgbouncer_ini(stack))?;
        files.push(RenderedFile {
            kind: FileKind::PgbouncerIni,
            contents: headed(&path, CommentStyle::Semicolon, body),
            path,
            mode: 0o644,
        });
    }
    {
        let path = stack.outputs.postgresql_conf.value.clone();
        let body = render_template(&env, "postgresql.conf.j2", context::postgresql_conf(stack))?;
        files.push(RenderedFile {
            kind: FileKind::PostgresqlConf,
            contents: headed(&path, CommentStyle::Hash, body),
            path,
            mode: 0o644,
        });
    }
    for app in &stack.apps {
        let path = stack.outputs.base.join(&app.env_file.value);
        let body = render_template(&env, "env.j2", context::env_file(stack, app))?;
        files.push(RenderedFile {
            kind: FileKind::Env {
                app: app.name.value.clone(),
            },
            contents: headed(&path, CommentStyle::Hash, body),
            path,
            mode: 0o644,
        });
        if let Some(file) = &app.settings_file {
            let path = stack.outputs.base.join(&file.value);
            // YAML, Python and .properties all take `#` comments.
            let body = app.kind().settings_body(app);
            files.push(RenderedFile {
                kind: FileKind::AppSettings {
                    app: app.name.value.clone(),
                },
                contents: headed(&path, CommentStyle::Hash, body),
                path,
                mode: 0o644,
            });
        }
    }

    let monitoring_dir = stack.outputs.base.join(crate::defaults::OUT_MONITORING);
    let monitoring = if build == Build::All || monitoring_dir.is_dir() {
        crate::outputs::monitoring::render(stack)
    } else {
        Vec::new()
    };
    for f in monitoring {
        let path = stack
            .outputs
            .base
            .join(crate::defaults::OUT_MONITORING)
            .join(&f.name);
        let contents = match f.header {
            crate::outputs::monitoring::Header::Comment(style) => headed(&path, style, f.body),
            crate::outputs::monitoring::Header::JsonField => {
                let dir = path.parent().unwrap_or(Path::new("."));
                crate::outputs::monitoring::dashboard::with_header(
                    &crate::fsutil::relative(dir, &manifest),
                    &stack_name,
                    &f.body,
                )
            }
        };
        files.push(RenderedFile {
            kind: FileKind::Monitoring { file: f.name },
            contents,
            path,
            mode: 0o644,
        });
    }

    let expected = expected_secrets(stack);
    let mut unbuilt = ExpectedSecrets::default();
    let mut known_verifier_rejects = Vec::new();
    if secrets.complete_for(stack) {
        let verifiers::Chosen {
            secrets: chosen,
            rejected,
        } = verifiers::choose(stack, secrets, existing, None)?;
        known_verifier_rejects = rejected;
        if stack.pgbouncer.is_some() {
            let path = stack.outputs.userlist.value.clone();
            let contents = chosen
                .iter()
                .map(|s| crate::formats::userlist::format_entry(&s.user, &s.userlist))
                .collect::<String>();
            files.push(RenderedFile {
                kind: FileKind::Userlist,
                path,
                contents,
                mode: 0o600,
            });
        }
        if let Some(ctx) = context::roles_sql(stack, &chosen) {
            let path = stack.outputs.roles_sql.value.clone();
            let body = render_template(&env, "roles.sql.j2", ctx)?;
            files.push(RenderedFile {
                kind: FileKind::RolesSql,
                contents: headed(&path, CommentStyle::DoubleDash, body),
                path,
                mode: 0o600,
            });
        }
    } else {
        unbuilt = expected.clone();
    }
    let refused_targets = deploy_files(stack, &env, &mut files, &headed)?;
    Ok(RenderPlan {
        files,
        unbuilt_secrets: unbuilt,
        expected_secrets: expected,
        known_verifier_rejects,
        refused_targets,
    })
}

/// The `[deploy]` targets' files, each with poolstack's header; returns the targets left out.
fn deploy_files(
    stack: &Stack,
    env: &Environment<'_>,
    files: &mut Vec<RenderedFile>,
    headed: &dyn Fn(&Path, CommentStyle, String) -> String,
) -> Result<Vec<crate::manifest::deploy::DeployTarget>, InputError> {
    use crate::outputs::deploy;
    if stack.deploy.is_none() {
        return Ok(Vec::new());
    }
    let find = |kind: FileKind| {
        files
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| f.contents.clone())
    };
    let ini = find(FileKind::PgbouncerIni).unwrap_or_default();
    let userlist = find(FileKind::Userlist);
    let render_ini = |s: &Stack| -> Result<String, InputError> {
        let path = s.outputs.pgbouncer_ini.value.clone();
        let body = render_template(env, "pgbouncer.ini.j2", context::pgbouncer_ini(s))?;
        Ok(headed(&path, CommentStyle::Semicolon, body))
    };
    let host = deploy::HostFiles {
        pgbouncer_ini: &ini,
        userlist: userlist.as_deref(),
        render_ini: &render_ini,
    };
    let (built, refused) = deploy::files(stack, &host)?;
    for f in built {
        let path = stack.outputs.base.join(&f.rel);
        files.push(RenderedFile {
            kind: FileKind::Deploy {
                target: f.target,
                secret: f.secret,
            },
            contents: headed(&path, CommentStyle::Hash, f.contents),
            mode: if f.secret { 0o600 } else { 0o644 },
            path,
        });
    }
    Ok(refused)
}

fn expected_secrets(stack: &Stack) -> ExpectedSecrets {
    let userlist: Option<(PathBuf, Vec<(String, SecretKind)>)> =
        stack.pgbouncer.as_ref().map(|_| {
            (
                stack.outputs.userlist.value.clone(),
                stack
                    .users
                    .iter()
                    .map(|u| (u.name.value.clone(), u.userlist_secret.value))
                    .collect(),
            )
        });
    let roles: Vec<(String, SecretKind)> = stack
        .users
        .iter()
        .filter(|u| u.role.value)
        .filter_map(|u| Some((u.name.value.clone(), u.stored_secret.as_ref()?.value)))
        .collect();
    let deploy_secret = stack
        .deploy
        .as_ref()
        .filter(|d| d.wants(crate::manifest::deploy::DeployTarget::Kubernetes))
        .and(userlist.as_ref())
        .map(|(_, users)| {
            (
                stack
                    .outputs
                    .base
                    .join(crate::outputs::deploy::kubernetes::SECRET_REL),
                users.clone(),
            )
        });
    ExpectedSecrets {
        userlist,
        roles: (!roles.is_empty()).then(|| (stack.outputs.roles_sql.value.clone(), roles)),
        deploy_secret,
    }
}

/// The template environment: built-in templates, replaced by same-named files in the override folder.
fn environment(stack: &Stack) -> Result<Environment<'static>, InputError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(false);
    for (name, source) in TEMPLATE_NAMES {
        let over = stack
            .outputs
            .templates
            .as_ref()
            .map(|dir| dir.value.join(name))
            .filter(|p| p.is_file());
        let result = match &over {
            Some(p) => {
                let text = crate::formats::text::read(p).map_err(|e| {
                    InputError::new(format!(
                        "cannot read template override {}: {e}",
                        p.display()
                    ))
                })?;
                env.add_template_owned(name.to_string(), text)
            }
            None => env.add_template(name, source),
        };
        result.map_err(|e| template_error(&e, over.as_deref()))?;
    }
    Ok(env)
}

fn template_error(e: &minijinja::Error, file: Option<&Path>) -> InputError {
    let place = match (file, e.line()) {
        (Some(f), Some(l)) => format!("{}:{l}: ", f.display()),
        (Some(f), None) => format!("{}: ", f.display()),
        (None, _) => String::new(),
    };
    InputError::new(format!(
        "{place}template error: {}",
        e.detail().unwrap_or(&e.to_string())
    ))
    .with_help("fix the template override, or remove it to use poolstack's built-in template")
}

fn render_template(
    env: &Environment<'_>,
    name: &str,
    ctx: minijinja::Value,
) -> Result<String, InputError> {
    let tmpl = env
        .get_template(name)
        .map_err(|e| template_error(&e, None))?;
    tmpl.render(ctx).map_err(|e| {
        InputError::new(format!("rendering {name} failed: {e}"))
            .with_help("a template override refers to something the context does not have; see the README for the variables each template gets")
    })
}
