//! How many CPUs this process may use: the one place weft works that out
//! (for [`Parallelism::Host`](crate::wasi::Parallelism::Host); C and Python
//! ask through `weft_host_parallelism`).
//!
//! The number is the smaller of two limits, and at least 1:
//!
//! * the calling thread's **CPU affinity** (`sched_getaffinity`: `taskset`,
//!   `docker --cpuset-cpus`, a batch scheduler's CPU set);
//! * the **CPU quota** of the process's cgroups, rounded up:
//!   `ceil(quota / period)` from cgroup v2's `cpu.max` (`"150000 100000"`:
//!   1.5 CPUs, so 2) or cgroup v1's `cpu.cfs_quota_us` and
//!   `cpu.cfs_period_us` (`docker --cpus`, Kubernetes CPU limits, systemd's
//!   `CPUQuota=`). The process's own cgroup and each of its ancestors up to
//!   the mount point count; the smallest quota wins. Rounding up lets a
//!   program use all of a fractional quota (as Java and .NET do; Rust's
//!   `available_parallelism` rounds down).
//!
//! The cgroup files are read through [`cgroup_cpu_limit`], which takes a
//! function returning a file's contents, so the parsing is tested on fake
//! hierarchies. Files that are missing or do not parse mean "no limit".

use std::path::{Path, PathBuf};

/// The number of CPUs this process may use: its CPU affinity, capped by its
/// cgroups' CPU quota when one is set; at least 1. Read afresh at every call
/// (a few small files under `/proc` and `/sys/fs/cgroup`).
pub fn host_parallelism() -> u32 {
    let cpus = affinity_cpus().unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    });
    let quota = cgroup_cpu_limit(&read_small_file);
    quota.map_or(cpus, |q| cpus.min(q)).max(1)
}

/// A small `/proc` or cgroup file, read whole in one or two `read`s (these
/// files report a size of 0, so `read_to_string` probes with 32-byte reads
/// and grows from there).
fn read_small_file(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut buf)
        .ok()?;
    String::from_utf8(buf).ok()
}

/// The number of CPUs in the calling thread's affinity mask, or `None` when
/// the kernel will not say (more CPUs than a `cpu_set_t` holds).
#[cfg(target_os = "linux")]
fn affinity_cpus() -> Option<u32> {
    // SAFETY: `cpu_set_t` is plain data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes at most `size_of::<cpu_set_t>()` bytes into `set`.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return None;
    }
    // SAFETY: `set` is an initialised `cpu_set_t`.
    let n = unsafe { libc::CPU_COUNT(&set) };
    u32::try_from(n).ok().filter(|&n| n > 0)
}

#[cfg(not(target_os = "linux"))]
fn affinity_cpus() -> Option<u32> {
    None
}

/// The CPU limit of this process's cgroups (v2 and v1), `ceil(quota /
/// period)`, the smallest over every cgroup from the process's own up to the
/// hierarchy's root; `None` when no quota is set or nothing can be read.
/// `read` returns a file's contents (`/proc/self/cgroup`,
/// `/proc/self/mountinfo`, the cgroup files), or `None` if it cannot be read.
pub(crate) fn cgroup_cpu_limit(read: &dyn Fn(&Path) -> Option<String>) -> Option<u32> {
    let membership = read(Path::new("/proc/self/cgroup"))?;
    let mounts = read(Path::new("/proc/self/mountinfo")).unwrap_or_default();
    let mut limit: Option<u32> = None;
    let mut take = |l: Option<u32>| {
        if let Some(l) = l {
            limit = Some(limit.map_or(l, |m| m.min(l)));
        }
    };
    for line in membership.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            // cgroup v2: one unified hierarchy.
            let mount = find_mount(&mounts, |fs, _| fs == "cgroup2")
                .unwrap_or_else(|| Mount::default_at("/sys/fs/cgroup"));
            for dir in mount.dirs_of(path) {
                take(read(&dir.join("cpu.max")).and_then(|s| parse_cpu_max(&s)));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            // cgroup v1: the hierarchy that has the `cpu` controller.
            let mount = find_mount(&mounts, |fs, options| {
                fs == "cgroup" && options.split(',').any(|o| o == "cpu")
            })
            .unwrap_or_else(|| Mount::default_at("/sys/fs/cgroup/cpu"));
            for dir in mount.dirs_of(path) {
                let quota = read(&dir.join("cpu.cfs_quota_us"));
                let period = read(&dir.join("cpu.cfs_period_us"));
                if let (Some(q), Some(p)) = (quota, period) {
                    take(parse_cfs(&q, &p));
                }
            }
        }
    }
    limit
}

/// cgroup v2 `cpu.max`: `"max 100000"` (no limit) or `"QUOTA PERIOD"` in µs.
pub(crate) fn parse_cpu_max(contents: &str) -> Option<u32> {
    let mut fields = contents.split_whitespace();
    let quota = fields.next()?;
    let period = fields.next().unwrap_or("100000");
    if quota == "max" {
        return None;
    }
    cpus(quota.parse().ok()?, period.parse().ok()?)
}

/// cgroup v1 `cpu.cfs_quota_us` (`-1`: no limit) and `cpu.cfs_period_us`.
pub(crate) fn parse_cfs(quota: &str, period: &str) -> Option<u32> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: u64 = period.trim().parse().ok()?;
    cpus(u64::try_from(quota).ok()?, period)
}

/// `ceil(quota / period)`, at least 1; `None` for a zero quota or period.
fn cpus(quota: u64, period: u64) -> Option<u32> {
    if quota == 0 || period == 0 {
        return None;
    }
    Some(u32::try_from(quota.div_ceil(period)).unwrap_or(u32::MAX))
}

/// A cgroup file system's mount: the cgroup path it shows (`root`, usually
/// `/`) and where.
struct Mount {
    root: String,
    point: PathBuf,
}

impl Mount {
    fn default_at(point: &str) -> Mount {
        Mount {
            root: "/".into(),
            point: PathBuf::from(point),
        }
    }

    /// The directories of cgroup `path` and of its ancestors up to this
    /// mount's point, innermost first; none if `path` is outside the mount.
    fn dirs_of(&self, path: &str) -> Vec<PathBuf> {
        let Some(rest) = path.strip_prefix(self.root.trim_end_matches('/')) else {
            return Vec::new();
        };
        if !(rest.is_empty() || rest.starts_with('/')) {
            return Vec::new(); // `/a/bc` is not below the root `/a/b`
        }
        let mut dir = self.point.clone();
        let mut dirs = vec![dir.clone()];
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            if part == ".." {
                return Vec::new();
            }
            dir.push(part);
            dirs.push(dir.clone());
        }
        dirs.reverse();
        dirs
    }
}

/// The first mount in `mountinfo` (`/proc/self/mountinfo`) whose file
/// system type and super options `want` accepts.
fn find_mount(mountinfo: &str, want: impl Fn(&str, &str) -> bool) -> Option<Mount> {
    for line in mountinfo.lines() {
        // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(root), Some(point)) = (fields.get(3), fields.get(4)) else {
            continue;
        };
        let fs = fields.get(dash + 1).copied().unwrap_or("");
        let options = fields.get(dash + 3).copied().unwrap_or("");
        if want(fs, options) {
            return Some(Mount {
                root: unescape(root),
                point: PathBuf::from(unescape(point)),
            });
        }
    }
    None
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style
/// octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `cgroup_cpu_limit` over a fake file system.
    fn limit(files: &[(&str, &str)]) -> Option<u32> {
        let files: HashMap<PathBuf, String> = files
            .iter()
            .map(|(p, c)| (PathBuf::from(p), c.to_string()))
            .collect();
        cgroup_cpu_limit(&|p: &Path| files.get(p).cloned())
    }

    const V2_MOUNT: &str =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn cpu_max_rounds_up_and_max_is_no_limit() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max("50000 100000\n"), Some(1));
        assert_eq!(
            parse_cpu_max("100000\n"),
            Some(1),
            "period defaults to 100 ms"
        );
        assert_eq!(parse_cpu_max("0 100000"), None);
        assert_eq!(parse_cpu_max("100000 0"), None);
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("lots 100000"), None);
    }

    #[test]
    fn cfs_quota_minus_one_is_no_limit() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("300000\n", "100000\n"), Some(3));
        assert_eq!(parse_cfs("250000", "100000"), Some(3));
        assert_eq!(parse_cfs("1000", "100000"), Some(1));
        assert_eq!(parse_cfs("100000", "0"), None);
        assert_eq!(parse_cfs("x", "100000"), None);
    }

    #[test]
    fn v2_takes_the_smallest_quota_up_the_hierarchy() {
        let files = [
            ("/proc/self/cgroup", "0::/user.slice/app.service\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            (
                "/sys/fs/cgroup/user.slice/app.service/cpu.max",
                "max 100000\n",
            ),
            ("/sys/fs/cgroup/user.slice/cpu.max", "250000 100000\n"),
        ];
        assert_eq!(limit(&files), Some(3));
        let mut tighter = files;
        tighter[2].1 = "100000 100000\n";
        assert_eq!(limit(&tighter), Some(1));
    }

    #[test]
    fn v2_without_quota_or_files_is_no_limit() {
        assert_eq!(
            limit(&[
                ("/proc/self/cgroup", "0::/\n"),
                ("/proc/self/mountinfo", V2_MOUNT)
            ]),
            None
        );
        assert_eq!(
            limit(&[
                ("/proc/self/cgroup", "0::/a\n"),
                ("/proc/self/mountinfo", V2_MOUNT),
                ("/sys/fs/cgroup/a/cpu.max", "max 100000\n"),
            ]),
            None
        );
        assert_eq!(limit(&[]), None);
    }

    #[test]
    fn v2_in_a_container_reads_the_mount_root() {
        // A container without a cgroup namespace: the process's cgroup is
        // /docker/abc, mounted at /sys/fs/cgroup.
        let files = [
            ("/proc/self/cgroup", "0::/docker/abc\n"),
            (
                "/proc/self/mountinfo",
                "1 0 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup rw\n",
            ),
            ("/sys/fs/cgroup/cpu.max", "400000 100000\n"),
        ];
        assert_eq!(limit(&files), Some(4));
        // With a cgroup namespace the process sees its cgroup as "/".
        let ns = [
            ("/proc/self/cgroup", "0::/\n"),
            (
                "/proc/self/mountinfo",
                "1 0 0:26 / /sys/fs/cgroup ro - cgroup2 cgroup rw\n",
            ),
            ("/sys/fs/cgroup/cpu.max", "200000 100000\n"),
        ];
        assert_eq!(limit(&ns), Some(2));
    }

    #[test]
    fn v2_mount_found_in_mountinfo_with_optional_fields_and_escapes() {
        let files = [
            ("/proc/self/cgroup", "0::/job\n"),
            (
                "/proc/self/mountinfo",
                "22 1 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n\
                 41 31 0:38 / /my\\040cgroups rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw\n",
            ),
            ("/my cgroups/job/cpu.max", "300000 100000\n"),
        ];
        assert_eq!(limit(&files), Some(3));
    }

    #[test]
    fn v2_without_mountinfo_assumes_sys_fs_cgroup() {
        let files = [
            ("/proc/self/cgroup", "0::/a\n"),
            ("/sys/fs/cgroup/a/cpu.max", "100000 50000\n"),
        ];
        assert_eq!(limit(&files), Some(2));
    }

    #[test]
    fn v1_reads_the_cpu_hierarchy() {
        // This machine's layout: v1 controllers plus an empty unified mount.
        let files = [
            (
                "/proc/self/cgroup",
                "9:name=systemd:/\n4:memory:/x\n2:cpuacct:/\n1:cpu,cpuacct:/batch/job\n0::/\n",
            ),
            (
                "/proc/self/mountinfo",
                "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
                 33 31 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
            ),
            ("/sys/fs/cgroup/cpu,cpuacct/batch/job/cpu.cfs_quota_us", "-1\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/batch/job/cpu.cfs_period_us", "100000\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us", "150000\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us", "100000\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"),
        ];
        assert_eq!(limit(&files), Some(2));
    }

    #[test]
    fn v1_and_v2_together_take_the_smaller() {
        let files = [
            ("/proc/self/cgroup", "1:cpu:/a\n0::/b\n"),
            (
                "/proc/self/mountinfo",
                "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                 41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
            ),
            ("/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us", "500000"),
            ("/sys/fs/cgroup/cpu/a/cpu.cfs_period_us", "100000"),
            ("/sys/fs/cgroup/unified/b/cpu.max", "300000 100000"),
        ];
        assert_eq!(limit(&files), Some(3));
    }

    #[test]
    fn a_cgroup_outside_the_mount_root_is_not_read() {
        let files = [
            ("/proc/self/cgroup", "0::/other/x\n"),
            (
                "/proc/self/mountinfo",
                "1 0 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup rw\n",
            ),
            ("/sys/fs/cgroup/cpu.max", "100000 100000\n"),
            ("/sys/fs/cgroup/other/x/cpu.max", "100000 100000\n"),
        ];
        assert_eq!(limit(&files), None);
        let sibling = Mount {
            root: "/a/b".into(),
            point: PathBuf::from("/m"),
        };
        assert!(sibling.dirs_of("/a/bc").is_empty());
        assert_eq!(
            sibling.dirs_of("/a/b/c"),
            [PathBuf::from("/m/c"), PathBuf::from("/m")]
        );
    }

    #[test]
    fn this_host_has_at_least_one_cpu_and_no_more_than_its_affinity() {
        let n = host_parallelism();
        assert!(n >= 1);
        if let Some(a) = affinity_cpus() {
            assert!(n <= a, "{n} > affinity {a}");
        }
    }
}
