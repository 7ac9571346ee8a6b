//! `poll_oneoff`: clock and descriptor subscriptions, waited on with one
//! `poll(2)` that also watches the stop signal. Nothing is locked while
//! waiting, so any number of threads can sleep at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};

use crate::wasi::abi::{event, poll, rights};
use crate::wasi::ctx::WasiCtx;
use crate::wasi::errno::{Errno, WasiResult};
use crate::wasi::fd_table::{Descriptor, Kind};
use crate::wasi::memory::MemView;
use crate::wasi::preview1::clock;

/// One event to report.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    hangup: bool,
}

impl Event {
    fn encode(&self) -> [u8; poll::EVENT_SIZE as usize] {
        let mut b = [0u8; poll::EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&self.error.0.to_le_bytes());
        b[10] = self.kind;
        if self.kind != event::CLOCK {
            b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
            let flags = if self.hangup {
                event::FD_READWRITE_HANGUP
            } else {
                0
            };
            b[24..26].copy_from_slice(&flags.to_le_bytes());
        }
        b
    }
}

/// A descriptor subscription waiting on a host fd.
struct FdWait {
    userdata: u64,
    kind: u8,
    desc: Arc<Descriptor>,
}

fn immediate(userdata: u64, kind: u8, error: Errno, nbytes: u64) -> Event {
    Event {
        userdata,
        error,
        kind,
        nbytes,
        hangup: false,
    }
}

/// `poll_oneoff`.
pub fn poll_oneoff(
    cx: &WasiCtx,
    mem: &MemView,
    subs: u32,
    out: u32,
    n: u32,
    nevents: u32,
) -> WasiResult<()> {
    if n == 0 {
        return Err(Errno::INVAL.into());
    }
    let in_len = n as u64 * poll::SUBSCRIPTION_SIZE as u64;
    let out_len = n as u64 * poll::EVENT_SIZE as u64;
    if in_len > u32::MAX as u64 || out as u64 + out_len > mem.len() as u64 {
        return Err(Errno::FAULT.into());
    }
    let raw = mem.read(subs, in_len as u32)?;
    mem.write_u32(nevents, 0)?;

    let mut ready: Vec<Event> = Vec::new();
    let mut clocks: Vec<(u64, Instant)> = Vec::new();
    let mut waits: Vec<FdWait> = Vec::new();
    let start = Instant::now();
    for s in raw.chunks_exact(poll::SUBSCRIPTION_SIZE as usize) {
        let u64_at = |o: usize| u64::from_le_bytes(s[o..o + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |o: usize| u32::from_le_bytes(s[o..o + 4].try_into().unwrap_or([0; 4]));
        let userdata = u64_at(0);
        let tag = s[8];
        match tag {
            event::CLOCK => {
                let id = u32_at(16);
                let timeout = u64_at(24);
                let flags = u16::from_le_bytes([s[40], s[41]]);
                let deadline = if flags & event::SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                    clock::deadline_at(id, timeout)
                } else {
                    clock::host_clock(id).map(|_| {
                        start
                            .checked_add(Duration::from_nanos(timeout))
                            .unwrap_or_else(clock::far_future)
                    })
                };
                match deadline {
                    Ok(d) => clocks.push((userdata, d)),
                    Err(e) => ready.push(immediate(userdata, tag, e, 0)),
                }
            }
            event::FD_READ | event::FD_WRITE => {
                let fd = u32_at(16);
                let desc = match cx.table.get(fd) {
                    Ok(d) => d,
                    Err(e) => {
                        ready.push(immediate(userdata, tag, e, 0));
                        continue;
                    }
                };
                if let Err(e) = desc.require(rights::POLL_FD_READWRITE) {
                    ready.push(immediate(userdata, tag, e, 0));
                    continue;
                }
                match &desc.kind {
                    Kind::File(f) if f.pollable().is_some() => waits.push(FdWait {
                        userdata,
                        kind: tag,
                        desc: desc.clone(),
                    }),
                    Kind::File(f) => {
                        let nbytes = if tag == event::FD_READ {
                            f.readable()
                        } else {
                            0
                        };
                        ready.push(immediate(userdata, tag, Errno::SUCCESS, nbytes));
                    }
                    Kind::Stream(s) => {
                        let nbytes = if tag == event::FD_READ {
                            s.readable()
                        } else {
                            0
                        };
                        ready.push(immediate(userdata, tag, Errno::SUCCESS, nbytes));
                    }
                    Kind::Dir(_) => ready.push(immediate(userdata, tag, Errno::BADF, 0)),
                }
            }
            _ => return Err(Errno::INVAL.into()),
        }
    }

    // Wait: not at all if something is already ready, else until the
    // earliest clock (or forever, until a descriptor or the stop signal).
    let deadline = if ready.is_empty() {
        clocks.iter().map(|c| c.1).min()
    } else {
        Some(Instant::now())
    };
    let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(waits.len());
    for w in &waits {
        let f = match &w.desc.kind {
            Kind::File(f) => f,
            _ => continue,
        };
        if let Some(fd) = f.pollable() {
            let ev = if w.kind == event::FD_READ {
                PollFlags::IN
            } else {
                PollFlags::OUT
            };
            fds.push(PollFd::from_borrowed_fd(fd, ev));
        }
    }
    let immediate_only = deadline.is_some_and(|d| d <= Instant::now());
    let revents = if !fds.is_empty() || !immediate_only {
        cx.stop_signal().poll(&fds, deadline)?
    } else {
        Vec::new()
    };
    for (w, &re) in waits.iter().zip(revents.iter()) {
        if re.is_empty() {
            continue;
        }
        let nbytes = match (&w.desc.kind, w.kind) {
            (Kind::File(f), event::FD_READ) => f.readable(),
            _ => 0,
        };
        let error = if re.contains(PollFlags::NVAL) {
            Errno::BADF
        } else if re.contains(PollFlags::ERR) && !re.contains(PollFlags::HUP) {
            Errno::IO
        } else {
            Errno::SUCCESS
        };
        ready.push(Event {
            userdata: w.userdata,
            error,
            kind: w.kind,
            nbytes,
            hangup: re.contains(PollFlags::HUP),
        });
    }
    let now = Instant::now();
    for &(userdata, d) in &clocks {
        if d <= now {
            ready.push(immediate(userdata, event::CLOCK, Errno::SUCCESS, 0));
        }
    }
    for (i, e) in ready.iter().enumerate() {
        mem.write(out + i as u32 * poll::EVENT_SIZE, &e.encode())?;
    }
    mem.write_u32(nevents, ready.len() as u32)?;
    Ok(())
}
