//! Forwards the `log` crate's records to an embedder callback.

use std::ffi::{c_char, c_void};
use std::sync::RwLock;

use crate::ffi::boundary::guard_value;

/// Log level of a record: error.
pub const WEFT_LOG_ERROR: u32 = 1;
/// Log level of a record: warning.
pub const WEFT_LOG_WARN: u32 = 2;
/// Log level of a record: information.
pub const WEFT_LOG_INFO: u32 = 3;
/// Log level of a record: debugging.
pub const WEFT_LOG_DEBUG: u32 = 4;
/// Log level of a record: tracing.
pub const WEFT_LOG_TRACE: u32 = 5;

/// Receives one log record: level (`WEFT_LOG_*`), target and message as
/// UTF-8 `(ptr, len)` strings valid only during the call. Called from any
/// thread, concurrently; must not unwind or `longjmp`.
pub type weft_log_callback_t = Option<
    unsafe extern "C" fn(
        env: *mut c_void,
        level: u32,
        target: *const c_char,
        target_len: usize,
        message: *const c_char,
        message_len: usize,
    ),
>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, u32, *const c_char, usize, *const c_char, usize),
    env: *mut c_void,
}

// SAFETY: the header requires the callback and env to be usable from any thread.
unsafe impl Send for Sink {}
// SAFETY: as above.
unsafe impl Sync for Sink {}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

struct Forwarder;

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("weft") && SINK.read().map(|s| s.is_some()).unwrap_or(false)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(sink) = SINK.read() else { return };
        if let Some(sink) = sink.as_ref() {
            let message = record.args().to_string();
            let target = record.target();
            // SAFETY: the embedder's callback with strings valid for the call.
            unsafe {
                (sink.callback)(
                    sink.env,
                    record.level() as u32,
                    target.as_ptr().cast(),
                    target.len(),
                    message.as_ptr().cast(),
                    message.len(),
                )
            };
        }
    }

    fn flush(&self) {}
}

static FORWARDER: Forwarder = Forwarder;

/// Sends weft's log records at `max_level` (`WEFT_LOG_*`) and more severe
/// ones to `callback`; `callback == NULL` turns logging off (the default).
/// If the process already installed a different Rust `log` logger, weft's
/// records go there instead and this has no effect.
///
/// **Ownership**: `env` stays the caller's; it must remain valid until
/// logging is turned off or replaced.
/// **Thread safety**: callable from any thread; the callback is called
/// concurrently from any thread.
#[no_mangle]
pub unsafe extern "C" fn weft_set_log_callback(
    callback: weft_log_callback_t,
    env: *mut c_void,
    max_level: u32,
) {
    guard_value((), || {
        let _ = log::set_logger(&FORWARDER);
        let level = match max_level {
            0 => log::LevelFilter::Off,
            WEFT_LOG_ERROR => log::LevelFilter::Error,
            WEFT_LOG_WARN => log::LevelFilter::Warn,
            WEFT_LOG_INFO => log::LevelFilter::Info,
            WEFT_LOG_DEBUG => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        };
        let sink = callback.map(|callback| Sink { callback, env });
        log::set_max_level(if sink.is_some() {
            level
        } else {
            log::LevelFilter::Off
        });
        if let Ok(mut s) = SINK.write() {
            *s = sink;
        }
    })
}
