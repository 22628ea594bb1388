//! Every reader and the manifest under arbitrary bytes (issue 18), end to end through `check`
//! in process: no panic, exit 0, 1 or 2 only, a secret placed where a password goes never
//! printed in any format, and an input error on a file names its line and column. Case
//! counts are fixed so the suite's time is bounded (a few seconds in CI); raise
//! `POOLSTACK_PROPTEST_CASES` locally to search longer.

use clap::Parser;
use poolstack::cli::Cli;
use proptest::prelude::*;

const SECRET: &str = "Zq9SECRETzz";

fn cases() -> u32 {
    std::env::var("POOLSTACK_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Lines that hold SECRET where a password goes, in each reader's syntax.
fn secret_lines(file: &str) -> Vec<String> {
    let s = SECRET;
    let lines: Vec<String> = match file {
        "pgbouncer.ini" => vec![
            format!("app = host=db password={s} dbname=app"),
            format!("app = host=db password='{s} dbname=app"),
            format!("app = host=db password=\"{s}\""),
            format!("app = host=db password='{s}' bogus=1"),
        ],
        "postgresql.conf" => vec![
            format!("primary_conninfo = 'host=p password={s}'"),
            format!("primary_conninfo = 'host=p password={s}"),
        ],
        ".env" => vec![
            format!("DATABASE_URL=postgresql+psycopg://u:{s}@db:6432/app"),
            format!("DATABASE_URL=postgresql://u:ab/{s}@db:x/app"),
            format!("PGPASSWORD={s}"),
            format!("DB_PASSWORD=\"{s}"),
        ],
        "userlist.txt" => vec![
            format!("\"u\" \"{s}\""),
            format!("\"u\" {s}"),
            format!("\"u\" \"{s}"),
            format!("\"u\" '{s}'"),
            format!("# \"u\" \"{s}\""),
        ],
        _ => vec![
            format!("password = \"{s}\""),
            format!("password = \"{s}"),
            format!("password = '{s}'"),
        ],
    };
    lines
}

/// Bytes that look like `file` more often than not: its tokens, arbitrary bytes, long lines.
fn content(file: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let tokens: Vec<&'static str> = match file {
        "pgbouncer.ini" => vec![
            "[databases]",
            "[pgbouncer]",
            "[users]",
            "listen_port = 6432",
            "max_client_conn = 99999999999",
            "%include ",
            "pool_mode = ",
            "= ",
            "'",
            "\"",
            ";",
            "#",
            "host=",
            "auth_file = userlist.txt",
        ],
        "postgresql.conf" => vec![
            "max_connections = ",
            "shared_buffers = '1GB'",
            "include '",
            "include_dir ",
            "'",
            "\\",
            "#",
            "= ",
            "work_mem = 4MB",
            "port = 5432",
        ],
        ".env" => vec![
            "DATABASE_URL=",
            "postgresql+psycopg://",
            "DB_POOL_SIZE=",
            "export ",
            "\"",
            "'",
            "${",
            "#",
            "USE_PGBOUNCER=true",
            "=",
        ],
        "userlist.txt" => vec![
            "\"",
            "\"\"",
            " ",
            ";",
            "#",
            "md5",
            "SCRAM-SHA-256$4096:",
            "$",
            ":",
        ],
        _ => vec![
            "[stack]\nname = \"x\"\n",
            "[postgres]\nversion = 16\n",
            "[pgbouncer]\nversion = \"1.21\"\n",
            "[[users]]\nname = \"u\"\n",
            "[[apps]]\n",
            "= ",
            "\"",
            "'",
            "[",
            "]",
            "{",
            "}",
            "\"\"\"",
            "max_connections = ",
            "pool_size = 5\n",
        ],
    };
    let secrets = secret_lines(file);
    let piece = prop_oneof![
        4 => prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        3 => prop::collection::vec(any::<u8>(), 0..12),
        2 => "[a-z_0-9 =]{0,16}".prop_map(String::into_bytes),
        1 => Just(b"\n".to_vec()),
        1 => (1usize..5, any::<u8>()).prop_map(|(k, b)| vec![if b == 0 { b'x' } else { b }; k * 20_000]),
        2 => prop::sample::select(secrets).prop_map(|l| format!("\n{l}\n").into_bytes()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|parts| parts.concat())
}

/// `check FILE` in process in a fresh directory; (exit code, everything printed).
fn check(file: &str, bytes: &[u8], format: &str) -> (u8, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    std::fs::write(&path, bytes).unwrap();
    let mut args = vec!["poolstack", "check", "--format", format];
    if file != "stack.toml" {
        args.extend(["--pg-version", "16", "--pgbouncer-version", "1.21"]);
    }
    let p = path.to_string_lossy().into_owned();
    args.push(&p);
    let cli = Cli::try_parse_from(&args).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = poolstack::run(cli, &mut out, &mut err).exit_code();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    );
    (code, all)
}

fn holds(file: &'static str, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    for format in ["human", "json"] {
        let (code, all) = check(file, &bytes, format);
        prop_assert!(code <= 2, "exit {code}");
        prop_assert!(
            !all.contains(SECRET),
            "{file} ({format}): the secret is printed:\n{all}"
        );
        if code == 2 && format == "human" {
            let located = all.contains(&format!("{file}:"))
                || all.contains(".ini:")
                || all.contains(".conf:");
            prop_assert!(
                located,
                "{file}: an input error without line and column:\n{all}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn pgbouncer_ini(bytes in content("pgbouncer.ini")) { holds("pgbouncer.ini", bytes)?; }

    #[test]
    fn postgresql_conf(bytes in content("postgresql.conf")) { holds("postgresql.conf", bytes)?; }

    #[test]
    fn dotenv(bytes in content(".env")) { holds(".env", bytes)?; }

    #[test]
    fn userlist(bytes in content("userlist.txt")) { holds("userlist.txt", bytes)?; }

    #[test]
    fn manifest(bytes in content("stack.toml")) { holds("stack.toml", bytes)?; }
}
