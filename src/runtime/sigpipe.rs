//! `SIGPIPE` on the embedder's thread.
//!
//! weft's own OS threads block `SIGPIPE` for good (see `thread_pool`). Two
//! kinds of guest code run on the *embedder's* thread instead: the module's
//! start function (during `Instance::new`) and reactor calls
//! (`Instance::call`). For their duration [`SigpipeBlocked`] blocks
//! `SIGPIPE` on that thread, so a write to a pipe whose reader has gone is
//! `EPIPE` for the guest and never the host's death; afterwards it discards
//! the `SIGPIPE` such a write left pending and restores the thread's previous
//! mask. No signal handler is ever installed and the process-wide
//! disposition is never touched.

/// Blocks `SIGPIPE` on the calling thread until dropped.
pub(crate) struct SigpipeBlocked {
    old: libc::sigset_t,
}

fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: `sigemptyset`/`sigaddset` initialise a set on the stack.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

impl SigpipeBlocked {
    /// Blocks `SIGPIPE` on the calling thread, remembering the old mask.
    pub(crate) fn new() -> SigpipeBlocked {
        let set = sigpipe_set();
        // SAFETY: changes only the calling thread's mask; `old` receives it.
        unsafe {
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SigpipeBlocked { old }
        }
    }
}

impl Drop for SigpipeBlocked {
    fn drop(&mut self) {
        let set = sigpipe_set();
        // SAFETY: reads this thread's pending set, takes a pending SIGPIPE
        // without waiting (zero timeout), then restores the mask saved in
        // `new`, all on the calling thread.
        unsafe {
            if libc::sigismember(&self.old, libc::SIGPIPE) == 0 {
                // Unblocked before: a SIGPIPE pending now came from the guest's
                // writes and would kill the host the moment the mask is restored.
                let mut pending: libc::sigset_t = std::mem::zeroed();
                libc::sigpending(&mut pending);
                if libc::sigismember(&pending, libc::SIGPIPE) == 1 {
                    let zero = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    };
                    libc::sigtimedwait(&set, std::ptr::null_mut(), &zero);
                }
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked() -> bool {
        // SAFETY: reads the calling thread's mask.
        unsafe {
            let mut cur: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut cur);
            libc::sigismember(&cur, libc::SIGPIPE) == 1
        }
    }

    #[test]
    fn a_write_to_a_closed_pipe_is_epipe_and_the_mask_comes_back() {
        std::thread::spawn(|| {
            assert!(!blocked());
            let (r, w) = rustix::pipe::pipe().unwrap();
            drop(r);
            {
                let _g = SigpipeBlocked::new();
                assert!(blocked());
                assert_eq!(rustix::io::write(&w, b"x"), Err(rustix::io::Errno::PIPE));
            }
            // Still alive: the pending SIGPIPE was discarded.
            assert!(!blocked());
        })
        .join()
        .unwrap();
    }
}
