//! Writing a manifest: tables of typed values under comments, spelled as TOML that
//! [`super::load`] reads back to the same values (keys quoted where TOML needs it, strings
//! escaped, integers as integers).

/// One `key = value` line of a table: a dotted key (each segment quoted where needed).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub key: Vec<String>,
    pub value: toml::Value,
}

/// A `[table]` or `[[array]]` element, with comment lines above its header.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: String,
    pub array: bool,
    pub comments: Vec<String>,
    pub lines: Vec<Line>,
}

impl Table {
    pub fn new(header: &str) -> Table {
        Table {
            header: header.to_string(),
            array: false,
            comments: Vec::new(),
            lines: Vec::new(),
        }
    }

    pub fn array(header: &str) -> Table {
        Table {
            array: true,
            ..Table::new(header)
        }
    }

    /// `key = value` (a plain key: dots are part of the name, not a path).
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        self.lines.push(Line {
            key: vec![key.to_string()],
            value: value.into(),
        });
    }

    /// `a.b = value`: a dotted key, as extension parameters (`pg_stat_statements.max`) are written.
    pub fn set_dotted(&mut self, key: &str, value: impl Into<toml::Value>) {
        self.lines.push(Line {
            key: key.split('.').map(str::to_string).collect(),
            value: value.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A whole manifest: a comment header, then the tables in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub header: Vec<String>,
    pub tables: Vec<Table>,
}

impl Document {
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            push_comment(&mut out, line);
        }
        for table in &self.tables {
            if !out.is_empty() {
                out.push('\n');
            }
            for c in &table.comments {
                push_comment(&mut out, c);
            }
            let name = table
                .header
                .split('.')
                .map(key)
                .collect::<Vec<_>>()
                .join(".");
            if table.array {
                out.push_str(&format!("[[{name}]]\n"));
            } else {
                out.push_str(&format!("[{name}]\n"));
            }
            for line in &table.lines {
                let k: Vec<String> = line.key.iter().map(|s| key(s)).collect();
                out.push_str(&format!("{} = {}\n", k.join("."), value(&line.value)));
            }
        }
        out
    }
}

/// A comment, one `#` line per line of text (a line break in the text cannot end the comment;
/// other control characters, which TOML refuses in comments, are shown as `?`).
fn push_comment(out: &mut String, text: &str) {
    for line in text.split(['\n', '\r']) {
        let line: String = line
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
            .collect();
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str(&format!("# {line}\n"));
        }
    }
}

/// A key: bare when TOML allows it, else a quoted string.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A basic TOML string with every character TOML needs escaped.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value on one line: arrays and tables inline.
pub fn value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => string(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) if f.is_finite() && f.fract() == 0.0 => format!("{f:.1}"),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
        toml::Value::Table(t) if t.is_empty() => "{}".to_string(),
        toml::Value::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The environment variable a user's password is read from: `<NAME>_PASSWORD`, upper-cased,
/// every character that cannot appear in a variable name replaced by `_` (and a leading digit
/// prefixed, as no shell accepts it).
pub fn password_env(user: &str) -> String {
    let mut name: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    format!("{name}_PASSWORD")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: toml::Value) -> toml::Value {
        let mut t = Table::new("t");
        t.set("k", v);
        let doc = Document {
            header: vec!["odd\nheader".into()],
            tables: vec![t],
        };
        let parsed: toml::Table = toml::from_str(&doc.to_toml()).expect("valid TOML");
        parsed["t"]["k"].clone()
    }

    #[test]
    fn odd_strings_survive_the_round_trip() {
        for s in [
            "plain",
            "with \"double\" and 'single' quotes",
            "back\\slash C:\\path",
            "line\nbreak\r\ttab",
            "bell\u{7}del\u{7f}",
            "ünïcödé ✓",
            "",
            "# not a comment",
            "SET application_name = 'x'; SET search_path = a,b",
        ] {
            assert_eq!(round_trip(toml::Value::String(s.into())).as_str(), Some(s));
        }
    }

    #[test]
    fn numbers_keep_their_type() {
        assert_eq!(
            round_trip(toml::Value::Integer(-7)),
            toml::Value::Integer(-7)
        );
        assert_eq!(round_trip(toml::Value::Float(2.0)), toml::Value::Float(2.0));
        assert_eq!(
            round_trip(toml::Value::Float(0.25)),
            toml::Value::Float(0.25)
        );
        assert_eq!(
            round_trip(toml::Value::Boolean(true)),
            toml::Value::Boolean(true)
        );
    }

    #[test]
    fn odd_keys_are_quoted_and_dotted_keys_nest() {
        let mut t = Table::new("pgbouncer.settings");
        t.set("my key", 1);
        t.set("a.b", 2);
        t.set_dotted("pg_stat_statements.max", 3);
        t.set(
            "x",
            toml::Value::Table(toml::Table::from_iter([(
                "env".to_string(),
                toml::Value::String("X_PASSWORD".into()),
            )])),
        );
        let text = Document {
            header: Vec::new(),
            tables: vec![t],
        }
        .to_toml();
        let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
        let s = &parsed["pgbouncer"]["settings"];
        assert_eq!(s["my key"].as_integer(), Some(1));
        assert_eq!(s["a.b"].as_integer(), Some(2));
        assert_eq!(s["pg_stat_statements"]["max"].as_integer(), Some(3));
        assert_eq!(s["x"]["env"].as_str(), Some("X_PASSWORD"));
        assert!(text.contains("x = { env = \"X_PASSWORD\" }"), "{text}");
    }

    proptest::proptest! {
        #[test]
        fn any_key_and_string_survive_the_round_trip(k in "[\\s\\S]{0,12}", v in "[\\s\\S]{0,40}") {
            let mut t = Table::new("t");
            t.set(&k, v.clone());
            let text = Document { header: vec![v.clone()], tables: vec![t] }.to_toml();
            let parsed: toml::Table = toml::from_str(&text).expect("valid TOML");
            proptest::prop_assert_eq!(parsed["t"][&k].as_str(), Some(v.as_str()));
        }
    }

    #[test]
    fn password_variables_are_shell_names() {
        assert_eq!(password_env("trader"), "TRADER_PASSWORD");
        assert_eq!(password_env("app-user.v2"), "APP_USER_V2_PASSWORD");
        assert_eq!(password_env("ünï"), "_N__PASSWORD");
        assert_eq!(password_env("9lives"), "_9LIVES_PASSWORD");
    }
}
