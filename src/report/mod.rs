//! Reports: diagnostics as a user reads them. Reports never compute; they lay out what they get.

pub mod human;
