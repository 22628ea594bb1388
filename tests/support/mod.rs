pub mod clients;
pub mod deploy;
pub mod roundtrip;
pub mod servers;
pub mod stack;
