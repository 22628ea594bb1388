//! Outputs beyond the configuration files, each reading only the resolved `Stack`.

pub mod deploy;
