pub mod servers;
pub mod stack;
