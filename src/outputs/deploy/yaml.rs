//! A small deterministic YAML writer: maps keep insertion order, strings are quoted whenever YAML
//! could read them as anything but that string, multi-line text is a literal block. Rendering the
//! same tree twice yields the same bytes.

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Str(String),
    Int(i64),
    Bool(bool),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

/// `map![("k", v), …]` as a function.
pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
    Yaml::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

pub fn s(text: impl Into<String>) -> Yaml {
    Yaml::Str(text.into())
}

pub fn seq(items: impl IntoIterator<Item = Yaml>) -> Yaml {
    Yaml::Seq(items.into_iter().collect())
}

impl Yaml {
    /// A document: the tree followed by a newline.
    pub fn to_document(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, 0, Ctx::Top);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

/// Several documents in one stream, separated by `---`.
pub fn stream(docs: &[Yaml]) -> String {
    docs.iter()
        .map(|d| d.to_document())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Top,
    /// After `key:` — a scalar goes on the same line, a collection on the next.
    MapValue,
    /// After `- ` — a map starts on the same line.
    SeqItem,
}

fn write_value(out: &mut String, v: &Yaml, indent: usize, ctx: Ctx) {
    let pad = " ".repeat(indent);
    match v {
        Yaml::Map(entries) if entries.is_empty() => {
            out.push_str(if ctx == Ctx::Top { "{}\n" } else { " {}\n" })
        }
        Yaml::Seq(items) if items.is_empty() => {
            out.push_str(if ctx == Ctx::Top { "[]\n" } else { " []\n" })
        }
        Yaml::Map(entries) => {
            if ctx == Ctx::MapValue {
                out.push('\n');
            }
            for (i, (k, val)) in entries.iter().enumerate() {
                if !(ctx == Ctx::SeqItem && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&scalar(k));
                out.push(':');
                write_value(out, val, indent + 2, Ctx::MapValue);
            }
        }
        Yaml::Seq(items) => {
            if ctx == Ctx::MapValue {
                out.push('\n');
            }
            // Items of a sequence under a key sit at the key's indentation (indent - 2) + 2.
            let item_pad = if ctx == Ctx::MapValue {
                " ".repeat(indent)
            } else {
                pad.clone()
            };
            for (i, item) in items.iter().enumerate() {
                if !(ctx == Ctx::SeqItem && i == 0) {
                    out.push_str(&item_pad);
                }
                out.push_str("- ");
                match item {
                    Yaml::Map(e) if !e.is_empty() => {
                        write_value(out, item, item_pad.len() + 2, Ctx::SeqItem)
                    }
                    Yaml::Seq(e) if !e.is_empty() => {
                        write_value(out, item, item_pad.len() + 2, Ctx::SeqItem)
                    }
                    other => {
                        out.push_str(scalar_value(other, item_pad.len() + 2).trim_start());
                        out.push('\n');
                    }
                }
            }
        }
        scalar_v => {
            if ctx == Ctx::MapValue {
                out.push(' ');
            }
            out.push_str(&scalar_value(scalar_v, indent));
            out.push('\n');
        }
    }
}

fn scalar_value(v: &Yaml, indent: usize) -> String {
    match v {
        Yaml::Int(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Str(text) if block_ok(text) => {
            let pad = " ".repeat(indent);
            let mut out = String::from("|");
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
            }
            out
        }
        Yaml::Str(text) => scalar(text),
        _ => String::new(),
    }
}

/// A literal block `|` keeps the text byte for byte when it has several lines, ends with exactly
/// one newline, and no line starts with a space or has trailing blanks or control characters.
fn block_ok(text: &str) -> bool {
    text.contains('\n')
        && text.ends_with('\n')
        && !text.ends_with("\n\n")
        && !text.starts_with('\n')
        // Split on `\n` alone: `lines()` would hide a `\r` before it, which a YAML reader takes
        // for a line break of its own.
        && text.strip_suffix('\n').unwrap_or(text).split('\n').all(|l| {
            !l.starts_with(' ')
                && !l.ends_with([' ', '\t'])
                && l.chars()
                    .all(|c| c == '\t' || (printable(c) && !c.is_control()))
        })
}

/// YAML's printable set (YAML 1.2 §5.1), less the byte-order mark and the line and paragraph
/// separators (line breaks to a YAML 1.1 reader): anything else is escaped.
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
}

/// A double-quoted scalar: `\\`, `"`, line breaks, tabs and every character outside the printable
/// set escaped.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if printable(c) && !c.is_control() => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A string scalar: plain when YAML 1.1 and 1.2 both read it back as this string, else double-quoted.
fn scalar(text: &str) -> String {
    if plain_ok(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

fn plain_ok(text: &str) -> bool {
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let first = match text.chars().next() {
        Some(c) => c,
        None => return false,
    };
    first.is_ascii_alphabetic()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
        && !looks_numeric(text)
}

fn looks_numeric(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.parse::<f64>().is_ok()
        || t.starts_with("0x")
        || t.starts_with("0o")
        || t == ".inf"
        || t == ".nan"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carriage_return_is_never_written_into_a_block() {
        // `lines()` strips "\r\n"; YAML reads a bare `\r` as a line break.
        assert!(!block_ok("\r\n"));
        assert!(!block_ok("a\r\nb\n"));
        assert_eq!(scalar_value(&Yaml::Str("\r\n".into()), 2), "\"\\r\\n\"");
        assert!(block_ok("a\nb\n"));
    }

    #[test]
    fn quotes_what_yaml_would_read_as_something_else() {
        assert_eq!(scalar("pgbouncer"), "pgbouncer");
        assert_eq!(scalar("1000"), "\"1000\"");
        assert_eq!(scalar("on"), "\"on\"");
        assert_eq!(scalar("No"), "\"No\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("1e3"), "\"1e3\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("app.kubernetes.io/name"), "app.kubernetes.io/name");
        assert_eq!(
            scalar("a\u{7f}\u{93}\u{feff}\"\\"),
            "\"a\\u007f\\u0093\\ufeff\\\"\\\\\""
        );
    }

    #[test]
    fn nested_layout() {
        let doc = map([
            ("a", s("x")),
            (
                "list",
                seq([map([("name", s("nm")), ("port", Yaml::Int(5))]), s("plain")]),
            ),
            ("text", s("l1\nl2\n")),
            ("empty", map::<String>([])),
        ]);
        assert_eq!(
            doc.to_document(),
            "a: x\nlist:\n  - name: nm\n    port: 5\n  - plain\ntext: |\n  l1\n  l2\nempty: {}\n"
        );
    }

    #[test]
    fn text_that_a_block_would_change_is_quoted() {
        assert_eq!(scalar_value(&s(" lead\nx\n"), 2), "\" lead\\nx\\n\"");
        assert_eq!(scalar_value(&s("a\nb"), 2), "\"a\\nb\"");
    }
}
