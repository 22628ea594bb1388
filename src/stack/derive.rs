//! PostgreSQL settings derived from `[postgres] memory` (and cpus, storage, workload, os,
//! data_size): PgTune's formulas for every setting the manifest leaves unset, with two
//! pool-aware changes. max_connections keeps poolstack's own budget-based derivation (and is
//! what PgTune's formulas see as the connection count); work_mem divides the memory among the
//! real server-connection budget instead of max_connections, and is lowered further where even
//! that would overcommit the RAM as MEM003 counts it. Without `memory` nothing is derived.

use super::budget::ServerConnectionBudget;
use super::settings::{self, RawSetting};
use super::{Origin, PgParam, Stack};
use crate::catalog::postgres::PgCatalog;
use crate::manifest;
use crate::source::Loc;
use crate::tune::{self, Inputs, PgVersion, TotalMemory, format_kb};

/// PostgreSQL's minimum work_mem, in kB.
const WORK_MEM_MIN_KB: u64 = 64;

fn os(o: manifest::Os) -> tune::Os {
    match o {
        manifest::Os::Linux => tune::Os::Linux,
        manifest::Os::Windows => tune::Os::Windows,
        manifest::Os::Mac => tune::Os::Mac,
    }
}

fn workload(w: manifest::Workload) -> tune::Workload {
    match w {
        manifest::Workload::Web => tune::Workload::Web,
        manifest::Workload::Oltp => tune::Workload::Oltp,
        manifest::Workload::Dw => tune::Workload::Dw,
        manifest::Workload::Desktop => tune::Workload::Desktop,
        manifest::Workload::Mixed => tune::Workload::Mixed,
    }
}

fn storage(s: manifest::Storage) -> tune::Storage {
    match s {
        manifest::Storage::Ssd => tune::Storage::Ssd,
        manifest::Storage::Hdd => tune::Storage::Hdd,
        manifest::Storage::San => tune::Storage::San,
        manifest::Storage::Nvme => tune::Storage::Nvme,
    }
}

fn data_size(d: manifest::DataSize) -> tune::DataSize {
    match d {
        manifest::DataSize::LessThanRam => tune::DataSize::LessThanRam,
        manifest::DataSize::OneToThreeTimesRam => tune::DataSize::OneToThreeTimesRam,
        manifest::DataSize::MoreThanThreeTimesRam => tune::DataSize::MoreThanThreeTimesRam,
    }
}

/// PgTune's inputs for the stack: `None` without `memory` (never guess), below PgTune's 512MB,
/// or for a version PgTune does not tune. Unset fields take PgTune's form defaults (web, ssd,
/// linux, 1-3x RAM); the connection count is the effective max_connections.
pub fn tune_inputs(stack: &Stack) -> Option<Inputs> {
    let pg = &stack.postgres;
    let memory = pg.memory.as_ref()?;
    let total = TotalMemory::from_measured_bytes(memory.value.0).ok()?;
    let version = u8::try_from(pg.major()?).ok().and_then(PgVersion::new)?;
    let mut inputs = Inputs::new(
        version,
        pg.os.as_ref().map_or(tune::Os::Linux, |o| os(o.value)),
        pg.workload
            .as_ref()
            .map_or(tune::Workload::Web, |w| workload(w.value)),
        total,
    );
    inputs.cpus = pg.cpus.as_ref().map(|c| c.value);
    inputs.connections = Some(pg.max_connections.value);
    if let Some(s) = &pg.storage {
        inputs.storage = storage(s.value);
    }
    if let Some(d) = &pg.data_size {
        inputs.data_size = data_size(d.value);
    }
    Some(inputs)
}

/// The manifest places a derived setting comes from: memory first (where findings point), then
/// the other tuning inputs its formula reads, where the manifest gives them.
fn inputs_for(stack: &Stack, name: &str) -> Vec<Loc> {
    let pg = &stack.postgres;
    let (cpus, storage, workload, data_size, os) = match name {
        "shared_buffers" | "effective_cache_size" => (false, false, true, false, false),
        "maintenance_work_mem" => (false, false, true, false, true),
        "work_mem" => (true, false, true, true, true),
        "huge_pages" => (false, false, true, false, true),
        "random_page_cost" => (false, true, true, true, false),
        "effective_io_concurrency" => (false, true, false, false, true),
        "io_method" => (false, false, false, false, true),
        "io_workers" => (true, false, false, false, true),
        "max_worker_processes"
        | "max_parallel_workers_per_gather"
        | "max_parallel_workers"
        | "max_parallel_maintenance_workers" => (true, false, true, false, false),
        "autovacuum_max_workers" => (true, false, false, false, false),
        "default_statistics_target"
        | "jit"
        | "min_wal_size"
        | "max_wal_size"
        | "wal_level"
        | "max_wal_senders" => (false, false, true, false, false),
        _ => (false, false, false, false, false),
    };
    let mut locs: Vec<Loc> = pg
        .memory
        .as_ref()
        .and_then(|m| m.loc().cloned())
        .into_iter()
        .collect();
    let mut add = |wanted: bool, loc: Option<&Loc>| {
        if wanted && let Some(l) = loc {
            locs.push(l.clone());
        }
    };
    add(cpus, pg.cpus.as_ref().and_then(|s| s.loc()));
    add(storage, pg.storage.as_ref().and_then(|s| s.loc()));
    add(workload, pg.workload.as_ref().and_then(|s| s.loc()));
    add(data_size, pg.data_size.as_ref().and_then(|s| s.loc()));
    add(os, pg.os.as_ref().and_then(|s| s.loc()));
    locs
}

/// Whether the manifest sets the parameter itself (first-class or `[postgres.settings]`).
fn set_by_manifest(stack: &Stack, name: &str) -> bool {
    stack
        .postgres
        .param(name)
        .is_some_and(|p| !matches!(p.origin, Origin::Default(_)))
}

/// The setting PgTune derives this one from, where that is another setting (work_mem takes the
/// effective shared_buffers itself).
fn depends_on(name: &str) -> Option<&'static str> {
    match name {
        "wal_buffers" | "huge_pages" => Some("shared_buffers"),
        "autovacuum_work_mem" => Some("maintenance_work_mem"),
        _ => None,
    }
}

/// A recommended value as a parameter of the declared version, through the catalog; `None`
/// when the version has no such parameter or would not take the value.
fn param(
    catalog: &PgCatalog,
    name: &str,
    value: &str,
    formula: String,
    inputs: Vec<Loc>,
) -> Option<PgParam> {
    let place = inputs.first()?.clone();
    catalog.get(name)?;
    let toml_value = toml::Value::String(value.to_string());
    let raw = RawSetting {
        name: name.to_string(),
        value: &toml_value,
        key_loc: Some(place.clone()),
        value_loc: Some(place),
    };
    let mut p = settings::postgres_param(catalog, &raw).ok()?;
    p.origin = Origin::Derived { formula, inputs };
    p.rendered = true;
    Some(p)
}

/// Add the derived parameters to `stack` (after max_connections is known).
pub(super) fn derive(stack: &mut Stack) {
    let Some(inputs) = tune_inputs(stack) else {
        return;
    };
    let Some(catalog) = stack.postgres.major().and_then(PgCatalog::for_major) else {
        return;
    };
    let recommendation = tune::recommend(&inputs);
    let mut derived: Vec<PgParam> = Vec::new();
    let mut work_mem_at: Option<usize> = None;
    for s in &recommendation.settings {
        if s.name == "max_connections" || set_by_manifest(stack, s.name) {
            continue;
        }
        // PgTune computed these from its own value of a setting the manifest sets: its formula
        // and reason would not hold, so the server's default stays.
        if depends_on(s.name).is_some_and(|d| set_by_manifest(stack, d)) {
            continue;
        }
        if s.name == "work_mem" {
            work_mem_at = Some(derived.len());
            continue;
        }
        let locs = inputs_for(stack, s.name);
        if let Some(p) = param(catalog, s.name, &s.value, s.reason.clone(), locs) {
            derived.push(p);
        }
    }
    let before = stack.postgres.params.len();
    stack.postgres.params.extend(derived);
    if let Some(at) = work_mem_at
        && let Some(p) = work_mem(stack, catalog, &inputs)
    {
        stack.postgres.params.insert(before + at, p);
    }
}

/// work_mem from the real server-connection budget, capped so that MEM003's sum fits the RAM.
fn work_mem(stack: &Stack, catalog: &PgCatalog, inputs: &Inputs) -> Option<PgParam> {
    let pg = &stack.postgres;
    let ram = pg.memory.as_ref()?.value.0;
    let budget = ServerConnectionBudget::of(stack);
    let bytes = |name: &str| pg.param_or_default(name).and_then(|p| p.bytes());
    let shared_buffers = bytes("shared_buffers")?.0;
    let pool_budget = budget.total.filter(|t| *t > 0);
    let (connections, text) = match pool_budget {
        Some(t) => {
            let n = u32::try_from(t).unwrap_or(u32::MAX);
            (n, format!("{n} server connections"))
        }
        None => {
            let n = pg.max_connections.value;
            (n, format!("{n} max_connections"))
        }
    };
    let (mut kb, mut formula) =
        tune::work_mem_for(inputs, shared_buffers / 1024, connections, &text);
    if let Some(total) = pool_budget {
        // MEM003's sum: shared_buffers + budget × work_mem + autovacuum workers × their memory.
        let workers = pg
            .param_or_default("autovacuum_max_workers")
            .and_then(|p| p.base)
            .unwrap_or(0.0)
            .max(0.0) as u64;
        let av = pg
            .param_or_default("autovacuum_work_mem")
            .filter(|p| p.base.is_some_and(|b| b >= 0.0))
            .and_then(|p| p.bytes())
            .or_else(|| bytes("maintenance_work_mem"))
            .map_or(0, |b| b.0);
        let autovacuum = workers.saturating_mul(av);
        let fixed = shared_buffers.saturating_add(autovacuum);
        let sessions = total.saturating_mul(kb.saturating_mul(1024));
        if fixed.saturating_add(sessions) > ram {
            let fit = ram.saturating_sub(fixed) / total / 1024;
            let capped = fit.max(WORK_MEM_MIN_KB);
            formula.push_str(&format!(
                "; lowered to {} so that shared_buffers {} + {total} server connections × work_mem + autovacuum {workers} × {} fits in {} of RAM (MEM003)",
                format_kb(capped),
                format_kb(shared_buffers / 1024),
                format_kb(av / 1024),
                format_kb(ram / 1024),
            ));
            if formula.contains("raised to the 4MB minimum") {
                formula.push_str(": PgTune's 4MB floor gives way");
            }
            if fit < WORK_MEM_MIN_KB {
                formula.push_str(
                    ", held at PostgreSQL's 64kB minimum although even that does not fit",
                );
            }
            kb = capped;
        }
        formula.push_str(&format!("; server connections: {}", budget.arithmetic));
    }
    let mut locs = inputs_for(stack, "work_mem");
    for db in &stack.databases {
        locs.extend(db.pool_size.loc().cloned());
    }
    for c in &stack.clients {
        locs.extend(c.connections.loc().cloned());
    }
    let mut value = format_kb(kb);
    if let Some((capped, note)) = tune::limits::cap(catalog, "work_mem", &value) {
        value = capped;
        formula.push_str(&format!("; {note}"));
    }
    param(catalog, "work_mem", &value, formula, locs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing;
    use proptest::prelude::*;

    /// One database, one user, PgBouncer with `pools` pools of 25 + 5 (one per user).
    fn manifest(memory: &str, extra_pg: &str, users: usize, pgbouncer: bool) -> String {
        let mut t = format!(
            "[stack]\nname = \"t\"\n\n[postgres]\nversion = 16\nhost = \"db\"\nmemory = \"{memory}\"\ncpus = 8\n{extra_pg}\n"
        );
        if pgbouncer {
            t.push_str("[pgbouncer]\nversion = \"1.22\"\nhost = \"pgb\"\ndefault_pool_size = 25\nreserve_pool_size = 5\n\n");
        }
        t.push_str("[[databases]]\nname = \"app\"\n\n");
        for u in 0..users {
            t.push_str(&format!(
                "[[users]]\nname = \"u{u}\"\npassword = {{ env = \"U{u}_PASSWORD\" }}\n\n[[apps]]\nname = \"a{u}\"\ndatabase = \"app\"\nuser = \"u{u}\"\npool_size = 5\nmax_overflow = 5\n\n"
            ));
        }
        t
    }

    fn derived<'a>(stack: &'a Stack, name: &str) -> Option<&'a PgParam> {
        stack
            .postgres
            .param(name)
            .filter(|p| matches!(p.origin, Origin::Derived { .. }))
    }

    fn formula(p: &PgParam) -> &str {
        match &p.origin {
            Origin::Derived { formula, .. } => formula,
            _ => "",
        }
    }

    #[test]
    fn derived_values_are_pgtunes_except_work_mem_and_max_connections() {
        let stack = testing::stack(&manifest("28GB", "", 1, true));
        let inputs = tune_inputs(&stack).unwrap();
        let rec = tune::recommend(&inputs);
        let mut seen = 0;
        for s in &rec.settings {
            if matches!(s.name, "work_mem" | "max_connections") {
                continue;
            }
            let p = derived(&stack, s.name).unwrap_or_else(|| panic!("{} not derived", s.name));
            assert_eq!(p.conf_text.trim_matches('\''), s.value, "{}", s.name);
            assert_eq!(formula(p), s.reason);
            assert!(p.rendered);
            seen += 1;
        }
        assert!(seen > 10);
        // max_connections stays the budget's: 30 + 3 + 0 + 5.
        let mc = stack.postgres.param("max_connections").unwrap();
        assert_eq!(mc.conf_text, "38");
        assert!(formula(mc).starts_with("budget 1 pool × (25 + 5) = 30"));
        assert_eq!(inputs.connections, Some(38));
    }

    #[test]
    fn work_mem_divides_by_the_server_connection_budget() {
        let stack = testing::stack(&manifest("28GB", "", 1, true));
        let wm = derived(&stack, "work_mem").unwrap();
        let inputs = tune_inputs(&stack).unwrap();
        let (kb, _) = tune::work_mem_for(&inputs, 7 << 20, 30, "30 server connections");
        // (28GB − 7GB) / ((30 + 8) × 3) = 193158kB.
        assert_eq!(kb, 193_158);
        assert_eq!(wm.conf_text, "'193158kB'");
        assert!(
            formula(wm).starts_with(
                "(28GB RAM - 7GB shared_buffers) / ((30 server connections + 8 max_worker_processes) * 3) = 193158kB"
            ),
            "{}",
            formula(wm)
        );
        assert!(formula(wm).ends_with("server connections: 1 pool × (25 + 5) = 30"));
        // PgTune with its default of 200 connections would give far less.
        let plain = tune::recommend(&Inputs {
            connections: None,
            ..inputs
        });
        assert_eq!(plain.get("work_mem"), Some("35288kB"));
    }

    #[test]
    fn work_mem_is_capped_where_the_budget_would_overcommit() {
        // 1GB, 400 users × (25 + 5) = 12000 server connections: PgTune's 4MB floor would need 47GB.
        let stack = testing::stack(&manifest("1GB", "", 400, true));
        let wm = derived(&stack, "work_mem").unwrap();
        let f = formula(wm);
        assert!(f.contains("raised to the 4MB minimum; lowered to"), "{f}");
        assert!(f.contains("PgTune's 4MB floor gives way"), "{f}");
        // (1GB − 256MB − 3 × 64MB) / 12000 = 48kB < 64kB: held at the minimum.
        assert_eq!(wm.conf_text, "'64kB'");
        assert!(f.contains("held at PostgreSQL's 64kB minimum"), "{f}");

        // 2GB, 40 users × 30 = 1200: the cap engages above the minimum and MEM003 stays silent.
        let stack = testing::stack(&manifest("2GB", "", 40, true));
        let wm = derived(&stack, "work_mem").unwrap();
        // (2GB − 512MB − 3 × 128MB) / 1200 = 983kB.
        assert_eq!(wm.conf_text, "'983kB'", "{}", formula(wm));
        assert!(testing::run_with_files("MEM003", &stack, &[]).is_empty());
    }

    #[test]
    fn nothing_is_derived_without_memory() {
        let toml = manifest("28GB", "", 1, true).replace("memory = \"28GB\"\n", "");
        let stack = testing::stack(&toml);
        assert!(
            stack
                .postgres
                .params
                .iter()
                .all(|p| p.name == "max_connections" || !matches!(p.origin, Origin::Derived { .. })),
            "{:#?}",
            stack.postgres.params
        );
        assert!(stack.postgres.param("shared_buffers").is_none());
    }

    #[test]
    fn manifest_values_are_never_overridden() {
        let extra = "max_connections = 77\n[postgres.settings]\nshared_buffers = \"6GB\"\nwork_mem = \"8MB\"\nrandom_page_cost = 2.5\n";
        let stack = testing::stack(&manifest("28GB", extra, 1, true));
        for (name, text) in [
            ("max_connections", "77"),
            ("shared_buffers", "'6GB'"),
            ("work_mem", "'8MB'"),
            ("random_page_cost", "2.5"),
        ] {
            let p = stack.postgres.param(name).unwrap();
            assert!(matches!(p.origin, Origin::Manifest(_)), "{name}");
            assert_eq!(p.conf_text, text, "{name}");
            assert_eq!(
                stack
                    .postgres
                    .params
                    .iter()
                    .filter(|q| q.name == name)
                    .count(),
                1
            );
        }
        // Settings PgTune computes from shared_buffers are not derived from its own 7GB.
        assert!(derived(&stack, "wal_buffers").is_none());
        assert!(derived(&stack, "huge_pages").is_none());
        // PgTune sees the manifest's max_connections.
        assert_eq!(tune_inputs(&stack).unwrap().connections, Some(77));
        assert!(derived(&stack, "effective_cache_size").is_some());
    }

    #[test]
    fn provenance_points_at_memory_first() {
        let toml = manifest("28GB", "workload = \"oltp\"\n", 1, true);
        let stack = testing::stack(&toml);
        let sb = derived(&stack, "shared_buffers").unwrap();
        let Origin::Derived { inputs, .. } = &sb.origin else {
            unreachable!()
        };
        let text = |l: &Loc| &stack.sources.get(l.file).text[l.span.clone()];
        assert_eq!(text(&inputs[0]), "\"28GB\"");
        assert_eq!(text(&inputs[1]), "\"oltp\"");
        let wm = derived(&stack, "work_mem").unwrap();
        assert_eq!(wm.origin.loc().map(text), Some("\"28GB\""));
    }

    #[test]
    fn settings_the_version_lacks_are_not_derived() {
        // io_method exists from PostgreSQL 18 only.
        let toml = manifest("16GB", "", 1, true).replace("version = 16", "version = 13");
        let stack = testing::stack(&toml);
        assert!(derived(&stack, "io_method").is_none());
        assert!(derived(&stack, "shared_buffers").is_some());
    }

    fn generated() -> impl Strategy<Value = String> {
        (
            1u64..=512,
            proptest::option::of(1u32..=64),
            prop_oneof![
                Just("web"),
                Just("oltp"),
                Just("dw"),
                Just("desktop"),
                Just("mixed")
            ],
            prop_oneof![Just("ssd"), Just("hdd"), Just("san"), Just("nvme")],
            any::<bool>(),
            1usize..=6,
            1usize..=4,
            (0u32..=60, 0u32..=10, 1u32..=3),
            (0u32..=50, 1u32..=30),
        )
            .prop_map(
                |(gb, cpus, wl, st, pgb, dbs, users, (pool, reserve, instances), (clients, app_pool))| {
                    let mut t = format!(
                        "[stack]\nname = \"p\"\n\n[postgres]\nversion = 16\nhost = \"db\"\nmemory = \"{gb}GB\"\nworkload = \"{wl}\"\nstorage = \"{st}\"\n"
                    );
                    if let Some(c) = cpus {
                        t.push_str(&format!("cpus = {c}\n"));
                    }
                    if pgb {
                        t.push_str(&format!(
                            "\n[pgbouncer]\nversion = \"1.22\"\nhost = \"pgb\"\ndefault_pool_size = {pool}\nreserve_pool_size = {reserve}\ninstances = {instances}\n"
                        ));
                    }
                    for d in 0..dbs {
                        t.push_str(&format!("\n[[databases]]\nname = \"d{d}\"\n"));
                    }
                    for u in 0..users {
                        t.push_str(&format!(
                            "\n[[users]]\nname = \"u{u}\"\npassword = {{ env = \"U{u}_PASSWORD\" }}\n"
                        ));
                    }
                    for d in 0..dbs {
                        for u in 0..users {
                            t.push_str(&format!(
                                "\n[[apps]]\nname = \"a{d}x{u}\"\ndatabase = \"d{d}\"\nuser = \"u{u}\"\npool_size = {app_pool}\nmax_overflow = 5\n"
                            ));
                        }
                    }
                    if clients > 0 {
                        t.push_str(&format!("\n[[clients]]\nname = \"etl\"\nconnections = {clients}\n"));
                    }
                    t
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn derived_settings_raise_no_mem_warning(toml in generated()) {
            let stack = testing::stack(&toml);
            prop_assert!(derived(&stack, "shared_buffers").is_some());
            let cx = crate::rules::Context {
                stack: &stack,
                budget: ServerConnectionBudget::of(&stack),
                files: &[],
            };
            let bad: Vec<_> = crate::rules::run(&cx)
                .into_iter()
                .filter(|d| d.code.starts_with("MEM") && d.severity >= crate::diag::Severity::Warning)
                .collect();
            prop_assert!(bad.is_empty(), "{:#?}\n{toml}", bad);
        }
    }
}
