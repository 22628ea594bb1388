//! Command-line types (clap derive). Doc comments are the `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Render and cross-check a PostgreSQL + PgBouncer + SQLAlchemy pooling stack from one manifest.
#[derive(Debug, Parser)]
#[command(name = "poolstack", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Interactive wizard that writes a commented stack.toml.
    Init(InitArgs),
    /// Write every configuration file of the stack (pgbouncer.ini, userlist.txt, PostgreSQL fragment, roles.sql, .env).
    Render(RenderArgs),
    /// Lint manifests and directory trees of stacks, or hand-written config files linted together as one stack.
    Check(CheckArgs),
    /// Create or update userlist.txt entries (replaces generate_userlist.sh).
    Userlist(UserlistArgs),
    /// Recommended PostgreSQL settings for a machine, each with its reason.
    Tune(TuneArgs),
    /// Read existing configs and write the manifest that renders them.
    Import(ImportArgs),
    /// A rule's documentation, or where a setting's effective value comes from.
    Explain(ExplainArgs),
    /// Connect to a running stack and compare it with the manifest.
    Doctor(DoctorArgs),
    /// List every rule: code, name, severity, summary.
    Rules,
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
    /// Print the JSON Schema of stack.toml (for editor completion).
    Schema,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the manifest.
    #[arg(short, long, default_value = "stack.toml")]
    pub output: PathBuf,
    /// Accept every default without asking (no terminal needed).
    #[arg(long)]
    pub yes: bool,
    /// Offer (with --yes: use) this machine's memory and CPUs, from cgroup limits or /proc.
    #[arg(long)]
    pub detect: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The manifest. With --check: any number of manifests and directories (searched
    /// recursively for stack.toml files, honouring .gitignore).
    #[arg(default_value = "stack.toml")]
    pub manifests: Vec<PathBuf>,
    /// Write the files under DIR instead of next to the manifest.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 with a diff when a file on disk differs from what would be rendered.
    #[arg(long)]
    pub check: bool,
    /// Overwrite hand-edited files and drop userlist users the manifest does not know.
    #[arg(long)]
    pub force: bool,
    /// How to print the apply plan: human (after the diff or summary), or json (stdout is the
    /// plan's JSON object alone; the diff and messages go to stderr).
    #[arg(long, value_enum, default_value = "human")]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Manifests (stack.toml), directories (searched recursively for stacks, honouring
    /// .gitignore), or hand-written config files linted together as one stack (pgbouncer.ini,
    /// *.conf, .env, userlist.txt; recognised by name, else by content). Default: ./stack.toml
    pub paths: Vec<PathBuf>,
    /// human (source excerpts), json (stable, for tools), sarif (GitHub code scanning), github (workflow annotations).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// PostgreSQL major version of hand-written files (else a `# poolstack: postgres N` comment;
    /// without either, version-dependent findings are stated conditionally).
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
    /// PgBouncer version of hand-written files, e.g. 1.21 (else a `; poolstack: pgbouncer X.Y`
    /// comment).
    #[arg(long, value_name = "X.Y")]
    pub pgbouncer_version: Option<String>,
    /// Only these rule codes (repeat the flag, or separate codes with commas).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rule codes, in addition to `[lint] ignore` (repeat, or separate with commas).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1 (default: `[lint] fail_on`, else error).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,
    /// Group the config files named into their stacks and also read each stack's files that
    /// were not named: beside them, in pgbouncer/, postgres/ and conf.d/ folders, and in parent
    /// directories up to the repository root (for pre-commit, which passes changed files only).
    #[arg(long)]
    pub siblings: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    Md5,
    #[value(name = "scram-sha-256")]
    ScramSha256,
    Plain,
}

#[derive(Debug, Args)]
pub struct UserlistArgs {
    /// The userlist to create or merge into.
    #[arg(short, long, default_value = "userlist.txt")]
    pub output: PathBuf,
    /// Secret type (default: the manifest's, else scram-sha-256).
    #[arg(long, value_enum)]
    pub hash: Option<HashArg>,
    /// Take users and their password sources from a manifest.
    #[arg(long)]
    pub manifest: Option<PathBuf>,
    /// One user (password from --password-env, --password-file, --password-stdin, or a prompt);
    /// with --from-postgres, the roles to copy (repeatable; default: every role with a password).
    #[arg(long, value_name = "NAME")]
    pub user: Vec<String>,
    /// Copy the stored verifiers from PostgreSQL's pg_authid, as PgBouncer's mkauth.py does:
    /// postgresql://SUPERUSER@HOST:PORT/DB, no password in the URL (PGPASSWORD, PGPASSFILE or
    /// ~/.pgpass, or a no-echo prompt).
    #[arg(long, value_name = "URL")]
    pub from_postgres: Option<String>,
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[arg(long)]
    pub password_stdin: bool,
    /// `user<TAB>password` lines from FILE, or - for standard input.
    #[arg(long, value_name = "FILE")]
    pub batch: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Memory PostgreSQL can use: a whole number of MB, GB or TB (16GB, 512MB, 1TB; at least
    /// 512MB). Needed unless --detect reads it.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<crate::tune::TotalMemory>,
    /// Kind of application.
    #[arg(long, value_enum)]
    pub workload: crate::tune::Workload,
    /// PostgreSQL major version (10 to 18).
    #[arg(long, value_name = "N")]
    pub pg_version: crate::tune::PgVersion,
    /// CPUs (threads per core * cores per socket * sockets); parallel settings need 4 or more.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=999_999))]
    pub cpus: Option<u32>,
    /// Data storage.
    #[arg(long, value_enum, default_value_t = crate::tune::Storage::Ssd)]
    pub storage: crate::tune::Storage,
    /// Number of connections (default: by workload).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(20..=999_999))]
    pub connections: Option<u32>,
    /// Operating system PostgreSQL runs on.
    #[arg(long, value_enum, default_value_t = crate::tune::Os::Linux)]
    pub os: crate::tune::Os,
    /// Total data size, relative to memory.
    #[arg(long, value_enum, default_value_t = crate::tune::DataSize::OneToThreeTimesRam)]
    pub data_size: crate::tune::DataSize,
    /// Read memory and CPUs from this machine (cgroup limits inside a container, else /proc);
    /// --memory and --cpus win over what is detected.
    #[arg(long)]
    pub detect: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TuneFormat::Human)]
    pub format: TuneFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TuneFormat {
    /// Each setting with its formula and numbers.
    Human,
    /// {"version":1,"settings":{…},"reasons":{…},"warnings":[…]}
    Json,
    /// A postgresql.conf fragment, PgTune's warnings as comments.
    Conf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Config files to import (pgbouncer.ini, *.conf, .env, userlist.txt), read as one stack.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the manifest (never over an existing file without --force).
    #[arg(short, long, default_value = "stack.toml")]
    pub output: PathBuf,
    /// PostgreSQL major version the files target (default: their `# poolstack: postgres N`).
    #[arg(long, value_name = "N")]
    pub pg_version: Option<u32>,
    /// PgBouncer version the files target, e.g. 1.21 (default: their `; poolstack: pgbouncer X.Y`).
    #[arg(long, value_name = "X.Y")]
    pub pgbouncer_version: Option<String>,
    /// Overwrite an existing manifest, and import files the servers would refuse (CAT errors).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule code (CON002) or a setting name (max_connections).
    pub target: String,
    /// The manifest, for a setting.
    pub manifest: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The manifest the running stack should match. Default: ./stack.toml
    pub manifest: Option<PathBuf>,
    /// PgBouncer admin console, postgresql://ADMIN@HOST:PORT/pgbouncer (no password in the URL:
    /// PGPASSWORD, the manifest user's password env, or a prompt).
    #[arg(long, value_name = "URL")]
    pub pgbouncer: Option<String>,
    /// PostgreSQL, postgresql://USER@HOST:PORT/DB (a superuser also compares secret types; no
    /// password in the URL).
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// The variable holding the password for --postgres (tried before PGPASSWORD and ~/.pgpass).
    #[arg(long, value_name = "VAR")]
    pub postgres_password_env: Option<String>,
    /// The variable holding the password for --pgbouncer (tried before PGPASSWORD and ~/.pgpass).
    #[arg(long, value_name = "VAR")]
    pub pgbouncer_password_env: Option<String>,
    /// human, json (summary gains "budget"), sarif, github — as for check.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}
