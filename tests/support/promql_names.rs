//! The metric names a PromQL expression reads, found by tokenizing it as PromQL: label matchers
//! (`{…}`), grouping label lists (`by (…)`, `without (…)`, `on (…)`, `ignoring (…)`,
//! `group_left (…)`, `group_right (…)`), strings, numbers, durations (`[5m]`), function names and
//! keywords are not metric names — so a label called like a metric is never mistaken for one.

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    // Aggregation operators, which may be followed by `by (…)` rather than `(`.
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Every metric name `expr` selects, in order of appearance (repeats kept).
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    // The previous identifier was a grouping keyword: the next `( … )` holds labels.
    let mut grouping = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i);
            continue;
        }
        if c == '{' {
            i = skip_until(&chars, i, '}');
            continue;
        }
        if c == '[' {
            i = skip_until(&chars, i, ']');
            continue;
        }
        if c == '(' && grouping {
            i = skip_until(&chars, i, ')');
            grouping = false;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let lower = word.to_ascii_lowercase();
            if GROUPING.contains(&lower.as_str()) {
                grouping = true;
                continue;
            }
            if KEYWORDS.contains(&lower.as_str()) {
                continue;
            }
            // A function call: a name followed by `(`.
            if chars.get(j) == Some(&'(') {
                continue;
            }
            names.push(word);
            continue;
        }
        i += 1;
    }
    names
}

fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\\' && quote != '`' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// Past the matching `close`, skipping strings inside.
fn skip_until(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '"' || chars[i] == '\'' || chars[i] == '`' {
            i = skip_string(chars, i);
            continue;
        }
        if chars[i] == close {
            return i + 1;
        }
        i += 1;
    }
    i
}

#[test]
fn labels_functions_and_keywords_are_not_metric_names() {
    let e = r#"histogram_quantile(0.99, sum by (job, instance, pool_name, le) (rate(h_bucket{pool_name="up"}[5m]))) > 0.5 or up{job="x} pgbouncer_up"} == 0 and on (instance) sum without (database, user) (a + b / 1e6) >= 3"#;
    assert_eq!(metric_names(e), ["h_bucket", "up", "a", "b"]);
}
