#!/usr/bin/env python3
"""Generate poolstack's settings catalogs (src/catalog/data/*.tsv) from the reference facts.

Usage: python3 scripts/gen_catalog.py [--reference DIR] [--out DIR]

Inputs (under --reference, default <repo>/../shared/reference):
  postgres/gucs_by_version.json   every PostgreSQL parameter of majors 12-18
  pgbouncer/options.json          every PgBouncer [pgbouncer]/[databases]/[users]/[peers] key

Outputs (under --out, default <repo>/src/catalog/data): tab-separated tables with one header
line, read by src/catalog/{postgres,pgbouncer}.rs through include_str!. `\\N` marks a missing
value. The output is a pure function of the inputs (sorted, no timestamps), so regenerating
yields byte-identical files; tests/catalog_generator.rs checks exactly that.

Only the facts the code needs are emitted. The few curated tables below (renames, aliases,
hidden enum spellings, platform defaults) cite the reference note they come from; every one
of them is checked against the data, so a changed input fails loudly instead of drifting.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

NULL = "\\N"

# --------------------------------------------------------------------------------------------
# PostgreSQL curated facts
# --------------------------------------------------------------------------------------------

# Renamed parameters: (old name, new name, major that has only the new name).
# Source: reference/postgres/guc-versions.md, "Headline changes" (WAL and replication: [13]
# wal_keep_segments renamed wal_keep_size; Planner: [16] force_parallel_mode renamed
# debug_parallel_query; Other 18 additions: ssl_groups, "the old name is an alias").
PG_RENAMES = [
    ("wal_keep_segments", "wal_keep_size", 13),
    ("force_parallel_mode", "debug_parallel_query", 16),
    ("ssl_ecdh_curve", "ssl_groups", 18),
]

# Old names accepted in configuration files (map_old_guc_names): (alias, target, from, to).
# Source: reference/postgres/guc-versions.md, "Aliases accepted in config files".
PG_ALIASES = [
    ("sort_mem", "work_mem", 12, 18),
    ("vacuum_mem", "maintenance_work_mem", 12, 18),
    ("ssl_ecdh_curve", "ssl_groups", 18, 18),
]

# Hidden enum spellings PostgreSQL accepts but does not list in pg_settings.enumvals.
# reference/postgres/conf-syntax.md: "Hidden legacy aliases still work, e.g. wal_level =
# hot_standby gives replica"; guc-versions.md: PG13 accepted on/true/yes/1 for
# password_encryption (removed in 14). The remaining entries are the hidden rows of the
# config_enum_entry arrays in PostgreSQL's GUC tables (boolean spellings of on/off enums,
# "debug"/"info" message levels). Each maps a hidden spelling to the visible value it means;
# a bare spelling means itself. (name, max major or None, spellings)
BOOLISH = "true=on,false=off,yes=on,no=off,1=on,0=off"
PG_HIDDEN_ENUM = [
    ("archive_mode", None, BOOLISH),
    ("backslash_quote", None, BOOLISH),
    ("compute_query_id", None, BOOLISH),
    ("constraint_exclusion", None, BOOLISH),
    ("debug_parallel_query", None, BOOLISH),
    ("force_parallel_mode", None, BOOLISH),
    ("huge_pages", None, BOOLISH),
    ("recovery_prefetch", None, BOOLISH),
    ("synchronous_commit", None, BOOLISH),
    ("wal_compression", None, BOOLISH),
    ("wal_level", None, "archive=replica,hot_standby=replica"),
    ("password_encryption", 13, "on=md5,true=md5,yes=md5,1=md5"),
    ("client_min_messages", None, "debug=debug2,info"),
    ("trace_recovery_messages", None, "debug=debug2,info"),
    ("icu_validation_level", None, "debug=debug2,info"),
    ("log_min_messages", None, "debug=debug2"),
    ("log_min_error_statement", None, "debug=debug2"),
]

PG_UNITS = {None, "B", "kB", "MB", "8kB", "ms", "s", "min"}
PG_TYPES = {"bool", "integer", "real", "string", "enum"}

# --------------------------------------------------------------------------------------------
# PgBouncer curated facts
# --------------------------------------------------------------------------------------------

# Option defaults whose text describes several platforms; poolstack targets Linux.
# Source: reference/pgbouncer/facts.md §2 (tcp_defer_accept "1 on Linux, else 0";
# unix_socket_dir "/tmp ("" on WIN32)").
PGB_LINUX_DEFAULTS = {
    "1 on Linux, else 0": "1",
    '/tmp ("" on WIN32)': "/tmp",
}

# Connection-string / user keys whose `default` text is a literal value (facts.md §3).
PGB_LITERAL_DEFAULTS = {
    ("databases", "port"): "5432",
    ("databases", "password"): "",
    ("databases", "load_balance_hosts"): "round-robin",
    ("peers", "port"): "6432",
}
# ... and those whose `default` text only describes behaviour (no value to emit).
PGB_DESCRIPTIVE_DEFAULTS = {
    ("databases", "dbname"),
    ("databases", "host"),
}

# Allowed values of the enum keys outside [pgbouncer] (facts.md §3: "session | transaction |
# statement", "disable | round-robin"); checked against the notes below.
PGB_SECTION_ENUMS = {
    ("databases", "pool_mode"): ["session", "transaction", "statement"],
    ("users", "pool_mode"): ["session", "transaction", "statement"],
    ("databases", "load_balance_hosts"): ["disable", "round-robin"],
}

PGB_PLATFORMS = {None: "any", "#ifdef WIN32": "windows", "#ifndef WIN32": "unix"}
PGB_SECTIONS = ["pgbouncer", "databases", "users", "peers"]


class DataError(Exception):
    """The reference data no longer matches what this generator knows how to emit."""


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise DataError(msg)


def cell(value) -> str:
    """One TSV cell. Values never hold tabs, newlines or backslashes (checked)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value)
    check(not any(c in text for c in "\t\n\r\\"), f"unsupported character in {text!r}")
    return text


def write_table(path: Path, comment: str, header: list[str], rows: list[list]) -> None:
    lines = [f"# {comment} Generated by scripts/gen_catalog.py; do not edit.", "\t".join(header)]
    for row in rows:
        check(len(row) == len(header), f"row width mismatch in {path.name}: {row!r}")
        lines.append("\t".join(cell(v) for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def pg_record(rec: dict, major: int) -> tuple:
    """The facts of one parameter in one major, as emitted (everything but the major range)."""
    name = rec["name"]
    check(rec["type"] in PG_TYPES, f"{name}: unknown type {rec['type']}")
    check(rec["unit"] in PG_UNITS, f"{name}: unknown unit {rec['unit']}")
    enumvals = rec["enumvals"]
    if rec["type"] == "enum":
        check(bool(enumvals), f"{name}: enum without values")
        for v in enumvals:
            check("," not in v and "=" not in v, f"{name}: enum value {v!r} needs escaping")
        enum_cell = ",".join(enumvals)
    else:
        check(enumvals is None, f"{name}: enum values on a {rec['type']}")
        enum_cell = None
    hidden = None
    for hname, max_major, spellings in PG_HIDDEN_ENUM:
        if hname != name or (max_major is not None and major > max_major):
            continue
        if rec["type"] != "enum":
            continue  # e.g. wal_compression was a plain bool before 15
        for item in spellings.split(","):
            alias, _, target = item.partition("=")
            check(alias not in enumvals, f"{name} {major}: hidden {alias} is visible")
            check(not target or target in enumvals, f"{name} {major}: {target} not an enum value")
        hidden = spellings
    flags = set(rec["flags"])
    return (
        rec["type"],
        rec["context"],
        rec["unit"],
        rec["min"],
        rec["max"],
        rec["default"],
        enum_cell,
        hidden,
        "GUC_LIST_INPUT" in flags,
        "GUC_REPORT" in flags,
        rec.get("since_minor"),
    )


def gen_postgres(ref: Path, out: Path) -> None:
    data = json.loads((ref / "postgres" / "gucs_by_version.json").read_text(encoding="utf-8"))
    majors = sorted(int(m) for m in data)
    check(majors == list(range(majors[0], majors[-1] + 1)), "majors are not contiguous")

    per_name: dict[str, dict[int, tuple]] = {}
    spelling: dict[str, str] = {}
    for major in majors:
        seen = set()
        for rec in data[str(major)]:
            key = rec["name"].lower()
            check(key not in seen, f"{rec['name']} twice in {major}")
            seen.add(key)
            check(spelling.setdefault(key, rec["name"]) == rec["name"], f"{key}: spelling varies")
            per_name.setdefault(key, {})[major] = pg_record(rec, major)
    for hname, _, _ in PG_HIDDEN_ENUM:
        check(hname in per_name, f"hidden enum table names unknown parameter {hname}")

    rows = []
    for key in sorted(per_name):
        by_major = per_name[key]
        start = None
        for major in majors + [None]:
            facts = by_major.get(major) if major is not None else None
            if start is not None and (facts is None or facts != by_major[start]):
                rows.append([spelling[key], start, prev, *by_major[start]])
                start = None
            if facts is not None and start is None:
                start = major
            prev = major
    write_table(
        out / "pg_params.tsv",
        "PostgreSQL parameters: one row per run of majors with identical facts.",
        ["name", "from", "to", "type", "context", "unit", "min", "max", "default",
         "enum_values", "hidden_enum", "list_input", "report", "since_minor"],
        rows,
    )

    def present(name: str, major: int) -> bool:
        return major in per_name.get(name.lower(), {})

    for old, new, major in PG_RENAMES:
        check(present(old, major - 1) and not present(old, major), f"rename {old}: not removed in {major}")
        check(present(new, major) and not present(new, major - 1), f"rename {new}: not added in {major}")
    for alias, target, first, last in PG_ALIASES:
        for major in range(first, last + 1):
            check(present(target, major), f"alias {alias}: {target} missing in {major}")
            check(not present(alias, major), f"alias {alias} is a parameter in {major}")
    write_table(
        out / "pg_renames.tsv",
        "PostgreSQL parameters renamed (reference/postgres/guc-versions.md).",
        ["old", "new", "in"],
        sorted([list(r) for r in PG_RENAMES]),
    )
    write_table(
        out / "pg_aliases.tsv",
        "Old PostgreSQL names still accepted (reference/postgres/guc-versions.md).",
        ["alias", "target", "from", "to"],
        sorted([list(a) for a in PG_ALIASES]),
    )


# --------------------------------------------------------------------------------------------
# PgBouncer
# --------------------------------------------------------------------------------------------


def pgb_version(text: str) -> str:
    """'<=1.5' -> '1.5', 'unreleased (master)' -> 'master', '1.24.1' stays."""
    if text == "unreleased (master)":
        return "master"
    text = text.removeprefix("<=")
    check(re.fullmatch(r"1\.\d+(\.\d+)?", text) is not None, f"unexpected version {text!r}")
    return text


def pgb_type(sec: str, opt: dict) -> str:
    ty = opt["type"]
    units = opt.get("units", "")
    if sec == "pgbouncer" and ty == "int":
        # Integer options counted in seconds or milliseconds (facts.md §2 units column).
        if units.startswith("seconds"):
            return "int-seconds"
        if units.startswith("milliseconds"):
            return "millis"
        return "int"
    known = {"int", "uint", "bool", "time", "int-seconds", "enum", "string", "path", "list"}
    check(ty in known, f"{sec}.{opt['name']}: unknown type {ty}")
    return ty


def pgb_default(sec: str, opt: dict, names: set[str], raw) -> tuple:
    """(default value or None, inherited [pgbouncer] option or None)."""
    if raw is None:
        return None, None
    if sec == "pgbouncer":
        return PGB_LINUX_DEFAULTS.get(raw, raw), None
    key = (sec, opt["name"])
    if key in PGB_LITERAL_DEFAULTS:
        check(raw in (PGB_LITERAL_DEFAULTS[key], '""'), f"{key}: default {raw!r} changed")
        return PGB_LITERAL_DEFAULTS[key], None
    m = re.fullmatch(r"(?:global |user/global )?([a-z_]+)", raw)
    if m and m.group(1) in names:
        return None, m.group(1)
    check(key in PGB_DESCRIPTIVE_DEFAULTS, f"{key}: unclassified default {raw!r}")
    return None, None


def gen_pgbouncer(ref: Path, out: Path) -> None:
    data = json.loads((ref / "pgbouncer" / "options.json").read_text(encoding="utf-8"))
    sections = data["sections"]
    check(sorted(sections) == sorted(PGB_SECTIONS), "unexpected PgBouncer sections")
    global_names = {o["name"] for o in sections["pgbouncer"]}

    options, defaults, allowed_rows = [], [], []
    for sec in PGB_SECTIONS:
        seen = set()
        for opt in sections[sec]:
            name = opt["name"]
            check(opt["section"] == sec and name not in seen, f"{sec}.{name}: duplicate")
            seen.add(name)
            check(opt.get("removed_in") is None, f"{sec}.{name}: removed_in is set")
            ty = pgb_type(sec, opt)
            since = pgb_version(opt["since"])
            platform = PGB_PLATFORMS.get(opt.get("platform"))
            check(platform is not None, f"{sec}.{name}: unknown platform {opt.get('platform')}")
            reloadable = opt.get("reloadable", True)
            _, inherits = pgb_default(sec, opt, global_names, opt.get("default"))
            options.append([sec, name, ty, since, reloadable, platform, inherits])

            history = opt.get("history") or [
                {"from": opt["since"], "default": opt.get("default"), "reloadable": reloadable}
            ]
            for step in history:
                value, _ = pgb_default(sec, opt, global_names, step.get("default"))
                defaults.append([sec, name, pgb_version(step["from"]), step["reloadable"], value])

            if ty == "bool":
                check(opt.get("allowed_values", ["0", "1"]) == ["0", "1"], f"{name}: bool values")
                allowed_rows.append([sec, name, since, "0,1"])
            elif ty == "enum":
                if sec == "pgbouncer":
                    by_version = opt.get("allowed_values_by_version") or {opt["since"]: opt["allowed_values"]}
                    versions = list(by_version.items())
                    check(versions[-1][1] == opt["allowed_values"], f"{name}: newest values differ")
                else:
                    values = PGB_SECTION_ENUMS.get((sec, name))
                    check(values is not None, f"{sec}.{name}: enum values not curated")
                    notes = opt.get("notes", "")
                    check(all(v in notes for v in values), f"{sec}.{name}: notes disagree")
                    versions = [(opt["since"], values)]
                for first, values in versions:
                    for v in values:
                        check("," not in v, f"{name}: enum value {v!r} needs escaping")
                    allowed_rows.append([sec, name, pgb_version(first), ",".join(values)])

    order = {s: i for i, s in enumerate(PGB_SECTIONS)}

    def by_key(row):
        return (order[row[0]], row[1])

    def version_key(text: str):
        return (1, 10**6) if text == "master" else tuple(int(p) for p in text.split("."))

    write_table(
        out / "pgb_options.tsv",
        "PgBouncer keys per section (reference/pgbouncer/options.json).",
        ["section", "name", "type", "since", "reloadable", "platform", "inherits"],
        sorted(options, key=by_key),
    )
    write_table(
        out / "pgb_defaults.tsv",
        "PgBouncer defaults and reloadability per version step.",
        ["section", "name", "from", "reloadable", "default"],
        sorted(defaults, key=lambda r: (*by_key(r), version_key(r[2]))),
    )
    write_table(
        out / "pgb_allowed.tsv",
        "PgBouncer enum and 0/1 values per version step.",
        ["section", "name", "from", "values"],
        sorted(allowed_rows, key=lambda r: (*by_key(r), version_key(r[2]))),
    )


def main(argv: list[str]) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=repo.parent / "shared" / "reference")
    parser.add_argument("--out", type=Path, default=repo / "src" / "catalog" / "data")
    args = parser.parse_args(argv)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        gen_postgres(args.reference, args.out)
        gen_pgbouncer(args.reference, args.out)
    except (DataError, OSError, KeyError, ValueError) as err:
        print(f"gen_catalog: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
