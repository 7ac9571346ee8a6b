//! The parallelism hint: how many threads a guest's thread pools should
//! start, told through the environment variables that threaded runtimes
//! already read.
//!
//! A guest cannot learn how many CPUs it may use: on `wasm32-wasip1-threads`
//! Rust's `std::thread::available_parallelism()` is `Unsupported` (so
//! rayon's global pool has one thread), and wasi-libc's
//! `sysconf(_SC_NPROCESSORS_ONLN)` returns 1. With a hint other than
//! [`Parallelism::None`], the program's environment gets [`PARALLELISM_VARIABLES`] set
//! to the number, each only where the configured environment (the
//! variables the host set, and the inherited ones) does not have it: what
//! the user or embedder sets always wins.

use std::fmt;
use std::num::NonZeroU32;

use crate::wasi::host_cpus::host_parallelism;

/// The variables a parallelism hint sets: rayon's global pool size
/// (`RAYON_NUM_THREADS`) and OpenMP's team size (`OMP_NUM_THREADS`, which
/// GNU `nproc` also honours, and which C programs sizing a pool should read
/// before `sysconf`).
pub const PARALLELISM_VARIABLES: [&str; 2] = ["RAYON_NUM_THREADS", "OMP_NUM_THREADS"];

/// How many threads the guest is told it may use ([`PARALLELISM_VARIABLES`]). The
/// number is capped by the program's thread limit (`Config::max_threads`):
/// a pool of N workers (rayon's) spawns N threads while the main thread
/// waits, so N threads must fit under the limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parallelism {
    /// Set nothing: the guest's environment is exactly the configured one
    /// (the default for embedders, who own their guests' environment).
    #[default]
    None,
    /// The number of CPUs this process may use ([`host_parallelism`]: its
    /// CPU affinity and cgroup CPU quota), read when the program's WASI
    /// context is built. `weft-run`'s default.
    Host,
    /// This many threads.
    Fixed(NonZeroU32),
}

/// A parallelism hint of 0 threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidParallelism;

impl fmt::Display for InvalidParallelism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("parallelism must be at least 1 thread")
    }
}

impl std::error::Error for InvalidParallelism {}

impl Parallelism {
    /// [`Parallelism::Fixed`] of `threads`, which must be at least 1 (the
    /// one check of this rule: the C and Python setters call it too).
    pub fn fixed(threads: u32) -> Result<Parallelism, InvalidParallelism> {
        NonZeroU32::new(threads)
            .map(Parallelism::Fixed)
            .ok_or(InvalidParallelism)
    }

    /// The number of threads this hint gives a program whose thread limit
    /// is `max_threads` (`None`: no limit), or `None` for
    /// [`Parallelism::None`]. Reads the host's CPUs for
    /// [`Parallelism::Host`].
    pub fn threads(self, max_threads: Option<u32>) -> Option<u32> {
        let n = match self {
            Parallelism::None => return None,
            Parallelism::Host => host_parallelism(),
            Parallelism::Fixed(n) => n.get(),
        };
        Some(max_threads.map_or(n, |m| n.min(m)).max(1))
    }
}

/// Appends each of [`PARALLELISM_VARIABLES`] that `env` lacks, set to `threads`.
pub(crate) fn add_to_env(env: &mut Vec<(String, String)>, threads: u32) {
    for name in PARALLELISM_VARIABLES {
        if !env.iter().any(|(k, _)| k == name) {
            env.push((name.to_string(), threads.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_refuses_zero_with_the_one_message() {
        assert_eq!(Parallelism::fixed(0), Err(InvalidParallelism));
        assert_eq!(
            InvalidParallelism.to_string(),
            "parallelism must be at least 1 thread"
        );
        assert_eq!(
            Parallelism::fixed(3),
            Ok(Parallelism::Fixed(NonZeroU32::new(3).unwrap()))
        );
    }

    #[test]
    fn the_thread_limit_caps_every_hint() {
        let three = Parallelism::fixed(3).unwrap();
        assert_eq!(Parallelism::None.threads(Some(8)), None);
        assert_eq!(three.threads(None), Some(3));
        assert_eq!(three.threads(Some(8)), Some(3));
        assert_eq!(three.threads(Some(2)), Some(2));
        assert_eq!(Parallelism::Host.threads(Some(1)), Some(1));
        assert_eq!(Parallelism::Host.threads(None), Some(host_parallelism()));
    }

    #[test]
    fn variables_are_added_only_where_absent() {
        let mut env = vec![
            ("RAYON_NUM_THREADS".to_string(), "1".to_string()),
            ("A".to_string(), "b".to_string()),
        ];
        add_to_env(&mut env, 4);
        assert_eq!(
            env,
            [
                ("RAYON_NUM_THREADS", "1"),
                ("A", "b"),
                ("OMP_NUM_THREADS", "4")
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let mut empty = Vec::new();
        add_to_env(&mut empty, 2);
        assert_eq!(
            empty,
            [("RAYON_NUM_THREADS", "2"), ("OMP_NUM_THREADS", "2")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }
}
