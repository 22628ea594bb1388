//! Where each key and value of the manifest is: a path → span index built from toml's spanned
//! parse tree, so that the serde types stay plain and every effective setting can still point at
//! its line.

use std::collections::HashMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// One step of a path into the manifest: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub type Path = Vec<Seg>;

/// Build a path from a dotted spec where numbers are array indices: `path(&["databases", "0", "pool_size"])`.
pub fn path(parts: &[&str]) -> Path {
    parts
        .iter()
        .map(|p| match p.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key((*p).to_string()),
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Entry {
    /// The key (for array elements: the element itself).
    pub key: Range<usize>,
    pub value: Range<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    entries: HashMap<Path, Entry>,
}

impl SpanIndex {
    pub fn build(text: &str) -> Result<SpanIndex, toml::de::Error> {
        let root = DeTable::parse(text)?;
        let mut index = SpanIndex::default();
        let mut prefix = Vec::new();
        index.walk_table(root.get_ref(), &mut prefix);
        Ok(index)
    }

    fn walk_table(&mut self, table: &DeTable<'_>, prefix: &mut Path) {
        for (key, value) in table.iter() {
            prefix.push(Seg::Key(key.get_ref().to_string()));
            self.entries.insert(
                prefix.clone(),
                Entry {
                    key: key.span(),
                    value: value.span(),
                },
            );
            self.walk_value(value.get_ref(), prefix);
            prefix.pop();
        }
    }

    fn walk_value(&mut self, value: &DeValue<'_>, prefix: &mut Path) {
        match value {
            DeValue::Table(t) => self.walk_table(t, prefix),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    prefix.push(Seg::Index(i));
                    self.entries.insert(
                        prefix.clone(),
                        Entry {
                            key: item.span(),
                            value: item.span(),
                        },
                    );
                    self.walk_value(item.get_ref(), prefix);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    pub fn get(&self, path: &[Seg]) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn value(&self, path: &[Seg]) -> Option<Range<usize>> {
        self.get(path).map(|e| e.value.clone())
    }

    pub fn key(&self, path: &[Seg]) -> Option<Range<usize>> {
        self.get(path).map(|e| e.key.clone())
    }

    /// The deepest path whose value span contains `offset` (to name the table an error is in).
    pub fn innermost(&self, offset: usize) -> Option<&Path> {
        self.entries
            .iter()
            .filter(|(_, e)| {
                (e.value.start <= offset && offset < e.value.end.max(e.value.start + 1))
                    || (e.key.start <= offset && offset < e.key.end)
            })
            .max_by_key(|(p, _)| p.len())
            .map(|(p, _)| p)
    }
}

/// A path as a user would write it: `databases[0].pool_size`.
pub fn display(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_nested_keys_and_array_tables() {
        let text = "[stack]\nname = \"x\"\n[[databases]]\nname = \"a\"\npool_size = 5\n";
        let idx = SpanIndex::build(text).unwrap();
        let v = idx.value(&path(&["databases", "0", "pool_size"])).unwrap();
        assert_eq!(&text[v], "5");
        let k = idx.key(&path(&["stack", "name"])).unwrap();
        assert_eq!(&text[k], "name");
        assert_eq!(
            display(&path(&["databases", "0", "pool_size"])),
            "databases[0].pool_size"
        );
    }
}
