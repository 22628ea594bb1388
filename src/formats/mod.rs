//! One module per file format.
//!
//! Hand-written files are read as text by [`text::read`] (binary and oversized files are input
//! errors; invalid UTF-8 is decoded lossily so every byte still has a place), and the comments
//! poolstack understands in them — `poolstack: postgres 16`, `poolstack: pgbouncer 1.18`,
//! `poolstack: ignore CODE reason` — are read by [`directives`].

pub mod directives;
pub mod dotenv;
pub mod header;
pub mod pgbouncer_ini;
pub mod postgresql_conf;
pub mod text;
pub mod userlist;
