//! Outputs beyond the configuration files: each reads only the resolved [`crate::stack::Stack`].

pub mod monitoring;
