//! What PgTune asks for, as types: the values its form accepts and nothing else
//! (see reference: tuning/pgtune-formulas.md §1).

use std::fmt;
use std::str::FromStr;

/// PostgreSQL major version, 10 to 18 (PgTune's `DB_VERSIONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PgVersion(u8);

impl PgVersion {
    pub const OLDEST: u8 = 10;
    pub const NEWEST: u8 = 18;

    pub fn new(major: u8) -> Option<PgVersion> {
        (Self::OLDEST..=Self::NEWEST)
            .contains(&major)
            .then_some(PgVersion(major))
    }

    pub fn major(self) -> u8 {
        self.0
    }
}

impl FromStr for PgVersion {
    type Err = String;

    /// A version a user names (`tune --pg-version`): one poolstack supports, as every command.
    fn from_str(s: &str) -> Result<PgVersion, String> {
        s.trim()
            .parse::<u8>()
            .ok()
            .filter(|m| crate::catalog::postgres::SUPPORTED_MAJORS.contains(&u32::from(*m)))
            .and_then(PgVersion::new)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a PostgreSQL major version poolstack supports: use {}",
                    crate::catalog::postgres::supported_text()
                )
            })
    }
}

impl fmt::Display for PgVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The operating system PostgreSQL runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Os {
    Linux,
    Windows,
    Mac,
}

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::Mac => "mac",
        }
    }
}

/// PgTune's "DB Type".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Web application.
    Web,
    /// Online transaction processing.
    Oltp,
    /// Data warehouse.
    Dw,
    /// Desktop application.
    Desktop,
    /// Mixed type of application.
    Mixed,
}

impl Workload {
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Web => "web",
            Workload::Oltp => "oltp",
            Workload::Dw => "dw",
            Workload::Desktop => "desktop",
            Workload::Mixed => "mixed",
        }
    }
}

/// PgTune's "Data Storage".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Storage {
    Hdd,
    Ssd,
    San,
    Nvme,
}

impl Storage {
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Hdd => "hdd",
            Storage::Ssd => "ssd",
            Storage::San => "san",
            Storage::Nvme => "nvme",
        }
    }
}

/// PgTune's "Total Data Size", relative to RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DataSize {
    #[value(name = "less-than-ram")]
    LessThanRam,
    #[value(name = "1-3x-ram")]
    OneToThreeTimesRam,
    #[value(name = "more-than-3x-ram")]
    MoreThanThreeTimesRam,
}

impl DataSize {
    pub fn as_str(self) -> &'static str {
        match self {
            DataSize::LessThanRam => "less-than-ram",
            DataSize::OneToThreeTimesRam => "1-3x-ram",
            DataSize::MoreThanThreeTimesRam => "more-than-3x-ram",
        }
    }
}

/// The unit PgTune's memory field is entered in (binary: 1GB = 1024MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryUnit {
    Mb,
    Gb,
    Tb,
}

impl MemoryUnit {
    pub fn kb(self) -> u64 {
        match self {
            MemoryUnit::Mb => 1 << 10,
            MemoryUnit::Gb => 1 << 20,
            MemoryUnit::Tb => 1 << 30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemoryUnit::Mb => "MB",
            MemoryUnit::Gb => "GB",
            MemoryUnit::Tb => "TB",
        }
    }
}

/// "How much memory can PostgreSQL use": a whole number of MB, GB or TB, at least 512MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotalMemory {
    amount: u64,
    unit: MemoryUnit,
}

/// PgTune's form: at least 512 when the unit is MB, at least 1 otherwise, at most 999999.
const MIN_MB: u64 = 512;
const MAX_AMOUNT: u64 = 999_999;

impl TotalMemory {
    /// Memory as a user types it into PgTune's form (range-checked like the form).
    pub fn new(amount: u64, unit: MemoryUnit) -> Result<TotalMemory, String> {
        let min = if unit == MemoryUnit::Mb { MIN_MB } else { 1 };
        if amount < min {
            return Err(format!(
                "{amount}{} is below PgTune's minimum of 512MB",
                unit.as_str()
            ));
        }
        if amount > MAX_AMOUNT {
            return Err(format!(
                "{amount}{} is above PgTune's maximum of {MAX_AMOUNT} in a unit; use a larger unit",
                unit.as_str()
            ));
        }
        Ok(TotalMemory { amount, unit })
    }

    /// Memory measured on a machine, rounded down to whole MB (PgTune takes no finer unit) and
    /// written in the largest unit that keeps it exact.
    pub fn from_measured_bytes(bytes: u64) -> Result<TotalMemory, String> {
        let mb = bytes >> 20;
        if mb < MIN_MB {
            return Err(format!("{mb}MB is below PgTune's minimum of 512MB"));
        }
        let (amount, unit) = if mb.is_multiple_of(1 << 20) {
            (mb >> 20, MemoryUnit::Tb)
        } else if mb.is_multiple_of(1 << 10) {
            (mb >> 10, MemoryUnit::Gb)
        } else {
            (mb, MemoryUnit::Mb)
        };
        Ok(TotalMemory { amount, unit })
    }

    pub fn amount(self) -> u64 {
        self.amount
    }

    pub fn unit(self) -> MemoryUnit {
        self.unit
    }

    /// As PgTune echoes it in its header: `16 GB`.
    pub fn as_entered(self) -> String {
        format!("{} {}", self.amount, self.unit.as_str())
    }

    /// PgTune's `totalMemoryKb`.
    pub fn kb(self) -> u64 {
        self.amount * self.unit.kb()
    }
}

impl FromStr for TotalMemory {
    type Err = String;

    /// `16GB`, `512MB`, `1TB` (unit letters in any case; `16 GB` also works).
    fn from_str(s: &str) -> Result<TotalMemory, String> {
        let text = s.trim();
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        let unit = match unit.trim_start().to_ascii_uppercase().as_str() {
            "MB" => MemoryUnit::Mb,
            "GB" => MemoryUnit::Gb,
            "TB" => MemoryUnit::Tb,
            "" => return Err(format!("`{s}` has no unit: write e.g. 16GB, 512MB or 1TB")),
            _ => {
                return Err(format!(
                    "`{s}` is not a whole number of MB, GB or TB: write e.g. 16GB, 512MB or 1TB"
                ));
            }
        };
        let amount = number.parse::<u64>().map_err(|_| {
            format!("`{s}` is not a whole number of MB, GB or TB: write e.g. 16GB, 512MB or 1TB")
        })?;
        TotalMemory::new(amount, unit)
    }
}

impl fmt::Display for TotalMemory {
    /// `16GB`, as PostgreSQL writes sizes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.as_str())
    }
}

/// Everything PgTune's form asks for. `None` is an empty optional field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs {
    pub pg_version: PgVersion,
    pub os: Os,
    pub workload: Workload,
    pub memory: TotalMemory,
    /// 1..=999999 in PgTune's form.
    pub cpus: Option<u32>,
    /// 20..=999999 in PgTune's form.
    pub connections: Option<u32>,
    pub storage: Storage,
    pub data_size: DataSize,
}

impl Inputs {
    /// PgTune's defaults for the fields the form pre-fills (ssd, 1x-3x RAM), nothing for the optional ones.
    pub fn new(pg_version: PgVersion, os: Os, workload: Workload, memory: TotalMemory) -> Inputs {
        Inputs {
            pg_version,
            os,
            workload,
            memory,
            cpus: None,
            connections: None,
            storage: Storage::Ssd,
            data_size: DataSize::OneToThreeTimesRam,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_parses_the_units_pgtune_offers() {
        let m: TotalMemory = "16GB".parse().unwrap();
        assert_eq!(
            (m.amount(), m.unit(), m.kb()),
            (16, MemoryUnit::Gb, 16_777_216)
        );
        assert_eq!("512MB".parse::<TotalMemory>().unwrap().kb(), 524_288);
        assert_eq!("1TB".parse::<TotalMemory>().unwrap().kb(), 1_073_741_824);
        assert_eq!("16 gb".parse::<TotalMemory>().unwrap().kb(), 16_777_216);
        let m = "16 GB".parse::<TotalMemory>().unwrap();
        assert_eq!(
            (m.to_string(), m.as_entered()),
            ("16GB".into(), "16 GB".into())
        );
    }

    #[test]
    fn memory_refuses_what_pgtune_refuses() {
        assert!(
            "511MB"
                .parse::<TotalMemory>()
                .unwrap_err()
                .contains("512MB")
        );
        assert!("0GB".parse::<TotalMemory>().is_err());
        assert!(
            "1000000GB"
                .parse::<TotalMemory>()
                .unwrap_err()
                .contains("999999")
        );
        assert!("999999TB".parse::<TotalMemory>().is_ok());
        assert!("16".parse::<TotalMemory>().unwrap_err().contains("no unit"));
        assert!("1.5GB".parse::<TotalMemory>().is_err());
        assert!("16kB".parse::<TotalMemory>().is_err());
        assert!("GB".parse::<TotalMemory>().is_err());
    }

    #[test]
    fn measured_memory_is_whole_mb_in_the_largest_exact_unit() {
        let two_gb = TotalMemory::from_measured_bytes(2 << 30).unwrap();
        assert_eq!(two_gb.to_string(), "2GB");
        // MemTotal 16318480 kB = 15936.01… MB → 15936MB.
        let m = TotalMemory::from_measured_bytes(16_318_480 * 1024).unwrap();
        assert_eq!((m.amount(), m.unit()), (15936, MemoryUnit::Mb));
        assert_eq!(
            TotalMemory::from_measured_bytes(1 << 40)
                .unwrap()
                .to_string(),
            "1TB"
        );
        assert!(TotalMemory::from_measured_bytes(256 << 20).is_err());
    }

    #[test]
    fn versions_are_10_to_18() {
        assert_eq!("16".parse::<PgVersion>().unwrap().major(), 16);
        assert!("13".parse::<PgVersion>().is_ok());
        assert!("18".parse::<PgVersion>().is_ok());
        assert!("12".parse::<PgVersion>().unwrap_err().contains("13 to 18"));
        assert!("9".parse::<PgVersion>().unwrap_err().contains("13 to 18"));
        assert!("19".parse::<PgVersion>().is_err());
        assert!("16.2".parse::<PgVersion>().is_err());
    }
}
