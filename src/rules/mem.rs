//! MEM — memory (needs postgres.memory).
//!
//! Parameters not set in the stack count at the declared version's built-in default, and the
//! message says so.

use super::con::relate;
use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::{Os, Workload};
use crate::source::Loc;
use crate::stack::{Origin, PgParam, Postgres};
use crate::units::Bytes;

pub const RULES: &[Rule] = &[
    Rule {
        code: "MEM001",
        name: "shared-buffers-fraction",
        severity: Severity::Warning,
        summary: "shared_buffers is outside 15–40 % of RAM (5–40 % on a desktop)",
        doc: MEM001_DOC,
        check: Some(shared_buffers_fraction),
    },
    Rule {
        code: "MEM002",
        name: "effective-cache-size-fraction",
        severity: Severity::Warning,
        summary: "effective_cache_size is outside 50–80 % of RAM (20–80 % on a desktop)",
        doc: MEM002_DOC,
        check: Some(effective_cache_size_fraction),
    },
    Rule {
        code: "MEM003",
        name: "work-mem-overcommit",
        severity: Severity::Warning,
        summary: "shared_buffers + work_mem per server connection + autovacuum exceed RAM",
        doc: MEM003_DOC,
        check: Some(work_mem_overcommit),
    },
    Rule {
        code: "MEM004",
        name: "maintenance-memory",
        severity: Severity::Warning,
        summary: "maintenance_work_mem is above RAM / 8 or above 8GB",
        doc: MEM004_DOC,
        check: Some(maintenance_memory),
    },
    Rule {
        code: "MEM005",
        name: "exceeds-ram",
        severity: Severity::Error,
        summary: "shared_buffers + wal_buffers reach the RAM: the server cannot start",
        doc: MEM005_DOC,
        check: Some(exceeds_ram),
    },
    Rule {
        code: "MEM006",
        name: "huge-pages",
        severity: Severity::Info,
        summary: "shared_buffers of 8GB or more without huge_pages = on",
        doc: MEM006_DOC,
        check: Some(huge_pages),
    },
];

const MEM001_DOC: &str = "\
Checks, when [postgres] memory declares the RAM available to PostgreSQL, that shared_buffers
is between 15 % and 40 % of it (5 % to 40 % for workload = \"desktop\"). An unset shared_buffers
counts at the version's built-in default (128MB from PostgreSQL 15, 8MB before).

Why it matters: PostgreSQL's documentation gives 25 % of RAM as a reasonable starting value for
a dedicated server and says more than 40 % is unlikely to work better than a smaller amount: the
kernel's page cache then holds the same pages twice and less memory is left for work_mem and
maintenance. Far below, the working set is read from the kernel cache or the disk over and
over. A desktop workload shares the machine, hence the lower bound of 5 % (PgTune gives it
RAM / 16).

How to fix: set shared_buffers near 25 % of RAM (the help gives the number; RAM / 16 for a
desktop), and restart: it is a postmaster parameter. Larger values usually want a larger
max_wal_size too.

Facts: ../reference/postgres/crosscheck-facts.md §3 (shared_buffers: the docs' 25 % and 40 %);
../reference/tuning/pgtune-formulas.md §2 (shared_buffers).";

const MEM002_DOC: &str = "\
Checks, when [postgres] memory is declared, that effective_cache_size is between 50 % and 80 %
of the RAM (20 % to 80 % for workload = \"desktop\"). An unset effective_cache_size counts at
the built-in default, 4GB.

Why it matters: effective_cache_size allocates nothing; it tells the planner how much of the
data it may expect in shared_buffers plus the kernel's cache. Too low and the planner shies away
from index scans that would be cheap; too high and it picks plans that assume data is cached
when it is not. The 50–80 % band is the common rule of thumb (PgTune uses 75 %, 25 % for a
desktop); the PostgreSQL documentation itself gives no percentage.

How to fix: set effective_cache_size to about 75 % of RAM (the help gives the number; 25 % for
a desktop). It can be changed with a reload.

Facts: ../reference/postgres/crosscheck-facts.md §3 (effective_cache_size: planner estimate
only, 50–75 % is folklore); ../reference/tuning/pgtune-formulas.md §2 (effective_cache_size).";

const MEM003_DOC: &str = "\
Checks, when [postgres] memory is declared, a floor of the memory PostgreSQL may need at once:
shared_buffers + (server connections × work_mem) + autovacuum_max_workers × autovacuum_work_mem
(maintenance_work_mem when autovacuum_work_mem is -1), against the RAM. The server connections
are the real budget — PgBouncer's pools with their caps and instances plus the direct clients
(CON002's count), or without PgBouncer the apps' pools plus the clients (CON003's count) — not
max_connections, which only bounds them. Silent when an unbounded app pool makes the count
infinite (CON003 reports that). Unset parameters count at the version's defaults.

Why it matters: work_mem is per sort or hash operation, and one query may run several, so
this sum is a lower bound of the peak. When it exceeds the RAM, a busy hour ends in swapping or
in the kernel's OOM killer terminating a backend, after which PostgreSQL restarts every
connection (`terminating connection because of crash of another server process`).

How to fix: lower work_mem (the help gives the largest value that fits), lower the pool budget,
or give autovacuum its own smaller autovacuum_work_mem.

Facts: ../reference/postgres/crosscheck-facts.md §3 (work_mem: \"the total memory used could be
many times the value of work_mem\"; maintenance_work_mem and autovacuum_work_mem: up to
autovacuum_max_workers times this memory) and §1.3 (the pool budget).";

const MEM004_DOC: &str = "\
Checks, when [postgres] memory is declared, that maintenance_work_mem is at most RAM / 8 and at
most 8GB. An unset maintenance_work_mem counts at the built-in default, 64MB.

Why it matters: maintenance_work_mem is taken by every VACUUM, CREATE INDEX and ALTER TABLE ADD
FOREIGN KEY, and by each autovacuum worker unless autovacuum_work_mem is set: up to
autovacuum_max_workers times this memory may be allocated at once, on top of shared_buffers and
the sessions' work_mem. Above 8GB nothing is gained (PgTune caps it there; before PostgreSQL 17
VACUUM could use at most 1GB for dead tuple identifiers anyway).

How to fix: lower maintenance_work_mem to at most the smaller of RAM / 8 and 8GB (the help gives
the number; PgTune uses RAM / 16), and set autovacuum_work_mem if autovacuum should use less.

Facts: ../reference/postgres/crosscheck-facts.md §3 (maintenance_work_mem, autovacuum_work_mem,
the VACUUM 1GB cap); ../reference/tuning/pgtune-formulas.md §2 (maintenance_work_mem: RAM / 16,
RAM / 8 for data warehouses, capped at 8GB).";

const MEM005_DOC: &str = "\
Checks, when [postgres] memory is declared, that shared_buffers + wal_buffers stay below the
RAM. wal_buffers = -1 (the default) is 1/32 of shared_buffers, between 64kB and one WAL segment
(16MB).

Why it matters: both are allocated as one shared memory segment when the server starts. A
segment as large as the machine's memory cannot be mapped: the start fails with `FATAL: could
not map anonymous shared memory: Cannot allocate memory` — or, where the kernel overcommits,
the server starts and is killed by the OOM killer as soon as the buffers fill.

How to fix: set shared_buffers to about 25 % of the RAM (the help gives the number), or correct
[postgres] memory if it understates the machine.

Facts: ../reference/postgres/crosscheck-facts.md §3 (shared_buffers; the shared memory mapping
failure quoted under huge_pages); ../reference/tuning/pgtune-formulas.md §2 (wal_buffers).";

const MEM006_DOC: &str = "\
Reports shared_buffers of 8GB or more while huge_pages is off or try (try is the default).
Silent when os = \"mac\" (no huge pages there) or shared_memory_type is not mmap.

Why it matters: with huge_pages = try PostgreSQL silently falls back to normal 4kB pages when
the kernel has not reserved enough huge pages; every backend then maps gigabytes of shared
memory through page tables of its own, which costs memory and TLB misses. With huge_pages = on
a missing reservation is a start failure you see (`FATAL: could not map anonymous shared
memory: Cannot allocate memory`) instead of a silent slowdown.

How to fix: reserve the pages first — `postgres -D $PGDATA -C shared_memory_size_in_huge_pages`
(PostgreSQL 15+) gives the number for `sysctl vm.nr_hugepages` — then set huge_pages = on.
Transparent huge pages are not a substitute (the docs discourage them).

Facts: ../reference/postgres/crosscheck-facts.md §3 (huge_pages: on/try, the start failure,
sizing with shared_memory_size_in_huge_pages).";

/// A memory parameter's effective value with how to show it.
struct Size {
    bytes: Bytes,
    /// The raw base value (-1 means "automatic" or "use another parameter" for some).
    base: Option<f64>,
    param: PgParam,
}

impl Size {
    fn of(pg: &Postgres, name: &str) -> Option<Size> {
        let param = pg.param_or_default(name)?;
        Some(Size {
            bytes: param.bytes()?,
            base: param.base,
            param,
        })
    }

    fn loc(&self) -> Option<&Loc> {
        self.param.origin.loc()
    }

    /// `shared_buffers 128MB (not set: PostgreSQL 16's built-in default)`.
    fn shown(&self, pg: &Postgres) -> String {
        format!(
            "{} {}{}",
            self.param.name,
            self.bytes,
            provenance(&self.param, pg)
        )
    }
}

/// Where a parameter's value came from, for a message.
fn provenance(param: &PgParam, pg: &Postgres) -> String {
    match &param.origin {
        Origin::Default(_) => format!(
            " (not set: {}'s built-in default)",
            pg.major()
                .map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}"))
        ),
        other => other.note(),
    }
}

/// The RAM, when declared.
fn ram(pg: &Postgres) -> Option<(Bytes, Option<&Loc>)> {
    pg.memory
        .as_ref()
        .filter(|m| m.value.0 > 0)
        .map(|m| (m.value, m.loc()))
}

fn is_desktop(pg: &Postgres) -> bool {
    pg.workload
        .as_ref()
        .is_some_and(|w| w.value == Workload::Desktop)
}

fn percent(part: Bytes, whole: Bytes) -> f64 {
    part.0 as f64 * 100.0 / whole.0 as f64
}

/// A suggestion rounded down to whole megabytes (or kilobytes below 1MB), as people write them.
fn round_down(b: Bytes) -> Bytes {
    let mb = 1u64 << 20;
    if b.0 >= mb {
        Bytes(b.0 / mb * mb)
    } else {
        Bytes(b.0 / 1024 * 1024)
    }
}

fn with_ram(d: Diagnostic, ram: Bytes, loc: Option<&Loc>) -> Diagnostic {
    relate(d, loc, format!("memory = {ram}"))
}

/// MEM001 and MEM002: a parameter's share of the RAM against a band.
struct Band {
    code: &'static str,
    param: &'static str,
    low: f64,
    high: f64,
    /// The suggested share, and what it is.
    target: (f64, &'static str),
}

fn check_band(cx: &Context<'_>, band: &Band, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    let Some((ram, ram_loc)) = ram(pg) else {
        return;
    };
    let Some(size) = Size::of(pg, band.param) else {
        return;
    };
    let share = percent(size.bytes, ram);
    if share >= band.low && share <= band.high {
        return;
    }
    let workload = if is_desktop(pg) {
        " for workload = \"desktop\""
    } else {
        ""
    };
    let suggested = round_down(Bytes((ram.0 as f64 * band.target.0 / 100.0) as u64));
    let d = Diagnostic::new(
        band.code,
        Severity::Warning,
        format!(
            "{} is {share:.1} % of the {ram} of RAM, outside {}–{} %{workload}",
            size.shown(pg),
            band.low,
            band.high
        ),
    )
    .at(size.loc().or(ram_loc).cloned())
    .help(format!(
        "set {} to about {suggested} ({} % of {ram}, {})",
        band.param, band.target.0, band.target.1
    ));
    let d = with_ram(d, ram, ram_loc);
    let d = match (&pg.workload, is_desktop(pg)) {
        (Some(w), true) => relate(d, w.loc(), "workload = \"desktop\""),
        _ => d,
    };
    out.push(d);
}

fn shared_buffers_fraction(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let band = if is_desktop(&cx.stack.postgres) {
        Band {
            code: "MEM001",
            param: "shared_buffers",
            low: 5.0,
            high: 40.0,
            target: (6.25, "PgTune's RAM / 16 for a desktop"),
        }
    } else {
        Band {
            code: "MEM001",
            param: "shared_buffers",
            low: 15.0,
            high: 40.0,
            target: (25.0, "the starting value PostgreSQL's documentation gives"),
        }
    };
    check_band(cx, &band, out);
}

fn effective_cache_size_fraction(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let band = if is_desktop(&cx.stack.postgres) {
        Band {
            code: "MEM002",
            param: "effective_cache_size",
            low: 20.0,
            high: 80.0,
            target: (25.0, "PgTune's value for a desktop"),
        }
    } else {
        Band {
            code: "MEM002",
            param: "effective_cache_size",
            low: 50.0,
            high: 80.0,
            target: (75.0, "PgTune's value"),
        }
    };
    check_band(cx, &band, out);
}

fn work_mem_overcommit(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    let Some((ram, ram_loc)) = ram(pg) else {
        return;
    };
    let Some(connections) = cx.budget.total else {
        return;
    };
    let (Some(sb), Some(wm), Some(mwm)) = (
        Size::of(pg, "shared_buffers"),
        Size::of(pg, "work_mem"),
        Size::of(pg, "maintenance_work_mem"),
    ) else {
        return;
    };
    let Some(workers) = pg.param_or_default("autovacuum_max_workers") else {
        return;
    };
    let worker_count = workers.base.unwrap_or(0.0).max(0.0) as u64;
    // autovacuum_work_mem = -1 means "use maintenance_work_mem".
    let av = Size::of(pg, "autovacuum_work_mem").filter(|s| s.base.is_some_and(|b| b >= 0.0));
    let (av_bytes, av_text) = match &av {
        Some(s) => (s.bytes, s.shown(pg)),
        None => (
            mwm.bytes,
            format!("{} (autovacuum_work_mem = -1)", mwm.shown(pg)),
        ),
    };
    let sessions = connections.saturating_mul(wm.bytes.0);
    let autovacuum = worker_count.saturating_mul(av_bytes.0);
    let total = sb
        .bytes
        .0
        .saturating_add(sessions)
        .saturating_add(autovacuum);
    if total <= ram.0 {
        return;
    }
    let workers_note = provenance(&workers, pg);
    let d = Diagnostic::new(
        "MEM003",
        Severity::Warning,
        format!(
            "{} + {connections} server connections ({}) × {} + autovacuum_max_workers {worker_count}{workers_note} × {av_text} = {} > {ram} of RAM: peak memory can exceed the machine, and each sort or hash may take a work_mem of its own",
            sb.shown(pg),
            cx.budget.arithmetic,
            wm.shown(pg),
            Bytes(total),
        ),
    )
    .at(wm.loc().or(ram_loc).cloned());
    let room = ram.0.checked_sub(sb.bytes.0 + autovacuum);
    let help = match room.map(|r| r / connections.max(1)) {
        Some(fit) if fit >= 64 * 1024 => format!(
            "lower work_mem to at most {}, or lower the pool budget ({connections} server connections) or shared_buffers",
            round_down(Bytes(fit))
        ),
        _ => format!(
            "shared_buffers and autovacuum alone take {} of {ram}: lower shared_buffers or autovacuum_work_mem first",
            Bytes(sb.bytes.0 + autovacuum)
        ),
    };
    let mut d = with_ram(d.help(help), ram, ram_loc);
    for (s, what) in [(&sb, "shared_buffers"), (&mwm, "maintenance_work_mem")] {
        d = relate(d, s.loc(), format!("{what} = {}", s.bytes));
    }
    if let Some(s) = &av {
        d = relate(d, s.loc(), format!("autovacuum_work_mem = {}", s.bytes));
    }
    d = relate(
        d,
        workers.origin.loc(),
        format!("autovacuum_max_workers = {worker_count}"),
    );
    out.push(d);
}

fn maintenance_memory(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    let Some((ram, ram_loc)) = ram(pg) else {
        return;
    };
    let Some(mwm) = Size::of(pg, "maintenance_work_mem") else {
        return;
    };
    let eighth = Bytes(ram.0 / 8);
    let cap = Bytes(8 << 30);
    let limit = eighth.min(cap);
    if mwm.bytes <= limit {
        return;
    }
    let why = if mwm.bytes > cap && mwm.bytes > eighth {
        format!("above both RAM / 8 = {eighth} and 8GB")
    } else if mwm.bytes > cap {
        "above 8GB".to_string()
    } else {
        format!("above RAM / 8 = {eighth} ({ram} of RAM)")
    };
    let d = Diagnostic::new(
        "MEM004",
        Severity::Warning,
        format!(
            "{} is {why}: each VACUUM, CREATE INDEX and autovacuum worker may take that much at once",
            mwm.shown(pg)
        ),
    )
    .at(mwm.loc().or(ram_loc).cloned())
    .help(format!(
        "lower maintenance_work_mem to at most {} (PgTune uses RAM / 16 = {}), and set autovacuum_work_mem if autovacuum should use less",
        round_down(limit),
        round_down(Bytes((ram.0 / 16).min(cap.0)))
    ));
    out.push(with_ram(d, ram, ram_loc));
}

/// wal_buffers in bytes: -1 is 1/32 of shared_buffers, at least 64kB, at most one 16MB WAL segment.
fn wal_buffers(pg: &Postgres, shared_buffers: Bytes) -> Option<(Bytes, String)> {
    let wb = Size::of(pg, "wal_buffers")?;
    if wb.base.is_some_and(|b| b < 0.0) {
        let auto = Bytes((shared_buffers.0 / 32).clamp(64 << 10, 16 << 20));
        Some((
            auto,
            format!(
                "wal_buffers {auto} (-1{}: 1/32 of shared_buffers, at most 16MB)",
                match &wb.param.origin {
                    Origin::Default(_) => ", the default",
                    _ => "",
                }
            ),
        ))
    } else {
        Some((wb.bytes, wb.shown(pg)))
    }
}

fn exceeds_ram(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    let Some((ram, ram_loc)) = ram(pg) else {
        return;
    };
    let Some(sb) = Size::of(pg, "shared_buffers") else {
        return;
    };
    let Some((wb, wb_text)) = wal_buffers(pg, sb.bytes) else {
        return;
    };
    let total = Bytes(sb.bytes.0.saturating_add(wb.0));
    if total < ram {
        return;
    }
    let d = Diagnostic::new(
        "MEM005",
        Severity::Error,
        format!(
            "{} + {wb_text} = {total} ≥ {ram} of RAM: the shared memory segment cannot be mapped and PostgreSQL fails to start (`FATAL: could not map anonymous shared memory: Cannot allocate memory`)",
            sb.shown(pg)
        ),
    )
    .at(sb.loc().or(ram_loc).cloned())
    .help(format!(
        "set shared_buffers to about {} (25 % of {ram}), or correct [postgres] memory if it understates the machine",
        round_down(Bytes(ram.0 / 4))
    ));
    out.push(with_ram(d, ram, ram_loc));
}

fn huge_pages(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    if pg.os.as_ref().is_some_and(|o| o.value == Os::Mac) {
        return;
    }
    let Some(sb) = Size::of(pg, "shared_buffers") else {
        return;
    };
    if sb.bytes < Bytes(8 << 30) {
        return;
    }
    // Huge pages apply to the mmap'ed segment only.
    if let Some(t) = pg.param_or_default("shared_memory_type")
        && normalized(pg, &t) != "mmap"
    {
        return;
    }
    let Some(hp) = pg.param_or_default("huge_pages") else {
        return;
    };
    let mode = normalized(pg, &hp);
    if mode == "on" {
        return;
    }
    let d = Diagnostic::new(
        "MEM006",
        Severity::Info,
        format!(
            "{} with huge_pages = {mode}{}: without reserved huge pages PostgreSQL {} normal pages, and every backend pays page tables for the whole segment",
            sb.shown(pg),
            provenance(&hp, pg),
            if mode == "try" {
                "silently falls back to"
            } else {
                "uses"
            }
        ),
    )
    .at(hp.origin.loc().or(sb.loc()).cloned())
    .help("reserve huge pages (sysctl vm.nr_hugepages ≥ the value of `postgres -D $PGDATA -C shared_memory_size_in_huge_pages`), then set huge_pages = on");
    out.push(relate(
        d,
        sb.loc(),
        format!("shared_buffers = {}", sb.bytes),
    ));
}

/// An enum parameter's value as the server reads it (`'TRY'` → `try`, `true` → `on`).
fn normalized(pg: &Postgres, p: &PgParam) -> String {
    let text = p.conf_text.trim_matches('\'');
    pg.major()
        .and_then(crate::catalog::postgres::PgCatalog::for_major)
        .and_then(|c| c.get(&p.name))
        .and_then(|param| crate::catalog::postgres::parse_value(param, text).ok())
        .map(|v| v.normalized)
        .unwrap_or_else(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, HEALTHY, healthy_with as healthy, only};
    use crate::diag::Severity;

    const MINE: &[&str] = &["CON", "MEM", "TMO"];

    #[test]
    fn mem_rules_are_silent_on_healthy() {
        for code in ["MEM001", "MEM002", "MEM003", "MEM004", "MEM005", "MEM006"] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code}");
        }
    }

    #[test]
    fn mem_rules_need_the_memory() {
        // Everything far out of range, but no RAM declared: nothing to compare with.
        let toml = healthy("memory = \"16GB\"\n", "")
            .replace("shared_buffers = \"4GB\"", "shared_buffers = \"7GB\"")
            .replace(
                "effective_cache_size = \"12GB\"",
                "effective_cache_size = \"1GB\"",
            )
            .replace("work_mem = \"16MB\"", "work_mem = \"2GB\"")
            .replace(
                "maintenance_work_mem = \"1GB\"",
                "maintenance_work_mem = \"12GB\"",
            );
        for code in ["MEM001", "MEM002", "MEM003", "MEM004", "MEM005"] {
            assert!(testing::run(code, &toml).is_empty(), "{code}");
        }
    }

    #[test]
    fn mem001_fires_on_shared_buffers_above_40_percent() {
        let toml = healthy("shared_buffers = \"4GB\"", "shared_buffers = \"7GB\"");
        assert_eq!(testing::firing(MINE, &toml), ["MEM001"]);
        let (stack, d) = only("MEM001", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d), "\"7GB\"");
        assert!(
            d.message
                .contains("shared_buffers 7GB is 43.8 % of the 16GB of RAM, outside 15–40 %"),
            "{}",
            d.message
        );
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("set shared_buffers to about 4GB (25 % of 16GB"))
        );
    }

    #[test]
    fn mem001_counts_an_unset_shared_buffers_at_the_version_default() {
        let toml = healthy("shared_buffers = \"4GB\"\n", "");
        // With memory declared an unset shared_buffers is derived (25 % of RAM: silent) …
        assert!(testing::run("MEM001", &toml).is_empty());
        // … so take the derived value away to see the default counted.
        let mut stack = testing::stack(&toml);
        stack.postgres.params.retain(|p| p.name != "shared_buffers");
        let mut found = testing::run_with_files("MEM001", &stack, &[]);
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = found.remove(0);
        assert!(
            d.message.contains(
                "shared_buffers 128MB (not set: PostgreSQL 16's built-in default) is 0.8 %"
            ),
            "{}",
            d.message
        );
        // Nothing to point at but the RAM it is compared with.
        assert_eq!(testing::pointed_text(&stack, &d), "\"16GB\"");
    }

    #[test]
    fn mem001_accepts_less_for_a_desktop() {
        let small = healthy("shared_buffers = \"4GB\"", "shared_buffers = \"1GB\"");
        assert_eq!(only("MEM001", &small).1.code, "MEM001");
        let desktop = small.replace("cpus = 4", "cpus = 4\nworkload = \"desktop\"");
        assert!(testing::run("MEM001", &desktop).is_empty());
    }

    #[test]
    fn mem002_fires_on_effective_cache_size_below_half_the_ram() {
        let toml = healthy(
            "effective_cache_size = \"12GB\"",
            "effective_cache_size = \"4GB\"",
        );
        assert_eq!(testing::firing(MINE, &toml), ["MEM002"]);
        let (stack, d) = only("MEM002", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "effective_cache_size")
        );
        assert!(
            d.message
                .contains("effective_cache_size 4GB is 25.0 % of the 16GB of RAM, outside 50–80 %"),
            "{}",
            d.message
        );
        assert!(d.help.as_deref().is_some_and(|h| h.contains("about 12GB")));
    }

    #[test]
    fn mem003_fires_when_work_mem_per_connection_overcommits() {
        let toml = healthy("work_mem = \"16MB\"", "work_mem = \"512MB\"");
        assert_eq!(testing::firing(MINE, &toml), ["MEM003"]);
        let (stack, d) = only("MEM003", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d), "\"512MB\"");
        assert!(
            d.message.contains(
                "shared_buffers 4GB + 25 server connections (1 pool × (20 + 5) = 25) × work_mem 512MB + autovacuum_max_workers 3 (not set: PostgreSQL 16's built-in default) × maintenance_work_mem 1GB (autovacuum_work_mem = -1) = 19968MB > 16GB"
            ),
            "{}",
            d.message
        );
        // (16GB − 4GB − 3 × 1GB) / 25 = 368.64MB.
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("lower work_mem to at most 368MB")),
            "{:?}",
            d.help
        );
    }

    #[test]
    fn mem003_counts_the_pool_budget_not_max_connections() {
        // 1000 × 16MB would not fit in 16GB, but only 25 server connections can exist.
        let toml = healthy("max_connections = 100", "max_connections = 1000");
        assert!(testing::run("MEM003", &toml).is_empty());
    }

    #[test]
    fn mem004_fires_on_maintenance_work_mem_above_an_eighth() {
        let toml = healthy(
            "maintenance_work_mem = \"1GB\"",
            "maintenance_work_mem = \"3GB\"",
        );
        assert_eq!(testing::firing(MINE, &toml), ["MEM004"]);
        let (stack, d) = only("MEM004", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d), "\"3GB\"");
        assert!(
            d.message
                .contains("maintenance_work_mem 3GB is above RAM / 8 = 2GB"),
            "{}",
            d.message
        );
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("lower maintenance_work_mem to at most 2GB"))
        );
    }

    #[test]
    fn mem005_fires_when_shared_buffers_fill_the_ram() {
        let toml = healthy("shared_buffers = \"4GB\"", "shared_buffers = \"16GB\"");
        // 100 % of RAM is also outside MEM001's band, leaves nothing for work_mem (MEM003), and
        // is large enough for huge pages (MEM006).
        assert_eq!(
            testing::firing(MINE, &toml),
            ["MEM001", "MEM003", "MEM005", "MEM006"]
        );
        let (stack, d) = only("MEM005", &toml);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "shared_buffers")
        );
        assert!(
            d.message.contains("shared_buffers 16GB + wal_buffers 16MB (-1, the default: 1/32 of shared_buffers, at most 16MB) = 16400MB ≥ 16GB of RAM"),
            "{}",
            d.message
        );
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("set shared_buffers to about 4GB"))
        );
    }

    #[test]
    fn mem006_suggests_huge_pages_for_large_shared_buffers() {
        let toml = healthy("memory = \"16GB\"", "memory = \"32GB\"")
            .replace("shared_buffers = \"4GB\"", "shared_buffers = \"8GB\"")
            .replace(
                "effective_cache_size = \"12GB\"",
                "effective_cache_size = \"24GB\"",
            );
        assert_eq!(testing::firing(MINE, &toml), ["MEM006"]);
        let (stack, d) = only("MEM006", &toml);
        assert_eq!(d.severity, Severity::Info);
        assert_eq!(testing::pointed_text(&stack, &d), "\"8GB\"");
        assert!(
            d.message.contains("shared_buffers 8GB with huge_pages = try (not set: PostgreSQL 16's built-in default)"),
            "{}",
            d.message
        );
        let on = toml.replace(
            "work_mem = \"16MB\"",
            "work_mem = \"16MB\"\nhuge_pages = \"on\"",
        );
        assert!(testing::run("MEM006", &on).is_empty());
        let off = toml.replace(
            "work_mem = \"16MB\"",
            "work_mem = \"16MB\"\nhuge_pages = \"off\"",
        );
        let (stack, d) = only("MEM006", &off);
        assert_eq!(testing::pointed_text(&stack, &d), "\"off\"");
    }
}
