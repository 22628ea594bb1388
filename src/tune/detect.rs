//! This machine's memory and CPUs, container-aware: a cgroup v2 (`memory.max`, `cpu.max`) or
//! v1 (`memory.limit_in_bytes`, `cpu.cfs_quota_us`) limit when one is set and lower than the
//! host's, else /proc (`MemTotal`, `processor` lines). Every value carries where it came from,
//! so callers can show it instead of using it silently.
//!
//! The readers take a root directory, so tests point them at fixture trees; [`this_machine`]
//! reads `/`.

use crate::units::Bytes;
use std::fmt;
use std::path::Path;

/// A value read from the machine and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected<T> {
    pub value: T,
    /// e.g. `/sys/fs/cgroup/memory.max (cgroup v2)`.
    pub source: String,
}

/// What detection found; `None` when nothing could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Machine {
    pub memory: Option<Detected<Bytes>>,
    pub cpus: Option<Detected<u32>>,
}

impl fmt::Display for Detected<Bytes> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory {} from {}", self.value, self.source)
    }
}

impl fmt::Display for Detected<u32> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.value == 1 { "" } else { "s" };
        write!(f, "{} CPU{s} from {}", self.value, self.source)
    }
}

/// Limits at or above this are "no limit" sentinels (cgroup v1 writes 9223372036854771712).
const UNLIMITED_BYTES: u64 = 1 << 62;

/// Read memory and CPUs from the tree under `root` (`/` for this machine).
pub fn detect(root: &Path) -> Machine {
    let tree = Tree { root };
    let (memory_limit, cpu_limit) = match Hierarchy::of(&tree) {
        Some(Hierarchy::V2) => (v2_memory(&tree), v2_cpus(&tree)),
        Some(Hierarchy::V1) => (v1_memory(&tree), v1_cpus(&tree)),
        None => (None, None),
    };
    Machine {
        memory: choose(memory_limit, mem_total(&tree)),
        cpus: choose(cpu_limit, processors(&tree)),
    }
}

/// [`detect`] on `/`; CPUs fall back to `std::thread::available_parallelism` without /proc.
pub fn this_machine() -> Machine {
    let mut machine = detect(Path::new("/"));
    if machine.cpus.is_none() {
        machine.cpus = std::thread::available_parallelism()
            .ok()
            .and_then(|n| u32::try_from(n.get()).ok())
            .map(|value| Detected {
                value,
                source: "std::thread::available_parallelism".to_string(),
            });
    }
    machine
}

/// The files of one machine, under a root.
struct Tree<'a> {
    root: &'a Path,
}

impl Tree<'_> {
    /// `rel` is relative to the root, without a leading `/`.
    fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(rel)).ok()
    }

    fn is_dir(&self, rel: &str) -> bool {
        self.root.join(rel).is_dir()
    }
}

const CGROUP_MOUNT: &str = "sys/fs/cgroup";

enum Hierarchy {
    V2,
    V1,
}

impl Hierarchy {
    fn of(tree: &Tree<'_>) -> Option<Hierarchy> {
        if tree.read("sys/fs/cgroup/cgroup.controllers").is_some() {
            Some(Hierarchy::V2)
        } else if tree.is_dir("sys/fs/cgroup/memory") || v1_cpu_mount(tree).is_some() {
            Some(Hierarchy::V1)
        } else {
            None
        }
    }
}

/// A limit file found in the cgroup tree.
struct CgroupLimit<T> {
    /// `None`: the file says there is no limit.
    limit: Option<T>,
    /// `/sys/fs/cgroup/memory.max`.
    file: String,
    /// `cgroup v2`, and how the value was read when not as written.
    detail: String,
}

impl<T> CgroupLimit<T> {
    fn new(limit: Option<T>, file: &str, detail: String) -> CgroupLimit<T> {
        CgroupLimit {
            limit,
            file: format!("/{file}"),
            detail,
        }
    }
}

/// Directories whose limits apply to this process, deepest first: its own cgroup (from
/// /proc/self/cgroup) and that cgroup's ancestors, ending at the mount point. Inside a
/// container with its own cgroup namespace that is just the mount point.
fn cgroup_dirs(tree: &Tree<'_>, mount: &str, controller: Option<&str>) -> Vec<String> {
    let own = tree.read("proc/self/cgroup").and_then(|text| {
        text.lines().find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let mine = match controller {
                None => controllers.is_empty(),
                Some(c) => controllers.split(',').any(|x| x == c),
            };
            mine.then(|| path.trim_matches('/').to_string())
        })
    });
    let mut dirs = Vec::new();
    let mut path = own.unwrap_or_default();
    while !path.is_empty() {
        let dir = format!("{mount}/{path}");
        if tree.is_dir(&dir) {
            dirs.push(dir);
        }
        path = path
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
    }
    dirs.push(mount.to_string());
    dirs
}

/// The lowest limit among `dirs`; "no limit" when the file exists only without one.
fn tightest<T: Ord>(
    dirs: &[String],
    read: impl Fn(&str) -> Option<CgroupLimit<T>>,
) -> Option<CgroupLimit<T>> {
    let found: Vec<CgroupLimit<T>> = dirs.iter().filter_map(|d| read(d)).collect();
    let mut best: Option<CgroupLimit<T>> = None;
    for limit in found {
        best = match best {
            None => Some(limit),
            Some(b) => match (&b.limit, &limit.limit) {
                (None, Some(_)) => Some(limit),
                (Some(old), Some(new)) if new < old => Some(limit),
                _ => Some(b),
            },
        };
    }
    best
}

fn parse_bytes_limit(text: &str) -> Option<Option<Bytes>> {
    let text = text.trim();
    if text == "max" {
        return Some(None);
    }
    let bytes: u64 = text.parse().ok()?;
    Some((bytes < UNLIMITED_BYTES).then_some(Bytes(bytes)))
}

fn v2_memory(tree: &Tree<'_>) -> Option<CgroupLimit<Bytes>> {
    let dirs = cgroup_dirs(tree, CGROUP_MOUNT, None);
    tightest(&dirs, |dir| {
        let file = format!("{dir}/memory.max");
        let limit = parse_bytes_limit(&tree.read(&file)?)?;
        Some(CgroupLimit::new(limit, &file, "cgroup v2".to_string()))
    })
}

fn v1_memory(tree: &Tree<'_>) -> Option<CgroupLimit<Bytes>> {
    let dirs = cgroup_dirs(tree, "sys/fs/cgroup/memory", Some("memory"));
    tightest(&dirs, |dir| {
        let file = format!("{dir}/memory.limit_in_bytes");
        let limit = parse_bytes_limit(&tree.read(&file)?)?;
        Some(CgroupLimit::new(limit, &file, "cgroup v1".to_string()))
    })
}

/// CPUs a quota allows: quota / period, rounded up (a 1.5-CPU quota runs on 2 CPUs at once).
fn quota_cpus(quota: u64, period: u64, file: &str, version: &str) -> Option<CgroupLimit<u32>> {
    if period == 0 {
        return None;
    }
    let cpus = u32::try_from(quota.div_ceil(period).max(1)).ok()?;
    let rounded = if quota.is_multiple_of(period) {
        String::new()
    } else {
        format!(", quota {quota}/{period} rounded up")
    };
    Some(CgroupLimit::new(
        Some(cpus),
        file,
        format!("{version}{rounded}"),
    ))
}

fn v2_cpus(tree: &Tree<'_>) -> Option<CgroupLimit<u32>> {
    let dirs = cgroup_dirs(tree, CGROUP_MOUNT, None);
    tightest(&dirs, |dir| {
        let file = format!("{dir}/cpu.max");
        let text = tree.read(&file)?;
        let mut fields = text.split_whitespace();
        let (quota, period) = (fields.next()?, fields.next().unwrap_or("100000"));
        if quota == "max" {
            return Some(CgroupLimit::new(None, &file, "cgroup v2".to_string()));
        }
        quota_cpus(
            quota.parse().ok()?,
            period.parse().ok()?,
            &file,
            "cgroup v2",
        )
    })
}

/// v1 mounts the cpu controller under one of these names, depending on the distribution.
fn v1_cpu_mount(tree: &Tree<'_>) -> Option<&'static str> {
    [
        "sys/fs/cgroup/cpu",
        "sys/fs/cgroup/cpu,cpuacct",
        "sys/fs/cgroup/cpuacct,cpu",
    ]
    .into_iter()
    .find(|m| tree.is_dir(m))
}

fn v1_cpus(tree: &Tree<'_>) -> Option<CgroupLimit<u32>> {
    let dirs = cgroup_dirs(tree, v1_cpu_mount(tree)?, Some("cpu"));
    tightest(&dirs, |dir| {
        let file = format!("{dir}/cpu.cfs_quota_us");
        let quota: i64 = tree.read(&file)?.trim().parse().ok()?;
        let Ok(quota) = u64::try_from(quota) else {
            // -1: no quota.
            return Some(CgroupLimit::new(None, &file, "cgroup v1".to_string()));
        };
        let period: u64 = tree
            .read(&format!("{dir}/cpu.cfs_period_us"))?
            .trim()
            .parse()
            .ok()?;
        quota_cpus(quota, period, &file, "cgroup v1")
    })
}

fn mem_total(tree: &Tree<'_>) -> Option<Detected<Bytes>> {
    let text = tree.read("proc/meminfo")?;
    let kb: u64 = text.lines().find_map(|line| {
        let rest = line.strip_prefix("MemTotal:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })?;
    Some(Detected {
        value: Bytes(kb.checked_mul(1024)?),
        source: "/proc/meminfo".to_string(),
    })
}

fn processors(tree: &Tree<'_>) -> Option<Detected<u32>> {
    let text = tree.read("proc/cpuinfo")?;
    let count = text
        .lines()
        .filter(|line| line.split(':').next().map(str::trim) == Some("processor"))
        .count();
    let value = u32::try_from(count).ok().filter(|&n| n > 0)?;
    Some(Detected {
        value,
        source: "/proc/cpuinfo".to_string(),
    })
}

/// The cgroup limit when it is lower than the host's figure, else the host's, saying why.
fn choose<T: Ord + Copy + fmt::Display>(
    cgroup: Option<CgroupLimit<T>>,
    host: Option<Detected<T>>,
) -> Option<Detected<T>> {
    let Some(cgroup) = cgroup else {
        return host;
    };
    let (file, detail) = (&cgroup.file, &cgroup.detail);
    match (cgroup.limit, host) {
        (Some(limit), Some(host)) if limit >= host.value => Some(Detected {
            value: host.value,
            source: format!(
                "{} (the limit of {limit} in {file}, {detail}, is not lower)",
                host.source
            ),
        }),
        (Some(limit), _) => Some(Detected {
            value: limit,
            source: format!("{file} ({detail})"),
        }),
        (None, Some(host)) => Some(Detected {
            value: host.value,
            source: format!("{} (no limit in {file}, {detail})", host.source),
        }),
        (None, None) => None,
    }
}
