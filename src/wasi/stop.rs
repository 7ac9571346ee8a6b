//! The program-wide stop signal: once raised, blocking WASI calls wake up and
//! every later WASI call fails at once.
//!
//! Blocking waits come in two shapes: pure sleeps wait on a condition
//! variable, and waits for a host file descriptor call `poll(2)` on that
//! descriptor *and* an eventfd that [`StopSignal::stop`] makes readable, so
//! a thread blocked reading stdin, a pipe or a socket wakes as soon as the
//! program ends. No waiter ever busy-polls.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

/// Returned by blocking waits when the program was stopped while waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the program has ended")
    }
}

impl std::error::Error for Stopped {}

/// A one-shot, wake-everyone stop flag.
#[derive(Debug)]
pub struct StopSignal {
    stopped: AtomicBool,
    lock: Mutex<()>,
    cond: Condvar,
    /// Readable once stopped. `None` only if the kernel refused an eventfd;
    /// then fd waits fall back to waking every 10 ms to check the flag.
    wake: Option<OwnedFd>,
}

impl Default for StopSignal {
    fn default() -> StopSignal {
        let wake = rustix::event::eventfd(
            0,
            rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK,
        )
        .ok();
        StopSignal {
            stopped: AtomicBool::new(false),
            lock: Mutex::new(()),
            cond: Condvar::new(),
            wake,
        }
    }
}

impl StopSignal {
    /// Raises the signal and wakes every waiter. Idempotent.
    pub fn stop(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.stopped.store(true, Ordering::SeqCst);
        if let Some(fd) = &self.wake {
            // The counter only ever grows: the eventfd stays readable.
            let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
        }
        self.cond.notify_all();
    }

    /// Whether [`StopSignal::stop`] has been called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// `Err(Stopped)` once the signal is raised.
    pub fn check(&self) -> Result<(), Stopped> {
        if self.is_stopped() {
            Err(Stopped)
        } else {
            Ok(())
        }
    }

    /// Sleeps for `dur`, returning early with `Err(Stopped)` if the signal is
    /// raised meanwhile.
    pub fn sleep(&self, dur: Duration) -> Result<(), Stopped> {
        let deadline = Instant::now().checked_add(dur);
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.is_stopped() {
                return Err(Stopped);
            }
            let now = Instant::now();
            let left = match deadline {
                Some(d) if d <= now => return Ok(()),
                Some(d) => d - now,
                None => Duration::from_secs(3600),
            };
            guard = self
                .cond
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until `fd` reports one of `events` (or an error/hang-up).
    pub fn wait_fd(&self, fd: BorrowedFd<'_>, events: PollFlags) -> Result<PollFlags, Stopped> {
        let fds = [PollFd::from_borrowed_fd(fd, events)];
        Ok(self.poll(&fds, None)?[0])
    }

    /// `poll(2)` on `fds` until one is ready or `deadline` passes (`None`:
    /// no deadline), waking with `Err(Stopped)` when the program ends.
    /// Returns the `revents` of each of `fds` (all empty on timeout).
    pub fn poll(
        &self,
        fds: &[PollFd<'_>],
        deadline: Option<Instant>,
    ) -> Result<Vec<PollFlags>, Stopped> {
        let mut all: Vec<PollFd<'_>> = Vec::with_capacity(fds.len() + 1);
        all.extend(fds.iter().cloned());
        if let Some(wake) = &self.wake {
            all.push(PollFd::new(wake, PollFlags::IN));
        }
        loop {
            self.check()?;
            let now = Instant::now();
            let mut left = deadline.map(|d| d.saturating_duration_since(now));
            if self.wake.is_none() {
                let slice = Duration::from_millis(10);
                left = Some(left.map_or(slice, |l| l.min(slice)));
            }
            let timeout = left.map(|l| rustix::time::Timespec {
                tv_sec: l.as_secs().min(i64::MAX as u64) as i64,
                tv_nsec: l.subsec_nanos() as _,
            });
            for a in all.iter_mut() {
                a.clear_revents();
            }
            match rustix::event::poll(&mut all, timeout.as_ref()) {
                Ok(0) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(vec![PollFlags::empty(); fds.len()]);
                    }
                }
                Ok(_) => {
                    if self.wake.is_some() && all.last().is_some_and(|w| !w.revents().is_empty()) {
                        return Err(Stopped);
                    }
                    return Ok(all[..fds.len()].iter().map(|f| f.revents()).collect());
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => {
                    // EINVAL/ENOMEM: nothing sensible to wait on; report
                    // everything ready so the caller's syscall reports it.
                    return Ok(vec![PollFlags::IN | PollFlags::OUT; fds.len()]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::sync::Arc;

    #[test]
    fn stop_wakes_a_blocked_fd_wait_promptly() {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        let stop = Arc::new(StopSignal::default());
        let s2 = stop.clone();
        let t = std::thread::spawn(move || {
            let started = Instant::now();
            let res = s2.wait_fd(r.as_fd(), PollFlags::IN);
            (res, started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(50));
        let at = Instant::now();
        stop.stop();
        let (res, _) = t.join().unwrap();
        assert_eq!(res, Err(Stopped));
        // The fd never becomes ready: only the stop ends the wait (the
        // bound only turns a hang into a failure).
        assert!(at.elapsed() < Duration::from_secs(10));
        assert_eq!(stop.check(), Err(Stopped));
    }

    #[test]
    fn poll_times_out() {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        let stop = StopSignal::default();
        let fds = [PollFd::new(&r, PollFlags::IN)];
        let start = Instant::now();
        let revents = stop
            .poll(&fds, Some(Instant::now() + Duration::from_millis(30)))
            .unwrap();
        assert!(revents[0].is_empty());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
