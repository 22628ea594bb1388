//! One module per file format.

pub mod header;
pub mod userlist;
