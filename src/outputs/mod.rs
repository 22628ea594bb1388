//! Outputs beyond the configuration files: each reads only the resolved [`crate::stack::Stack`].

pub mod deploy;
pub mod monitoring;
