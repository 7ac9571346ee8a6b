//! A thread dump and its text form, modelled on the JVM's: one paragraph per
//! thread with its identity, state and wasm backtrace.

use std::fmt;
use std::time::Duration;

use wasmtime::WasmBacktrace;

use crate::runtime::observe::thread_state::{ThreadInfo, ThreadState};
use crate::runtime::program::frame_map::{self, FrameMap};

/// Every live thread of a program with its backtrace, at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadDump {
    /// The threads, by TID.
    pub threads: Vec<ThreadInfo>,
    /// Whether backtraces were asked for (a dump) or not (a snapshot).
    pub with_backtraces: bool,
    /// Whether threads running wasm code could answer with their frames
    /// ([`Config::precise_dumps`](crate::runtime::Config::precise_dumps), or
    /// a dump taken after the end).
    pub running_frames: bool,
    /// Whether it was taken after the program ended: every thread as the
    /// end found it, with the frames of the trap that stopped it (running
    /// wasm code included, whatever the engine's checks).
    pub at_end: bool,
}

/// A backtrace as trap messages show it (original function indices and
/// offsets when the module was rewritten): one frame per line.
pub(crate) fn backtrace_text(bt: &WasmBacktrace, frames: Option<&FrameMap>) -> String {
    let text = frame_map::format(bt, frames);
    // Wasmtime heads the frames with a line meant for errors.
    let body = match text.split_once('\n') {
        Some((head, rest)) if head.starts_with("error while executing") => rest,
        _ => &text,
    };
    body.trim_end().to_string()
}

fn duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

impl fmt::Display for ThreadDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.threads.len();
        writeln!(
            f,
            "weft thread dump: {n} thread{}{}",
            if n == 1 { "" } else { "s" },
            if self.at_end {
                ", as the end of the program stopped them"
            } else {
                ""
            }
        )?;
        for t in &self.threads {
            let name = if t.os_name.is_empty() {
                "-"
            } else {
                &t.os_name
            };
            write!(f, "\n\"{name}\" tid={}", t.tid)?;
            if t.tid == 0 {
                f.write_str(" (main)")?;
            }
            if let Some(os) = t.os_tid {
                write!(f, " os_tid={os}")?;
            }
            writeln!(f, " cpu={}", duration(t.cpu_time))?;
            writeln!(f, "   state: {} for {}", t.state, duration(t.in_state))?;
            match &t.backtrace {
                _ if !self.with_backtraces => {}
                Some(bt) if bt.trim().is_empty() => writeln!(f, "   (no wasm frames)")?,
                Some(bt) => {
                    for line in bt.lines() {
                        writeln!(f, "   {line}")?;
                    }
                }
                None if matches!(t.state, ThreadState::Idle | ThreadState::Ending) => {}
                None if !self.running_frames
                    && matches!(t.state, ThreadState::Running | ThreadState::Starting) =>
                {
                    writeln!(
                        f,
                        "   (no backtrace: running wasm code, which answers only with precise dumps)"
                    )?
                }
                None if self.at_end => {
                    writeln!(f, "   (no backtrace: the thread did not stop in time)")?
                }
                None => writeln!(f, "   (no backtrace: the thread did not answer in time)")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_paragraph_per_thread() {
        let dump = ThreadDump {
            threads: vec![
                ThreadInfo {
                    tid: 0,
                    os_tid: Some(42),
                    os_name: "weft-main".into(),
                    state: ThreadState::Parked {
                        address: 0x40,
                        timed: false,
                    },
                    cpu_time: Duration::from_micros(1500),
                    in_state: Duration::from_secs(2),
                    backtrace: Some("    0:   0x2a - m!f".into()),
                },
                ThreadInfo {
                    tid: 1,
                    os_tid: Some(43),
                    os_name: "weft-thread-1".into(),
                    state: ThreadState::WasiCall("poll_oneoff"),
                    cpu_time: Duration::ZERO,
                    in_state: Duration::from_micros(10),
                    backtrace: None,
                },
            ],
            with_backtraces: true,
            running_frames: true,
            at_end: false,
        };
        let text = dump.to_string();
        assert!(text.starts_with("weft thread dump: 2 threads\n"), "{text}");
        assert!(
            text.contains("\"weft-main\" tid=0 (main) os_tid=42 cpu=1.5ms\n   state: parked in atomic.wait on 0x40 (no timeout) for 2.00s\n       0:   0x2a - m!f\n"),
            "{text}"
        );
        assert!(text.contains("in WASI call poll_oneoff for 10us"), "{text}");
        assert!(text.contains("did not answer"), "{text}");
        let at_end = ThreadDump {
            at_end: true,
            ..dump
        }
        .to_string();
        assert!(
            at_end.starts_with(
                "weft thread dump: 2 threads, as the end of the program stopped them\n"
            ),
            "{at_end}"
        );
        assert!(at_end.contains("did not stop in time"), "{at_end}");
    }
}
