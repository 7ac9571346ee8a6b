//! The runtime's error type: a stable kind plus a message (and, for traps,
//! the thread and backtrace).

use std::fmt;

use crate::wasi::InvalidWasiConfig;

/// What went wrong, as a stable number. Append-only: values never change.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A bug in weft itself (including a caught panic).
    Internal = 1,
    /// A required pointer argument was NULL (C API only).
    NullArgument = 2,
    /// An argument is malformed: invalid UTF-8, unknown enum value, absurd size.
    InvalidArgument = 3,
    /// A host I/O operation failed (reading a module file, opening a preopen).
    Io = 4,
    /// The bytes are not a valid WebAssembly module (or WAT text).
    Compile = 5,
    /// The module's imports cannot be satisfied.
    Link = 6,
    /// Instantiation failed (including a trap in the module's start function).
    Instantiate = 7,
    /// A guest thread trapped; the program has ended.
    Trap = 8,
    /// The program has already ended (it exited, trapped, was interrupted or timed out).
    Ended = 9,
    /// The host interrupted the program.
    Interrupted = 10,
    /// The program ran past its wall-clock timeout.
    TimedOut = 11,
    /// The call is not valid in the instance's current state.
    State = 12,
    /// A named export does not exist or has the wrong type.
    NotFound = 13,
    /// The program exited (`proc_exit`) during a reactor call; the code is attached.
    Exited = 14,
    /// An error the embedder's host code made ([`Error::host`]; C's
    /// `weft_error_new`), e.g. for a host function to return.
    Host = 15,
    /// Every live thread of a running command was parked in an untimed
    /// `memory.atomic.wait`: nobody could wake them. The message holds the dump.
    Deadlock = 16,
}

/// Where and how a guest thread trapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapInfo {
    /// The trapping thread's TID (0 for the main thread).
    pub tid: u32,
    /// The trap message.
    pub message: String,
    /// The wasm backtrace, one frame per line (may be empty).
    pub backtrace: String,
}

impl fmt::Display for TrapInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread {} trapped: {}", self.tid, self.message)?;
        if !self.backtrace.is_empty() {
            write!(f, "\n{}", self.backtrace)?;
        }
        Ok(())
    }
}

/// An error from the runtime.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    trap: Option<TrapInfo>,
    exit_code: Option<i32>,
}

impl Error {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            trap: None,
            exit_code: None,
        }
    }

    /// An error made by the embedder's host code, of kind [`ErrorKind::Host`].
    pub fn host(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Host, message)
    }

    /// A trap error.
    pub fn trap(info: TrapInfo) -> Error {
        Error {
            kind: ErrorKind::Trap,
            message: info.to_string(),
            trap: Some(info),
            exit_code: None,
        }
    }

    /// The program exited with `code` during a reactor call.
    pub fn exited(code: i32) -> Error {
        Error {
            kind: ErrorKind::Exited,
            message: format!("the program exited with code {code}"),
            trap: None,
            exit_code: Some(code),
        }
    }

    /// Wraps a Wasmtime/anyhow error, keeping its whole context chain.
    pub fn wrap(kind: ErrorKind, context: &str, err: impl fmt::Display) -> Error {
        Error::new(kind, format!("{context}: {err:#}"))
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Trap details, for [`ErrorKind::Trap`].
    pub fn trap_info(&self) -> Option<&TrapInfo> {
        self.trap.as_ref()
    }

    /// The exit code, for [`ErrorKind::Exited`].
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<InvalidWasiConfig> for Error {
    /// A broken WASI configuration rule is an invalid argument, in the
    /// rule's own words.
    fn from(e: InvalidWasiConfig) -> Error {
        Error::new(ErrorKind::InvalidArgument, e.to_string())
    }
}

/// Shorthand for results of the runtime.
pub type Result<T, E = Error> = std::result::Result<T, E>;
