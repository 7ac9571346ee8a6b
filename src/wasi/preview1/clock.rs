//! `clock_res_get` and `clock_time_get`.

use std::time::Instant;

use crate::wasi::abi::clockid;
use crate::wasi::errno::Errno;

/// The host clock for a preview 1 clock id (`EINVAL` if unknown).
pub fn host_clock(id: u32) -> Result<libc::clockid_t, Errno> {
    match id {
        clockid::REALTIME => Ok(libc::CLOCK_REALTIME),
        clockid::MONOTONIC => Ok(libc::CLOCK_MONOTONIC),
        clockid::PROCESS_CPUTIME_ID => Ok(libc::CLOCK_PROCESS_CPUTIME_ID),
        clockid::THREAD_CPUTIME_ID => Ok(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => Err(Errno::INVAL),
    }
}

// The C library's clock functions, not rustix's own vDSO lookup: Valgrind
// cannot follow the latter (rustix issue #1559), and libc's are as fast.
fn read(
    id: u32,
    f: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
) -> Result<u64, Errno> {
    let clock = host_clock(id)?;
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec.
    if unsafe { f(clock, &mut t) } != 0 {
        return Err(Errno::INVAL);
    }
    Ok((t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128).clamp(0, u64::MAX as i128) as u64)
}

/// Current time of clock `id`, in nanoseconds.
pub fn now(id: u32) -> Result<u64, Errno> {
    read(id, libc::clock_gettime)
}

/// Resolution of clock `id`, in nanoseconds.
pub fn resolution(id: u32) -> Result<u64, Errno> {
    Ok(read(id, libc::clock_getres)?.max(1))
}

/// The `Instant` at which clock `id` reads `abs` nanoseconds (for absolute
/// `poll_oneoff` deadlines), measured now.
pub fn deadline_at(id: u32, abs: u64) -> Result<Instant, Errno> {
    let current = now(id)?;
    let wait = std::time::Duration::from_nanos(abs.saturating_sub(current));
    Ok(Instant::now().checked_add(wait).unwrap_or_else(far_future))
}

/// A deadline so far off it never comes.
pub fn far_future() -> Instant {
    Instant::now() + std::time::Duration::from_secs(100 * 365 * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_work_and_bad_ids_are_einval() {
        for id in 0..4 {
            assert!(now(id).unwrap() > 0 || id >= 2);
            assert!(resolution(id).unwrap() >= 1);
        }
        assert_eq!(now(4), Err(Errno::INVAL));
        let a = now(clockid::MONOTONIC).unwrap();
        let b = now(clockid::MONOTONIC).unwrap();
        assert!(b >= a);
    }
}
