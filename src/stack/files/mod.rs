//! Hand-written files → the resolved [`Stack`](super::Stack): each file's settings checked
//! against the catalog of the version it targets (CAT findings), then mapped into the same
//! model a manifest resolves to, with `Origin::Imported(file span)` provenance.

pub mod pgbouncer_ini;
pub mod postgresql_conf;
