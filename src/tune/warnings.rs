//! PgTune's warning blocks, in its order (see reference: tuning/pgtune-formulas.md §2 "Warnings").

use super::GB;

/// What the warning conditions look at, taken from the computed settings.
pub(super) struct WarningFacts {
    pub ram: u64,
    pub wal_compression_lz4: bool,
    pub io_uring: bool,
    pub dw_cost_left_at_default: bool,
}

/// Above 100GB of RAM (strictly).
const HIGH_MEMORY: u64 = 100 * GB;

/// The lines PgTune prints as comments, without the `#`: "WARNING", then each block that
/// applies, blocks separated by one empty line; nothing when no block applies.
///
/// PgTune's first block (RAM under 256MB) cannot apply: its form, and poolstack, take 512MB at least.
pub(super) fn warnings(facts: &WarningFacts) -> Vec<String> {
    let blocks: [(bool, &[&str]); 4] = [
        (
            facts.ram > HIGH_MEMORY,
            &[
                "this tool not being optimal",
                "for very high memory systems",
            ],
        ),
        (
            facts.wal_compression_lz4,
            &[
                "wal_compression = lz4 requires PostgreSQL",
                "to be compiled with --with-lz4",
            ],
        ),
        (
            facts.io_uring,
            &[
                "io_method = io_uring requires PostgreSQL",
                "to be compiled with --with-liburing",
            ],
        ),
        (
            facts.dw_cost_left_at_default,
            &[
                "Cost parameters for Data Warehouses on SSDs are left at defaults",
                "to avoid catastrophic index scan selections",
                "Monitor query planner behavior and adjust random_page_cost if necessary",
            ],
        ),
    ];
    let mut lines = Vec::new();
    for (_, block) in blocks.iter().filter(|(applies, _)| *applies) {
        lines.push(if lines.is_empty() { "WARNING" } else { "" }.to_string());
        lines.extend(block.iter().map(|l| l.to_string()));
    }
    lines
}
