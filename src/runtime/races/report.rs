//! What the race detector reports: [`RaceReport`], its text, and the named
//! suppressions.

use std::fmt;

/// One side of a race: who accessed and where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaceAccess {
    /// A write (else a read).
    pub write: bool,
    /// The thread (`0` is the main thread).
    pub tid: u32,
    /// The wasm function, by its index in the module as given (as
    /// backtraces name it); `None` for a WASI call.
    pub func_index: Option<u32>,
    /// Its name, when the module's name section has one.
    pub func_name: Option<String>,
    /// The instruction's code offset in the module as given.
    pub offset: Option<u32>,
    /// The WASI function that made the access, if a WASI call did.
    pub wasi_call: Option<String>,
}

/// One data race: two accesses to the same bytes, at least one a write,
/// by two threads, with nothing ordering them. Each pair of code places is
/// reported once per run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceReport {
    /// The first byte both accesses touch.
    pub address: u64,
    /// Bytes of the current access (the length of a bulk operation or WASI
    /// buffer).
    pub size: u64,
    /// The access that found the race.
    pub current: RaceAccess,
    /// The earlier access it races with.
    pub previous: RaceAccess,
    /// The current access's wasm backtrace (original function indices and
    /// offsets); for a WASI call, the frames of its call site.
    pub backtrace: String,
    /// The variable that holds [`address`](Self::address), when the module
    /// carries DWARF (built with `-g`) that places one there: a global or
    /// function-static variable in the program's data. Heap and stack
    /// addresses have none.
    pub symbol: Option<DataSymbol>,
}

/// A variable in the program's data (linear memory), from the module's
/// DWARF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSymbol {
    /// Its name; a function-static variable is `function::variable`, one in
    /// a namespace (C++, Rust) `namespace::variable`.
    pub name: String,
    /// The offset in it of the byte at the race's address (for a
    /// variable the optimiser split into pieces, the offset of the piece
    /// that byte holds: `data+8` for the byte that keeps `data[2]`).
    pub offset: u64,
    /// Its size in bytes.
    pub size: u64,
}

impl fmt::Display for RaceAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.write { "write" } else { "read" };
        write!(f, "{what} by thread {}", self.tid)?;
        if let Some(call) = &self.wasi_call {
            return write!(f, " in WASI call {call}");
        }
        if let Some(offset) = self.offset {
            write!(f, " at {offset:#x}")?;
        }
        match (&self.func_name, self.func_index) {
            (Some(name), Some(i)) => {
                write!(f, " in ")?;
                demangled(f, name)?;
                write!(f, " (wasm function {i})")
            }
            (None, Some(i)) => write!(f, " in <wasm function {i}>"),
            _ => Ok(()),
        }
    }
}

fn demangled(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    match rustc_demangle::try_demangle(name) {
        Ok(d) => write!(f, "{d:#}"),
        Err(_) => f.write_str(name),
    }
}

impl fmt::Display for RaceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "data race on {} byte{} at {:#x}",
            self.size,
            if self.size == 1 { "" } else { "s" },
            self.address
        )?;
        if let Some(s) = &self.symbol {
            write!(
                f,
                " ({}+{}, a {}-byte variable in the program's data)",
                s.name, s.offset, s.size
            )?;
        }
        writeln!(f, ":")?;
        writeln!(f, "  {}", self.current)?;
        write!(f, "  previous {}", self.previous)?;
        if !self.backtrace.is_empty() {
            write!(f, "\n  current access:\n{}", self.backtrace)?;
        }
        Ok(())
    }
}

/// A race between two functions of a C library that is benign by design.
pub(crate) struct Suppression {
    /// Its name, for the documentation (README "Finding data races").
    pub(crate) name: &'static str,
    /// A race is suppressed when one access is in a function of `one` and
    /// the other in a function of `other` (names from the name section;
    /// `other` empty: any function).
    pub(crate) one: &'static [&'static str],
    pub(crate) other: &'static [&'static str],
    /// Why it is benign.
    pub(crate) why: &'static str,
}

/// The suppressions: each names the functions of both sides, never one
/// function alone, so a race of the program's own code with them is still
/// reported.
pub(crate) const SUPPRESSIONS: &[Suppression] = &[
    Suppression {
        name: "musl-need-locks",
        one: &["__lock"],
        other: &[
            "__lock",
            "__pthread_exit",
            "pthread_exit",
            "__wasi_thread_start_C",
            "__pthread_create",
            "pthread_create",
        ],
        why: "musl (wasi-libc) reads and clears `libc.need_locks` in __lock without \
              synchronisation by design: pthread_create sets it before the first thread \
              starts and the last thread to exit sets it to -1 under the thread-list lock; \
              a stale value only takes one lock more, or one less once a single thread is \
              left",
    },
    Suppression {
        name: "sqlite-init-flag",
        one: &["sqlite3Initialize"],
        other: &[],
        why: "SQLite's sqlite3_initialize (inlined into its API functions) reads \
              sqlite3GlobalConfig.isInit without its mutex and then issues a memory \
              barrier; sqlite3Initialize sets it, after a barrier, once initialisation \
              is complete (double-checked initialisation by design, documented there)",
    },
    Suppression {
        name: "dlmalloc-chunk-header",
        one: &["calloc", "dlcalloc", "realloc", "dlrealloc"],
        other: &[
            "free",
            "dlfree",
            "dispose_chunk",
            "dlrealloc",
            "realloc",
            "dlmalloc",
            "malloc",
            "internal_memalign",
            "posix_memalign",
            "aligned_alloc",
            "memalign",
            "tmalloc_small",
            "tmalloc_large",
        ],
        why: "wasi-libc's dlmalloc reads the header word of a chunk it owns outside its \
              lock (calloc: is it mmapped?; realloc: its size, to copy it), while, under the \
              lock, freeing the neighbouring chunk or splitting it (malloc, memalign) \
              flips that word's PINUSE bit: the bits read never change while the chunk is \
              in use",
    },
];

/// Whether a race between `a` and `b` is suppressed, and by which.
pub(crate) fn suppressed(a: &RaceAccess, b: &RaceAccess) -> Option<&'static Suppression> {
    let is_in = |x: &RaceAccess, names: &[&str]| {
        names.is_empty() || x.func_name.as_deref().is_some_and(|n| names.contains(&n))
    };
    SUPPRESSIONS
        .iter()
        .find(|s| (is_in(a, s.one) && is_in(b, s.other)) || (is_in(a, s.other) && is_in(b, s.one)))
}
