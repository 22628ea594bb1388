//! PgTune's warning blocks and their order.

use super::*;

fn warnings_of(i: &Inputs) -> Vec<String> {
    recommend(i).warnings
}

#[test]
fn no_warning_block_means_no_warning_lines() {
    assert!(warnings_of(&tune(14, Os::Linux, Workload::Web, "16GB")).is_empty());
    // exactly 100GB is not above the threshold
    assert!(warnings_of(&tune(14, Os::Linux, Workload::Web, "100GB")).is_empty());
}

#[test]
fn warning_blocks_each_alone() {
    assert_eq!(
        warnings_of(&tune(14, Os::Linux, Workload::Web, "101GB")),
        [
            "WARNING",
            "this tool not being optimal",
            "for very high memory systems"
        ]
    );
    assert_eq!(
        warnings_of(&tune(15, Os::Windows, Workload::Web, "16GB")),
        [
            "WARNING",
            "wal_compression = lz4 requires PostgreSQL",
            "to be compiled with --with-lz4"
        ]
    );
    let dw = [
        "WARNING",
        "Cost parameters for Data Warehouses on SSDs are left at defaults",
        "to avoid catastrophic index scan selections",
        "Monitor query planner behavior and adjust random_page_cost if necessary",
    ];
    for storage in [Storage::Ssd, Storage::San, Storage::Nvme] {
        let i = with(tune(14, Os::Linux, Workload::Dw, "16GB"), |i| {
            i.storage = storage
        });
        assert_eq!(warnings_of(&i), dw);
    }
    let hdd = with(tune(14, Os::Linux, Workload::Dw, "16GB"), |i| {
        i.storage = Storage::Hdd
    });
    assert!(warnings_of(&hdd).is_empty());
    let fits = with(tune(14, Os::Linux, Workload::Dw, "16GB"), |i| {
        i.data_size = DataSize::LessThanRam
    });
    assert!(warnings_of(&fits).is_empty());
}

#[test]
fn warning_blocks_in_order_separated_by_empty_lines() {
    // The document's example: PG18, Linux, 128GB.
    assert_eq!(
        warnings_of(&tune(18, Os::Linux, Workload::Web, "128GB")),
        [
            "WARNING",
            "this tool not being optimal",
            "for very high memory systems",
            "",
            "wal_compression = lz4 requires PostgreSQL",
            "to be compiled with --with-lz4",
            "",
            "io_method = io_uring requires PostgreSQL",
            "to be compiled with --with-liburing",
        ]
    );
    let all = warnings_of(&tune(18, Os::Linux, Workload::Dw, "128GB"));
    assert_eq!(all.len(), 13);
    assert_eq!(
        all[9..],
        [
            "",
            "Cost parameters for Data Warehouses on SSDs are left at defaults",
            "to avoid catastrophic index scan selections",
            "Monitor query planner behavior and adjust random_page_cost if necessary"
        ]
    );
}
