//! The WebAssembly proposals an engine accepts, switchable one by one with
//! Wasmtime's names (`wasmtime run -W NAME=y|n`).
//!
//! One table ([`TABLE`]) holds every switch: its `-W` name, the wasmparser
//! flags it stands for, whether it is on by default and how it is applied to
//! a `wasmtime::Config`. Every layer (Rust [`Config`](crate::runtime::Config),
//! C `weft_config_set_wasm_feature`, Python `Config`, weft-run `-W`,
//! [`weft::embed`](crate::embed)) goes through [`WasmFeatures`], so names are
//! parsed and refused here, in one place and with the same words.
//!
//! The defaults are those of `wasmtime run` 48 (everything Wasmtime 48
//! enables by default), plus shared memory: weft always runs threads.
//!
//! # How a switched-off feature is enforced
//!
//! weft's load-time rewrite inserts stop checks that read a second, shared
//! memory (`program::stop_checks`), so the Wasmtime engine must keep the
//! multi-memory and threads proposals and shared memory on whatever the user
//! switched. The user's switches are therefore applied to the **original**
//! module, before the rewrite, by a wasmparser validator with exactly the
//! user's proposals ([`WasmFeatures::check_module`]); the other switches are
//! also applied to the Wasmtime engine itself.

use std::fmt;

use wasmparser::WasmFeatures as Flags;

use crate::runtime::error::{Error, ErrorKind};

/// What weft lets the user do with a switch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// On or off, in the module check and in the Wasmtime engine alike.
    User,
    /// On or off in the module check; always on in the Wasmtime engine,
    /// because weft's rewrite needs it (the stop checks' second memory).
    EngineOn,
    /// Always on: weft runs threads; switching it off is refused.
    Always,
}

/// One switch of the table.
pub(crate) struct Feature {
    /// The `wasmtime run -W` name.
    pub(crate) name: &'static str,
    /// wasmparser's flags for it (none for `shared-memory`, an engine
    /// setting rather than a proposal).
    flags: Flags,
    /// On in `wasmtime run` 48 (and in weft).
    default: bool,
    kind: Kind,
    /// The `wasmtime::Config` method.
    apply: fn(&mut wasmtime::Config, bool),
}

macro_rules! table {
    ($($name:literal, $flags:expr, $default:literal, $kind:ident, $method:ident;)*) => {
        &[$(Feature {
            name: $name,
            flags: $flags,
            default: $default,
            kind: Kind::$kind,
            apply: |config, on| {
                config.$method(on);
            },
        },)*]
    };
}

/// Every switch, in the order of the README table and of error messages.
#[rustfmt::skip]
pub(crate) const TABLE: &[Feature] = table! {
    // -W name              wasmparser flags            default kind      wasmtime::Config
    "simd",                 Flags::SIMD,                true,   User,     wasm_simd;
    "relaxed-simd",         Flags::RELAXED_SIMD,        true,   User,     wasm_relaxed_simd;
    "bulk-memory",          Flags::BULK_MEMORY,         true,   User,     wasm_bulk_memory;
    "multi-value",          Flags::MULTI_VALUE,         true,   User,     wasm_multi_value;
    "reference-types",      Flags::REFERENCE_TYPES,     true,   User,     wasm_reference_types;
    "tail-call",            Flags::TAIL_CALL,           true,   User,     wasm_tail_call;
    "multi-memory",         Flags::MULTI_MEMORY,        true,   EngineOn, wasm_multi_memory;
    "memory64",             Flags::MEMORY64,            true,   User,     wasm_memory64;
    "extended-const",       Flags::EXTENDED_CONST,      true,   User,     wasm_extended_const;
    "function-references",  Flags::FUNCTION_REFERENCES, true,   User,     wasm_function_references;
    "gc",                   Flags::GC,                  true,   User,     wasm_gc;
    "exceptions",           Flags::EXCEPTIONS,          true,   User,     wasm_exceptions;
    "threads",              Flags::THREADS,             true,   Always,   wasm_threads;
    "shared-memory",        Flags::empty(),             true,   Always,   shared_memory;
    "wide-arithmetic",      Flags::WIDE_ARITHMETIC,     false,  User,     wasm_wide_arithmetic;
    "custom-page-sizes",    Flags::CUSTOM_PAGE_SIZES,   false,  User,     wasm_custom_page_sizes;
};

/// The `-W` name that sets every switch at once.
pub const ALL_PROPOSALS: &str = "all-proposals";

/// A set of WebAssembly proposals: which of [`WasmFeatures::names`] are on.
///
/// The default is `wasmtime run` 48's: every proposal Wasmtime 48 enables by
/// default (SIMD and relaxed SIMD, bulk memory, multi-value, reference
/// types, tail calls, multi-memory, memory64, extended constants, function
/// references, GC, exception handling, threads), plus shared memory; off:
/// wide arithmetic and custom page sizes. `threads` and `shared-memory` cannot
/// be switched off: weft always runs wasi-threads.
///
/// ```
/// use weft::runtime::WasmFeatures;
/// let mut features = WasmFeatures::default();
/// features.parse("exceptions=n,gc=n")?;             // as `wasmtime run -W`
/// features.set("wide-arithmetic", true)?;
/// assert!(!features.get("exceptions")?);
/// assert_eq!(features.to_string(), "gc=n,exceptions=n,wide-arithmetic=y");
/// assert!(features.set("exception", true).is_err()); // unknown: lists the names
/// # Ok::<(), weft::runtime::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WasmFeatures {
    /// Bit `i` is `TABLE[i]`.
    on: u32,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

fn index_of(name: &str) -> Result<usize, Error> {
    TABLE.iter().position(|f| f.name == name).ok_or_else(|| {
        invalid(format!(
            "unknown WebAssembly feature \"{name}\"; known: {}, {ALL_PROPOSALS}",
            WasmFeatures::names().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// `y`/`n` as `wasmtime run -W` reads them (nothing means `y`).
fn parse_bool(name: &str, value: Option<&str>) -> Result<bool, Error> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => Err(invalid(format!(
            "invalid value \"{other}\" for WebAssembly feature \"{name}\": use y or n"
        ))),
    }
}

impl Default for WasmFeatures {
    fn default() -> WasmFeatures {
        let on = TABLE
            .iter()
            .enumerate()
            .filter(|(_, f)| f.default)
            .fold(0, |on, (i, _)| on | 1 << i);
        WasmFeatures { on }
    }
}

impl WasmFeatures {
    /// The names every setter accepts, in table order (plus
    /// `all-proposals`, which sets them all).
    pub fn names() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|f| f.name)
    }

    fn is_on(&self, i: usize) -> bool {
        self.on & (1 << i) != 0
    }

    /// Whether feature `name` is on.
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`] for an unknown name (the
    /// message lists the known ones).
    pub fn get(&self, name: &str) -> Result<bool, Error> {
        if name == ALL_PROPOSALS {
            return Ok((0..TABLE.len()).all(|i| self.is_on(i)));
        }
        Ok(self.is_on(index_of(name)?))
    }

    /// Switches feature `name` on or off. `all-proposals` switches every
    /// feature (off: all but `threads` and `shared-memory`).
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`] for an unknown name (the
    /// message lists the known ones), or for switching off `threads` or
    /// `shared-memory`, which weft always runs with.
    pub fn set(&mut self, name: &str, enable: bool) -> Result<(), Error> {
        if name == ALL_PROPOSALS {
            for (i, f) in TABLE.iter().enumerate() {
                self.put(i, enable || f.kind == Kind::Always);
            }
            return Ok(());
        }
        let i = index_of(name)?;
        if TABLE[i].kind == Kind::Always && !enable {
            return Err(invalid(format!(
                "the WebAssembly feature \"{name}\" cannot be switched off: weft always runs \
                 threads (wasi-threads needs the threads proposal and shared memory)"
            )));
        }
        self.put(i, enable);
        Ok(())
    }

    fn put(&mut self, i: usize, enable: bool) {
        if enable {
            self.on |= 1 << i;
        } else {
            self.on &= !(1 << i);
        }
    }

    /// Applies `wasmtime run -W` switches: `NAME[=y|n][,NAME[=y|n]...]`,
    /// left to right (`y`, `yes`, `true` or nothing: on; `n`, `no`,
    /// `false`: off). All or nothing: on an error no switch is applied.
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`] for an empty item, an
    /// unknown name or value, or what [`WasmFeatures::set`] refuses.
    pub fn parse(&mut self, spec: &str) -> Result<(), Error> {
        let mut next = *self;
        for item in spec.split(',') {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (item.trim(), None),
            };
            if name.is_empty() {
                return Err(invalid(format!(
                    "empty WebAssembly feature in \"{spec}\": expected NAME=y|n[,NAME=y|n...]"
                )));
            }
            if name != ALL_PROPOSALS {
                index_of(name)?;
            }
            next.set(name, parse_bool(name, value)?)?;
        }
        *self = next;
        Ok(())
    }

    /// Checks that the switches fit together, as Wasmtime does: relaxed
    /// SIMD needs SIMD.
    ///
    /// **Errors**: [`ErrorKind::InvalidArgument`], naming the switches.
    pub fn validate(&self) -> Result<(), Error> {
        if self.get("relaxed-simd")? && !self.get("simd")? {
            return Err(invalid(
                "the WebAssembly feature \"relaxed-simd\" needs \"simd\": switch both off \
                 (-W simd=n,relaxed-simd=n) or simd back on"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Applies these switches to a Wasmtime configuration, with threads,
    /// shared memory and multi-memory always on (weft needs them; a module's
    /// use of a switched-off multi-memory is refused by
    /// [`WasmFeatures::check_module`]).
    pub fn apply_to(&self, config: &mut wasmtime::Config) {
        for (i, f) in TABLE.iter().enumerate() {
            (f.apply)(config, f.kind != Kind::User || self.is_on(i));
        }
    }

    /// `-W multi-memory=n` for a module compiled elsewhere (a serialized or
    /// an embedder's compiled module), whose bytes weft cannot validate
    /// again: the engine keeps multi-memory on for weft's own stop memory,
    /// so it does not refuse such a module itself. `memories`: the module's
    /// own memories, imported and defined, weft's stop memory not counted.
    ///
    /// **Errors**: [`ErrorKind::Compile`], naming the switch, for more than
    /// one memory while multi-memory is off.
    pub(crate) fn check_memory_count(&self, memories: usize) -> Result<(), Error> {
        if memories <= 1 || self.get("multi-memory").unwrap_or(true) {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Compile,
            format!(
                "the module uses the multi-memory proposal ({memories} memories), which is \
                 switched off (turn it on with weft-run -W multi-memory=y, or with \
                 set_wasm_feature(\"multi-memory\", true) on the C, Rust or Python config)"
            ),
        ))
    }

    /// wasmparser's flags for exactly these switches.
    pub(crate) fn flags(&self) -> Flags {
        let all = TABLE.iter().fold(Flags::empty(), |all, f| all | f.flags);
        // What no switch covers (mutable globals, sign extension, …) stays
        // as in Wasmtime's default set.
        let base = Flags::WASM3 & !all;
        TABLE
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.is_on(i))
            .fold(base, |flags, (_, f)| flags | f.flags)
    }

    /// Checks a binary module against these switches: `Ok` when it uses no
    /// switched-off proposal. A module that is invalid whatever the switches
    /// also passes, for the compiler to word its error.
    ///
    /// **Errors**: [`ErrorKind::Compile`] naming the switched-off
    /// feature(s) the module uses and how to switch them on.
    pub fn check_module(&self, bytes: &[u8]) -> Result<(), Error> {
        let validate = |features: WasmFeatures| {
            wasmparser::Validator::new_with_features(features.flags())
                .validate_all(bytes)
                .map(drop)
        };
        let Err(error) = validate(*self) else {
            return Ok(());
        };
        let all_on = WasmFeatures {
            on: self.on | ((1 << TABLE.len()) - 1),
        };
        if validate(all_on).is_err() {
            return Ok(());
        }
        // Leave on only the switched-off features the module needs.
        let mut needed = all_on;
        for i in (0..TABLE.len()).filter(|&i| !self.is_on(i)) {
            let mut without = needed;
            without.put(i, false);
            if validate(without).is_ok() {
                needed = without;
            }
        }
        let names: Vec<&str> = (0..TABLE.len())
            .filter(|&i| needed.is_on(i) && !self.is_on(i))
            .map(|i| TABLE[i].name)
            .collect();
        let (uses, them, are) = match names.len() {
            1 => (format!("the {} proposal", names[0]), "it", "is"),
            n => (
                format!(
                    "the {} and {} proposals",
                    names[..n - 1].join(", "),
                    names[n - 1]
                ),
                "them",
                "are",
            ),
        };
        let switches = names
            .iter()
            .map(|n| format!("{n}=y"))
            .collect::<Vec<_>>()
            .join(",");
        Err(Error::new(
            ErrorKind::Compile,
            format!(
                "the module uses {uses}, which {are} switched off (turn {them} on with \
                 weft-run -W {switches}, or with set_wasm_feature(\"{}\", true) on the C, Rust \
                 or Python config); the validator says: {error}",
                names[0]
            ),
        ))
    }
}

/// The switches that differ from the default, as `-W` would take them
/// (empty for the default set).
impl fmt::Display for WasmFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (i, feature) in TABLE.iter().enumerate() {
            if self.is_on(i) != feature.default {
                let sep = if first { "" } else { "," };
                let value = if self.is_on(i) { "y" } else { "n" };
                write!(f, "{sep}{}={value}", feature.name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for WasmFeatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WasmFeatures(\"{self}\")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_wasmtime_48s() {
        let d = WasmFeatures::default();
        assert_eq!(d.flags(), Flags::WASM3);
        assert_eq!(d.to_string(), "");
        for name in WasmFeatures::names() {
            let on = !matches!(name, "wide-arithmetic" | "custom-page-sizes");
            assert_eq!(d.get(name).unwrap(), on, "{name}");
        }
    }

    #[test]
    fn the_engine_gets_what_wasmtime_run_48_gets() {
        // The default table applied to a fresh config changes nothing that
        // Wasmtime would validate differently (shared memory aside).
        let mut c = wasmtime::Config::new();
        WasmFeatures::default().apply_to(&mut c);
        wasmtime::Engine::new(&c).unwrap();
    }

    #[test]
    fn names_and_values_are_checked() {
        let mut f = WasmFeatures::default();
        let e = f.set("exception", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.message().starts_with(
                "unknown WebAssembly feature \"exception\"; known: simd, relaxed-simd, bulk-memory"
            ),
            "{e}"
        );
        assert!(
            e.message().ends_with("custom-page-sizes, all-proposals"),
            "{e}"
        );
        let e = f.parse("simd=maybe").unwrap_err();
        assert!(e.message().contains("use y or n"), "{e}");
        let e = f.parse("simd=n,,gc=n").unwrap_err();
        assert!(e.message().contains("empty WebAssembly feature"), "{e}");
        // All or nothing.
        assert!(f.parse("gc=n,nope=y").is_err());
        assert!(f.get("gc").unwrap());
        for spec in ["threads=n", "shared-memory=n", "threads=y,shared-memory=no"] {
            let e = f.parse(spec).unwrap_err();
            assert!(e.message().contains("cannot be switched off"), "{e}");
        }
        f.parse("threads=y,shared-memory=y,threads").unwrap();
        assert_eq!(f, WasmFeatures::default());
    }

    #[test]
    fn all_proposals_keeps_threads() {
        let mut f = WasmFeatures::default();
        f.parse("all-proposals=n").unwrap();
        assert!(f.get("threads").unwrap() && f.get("shared-memory").unwrap());
        assert!(!f.get("simd").unwrap() && !f.get("all-proposals").unwrap());
        f.parse("all-proposals").unwrap();
        assert!(f.get("all-proposals").unwrap() && f.get("wide-arithmetic").unwrap());
    }

    #[test]
    fn relaxed_simd_needs_simd() {
        let mut f = WasmFeatures::default();
        f.set("simd", false).unwrap();
        assert!(f
            .validate()
            .unwrap_err()
            .message()
            .contains("needs \"simd\""));
        f.set("relaxed-simd", false).unwrap();
        f.validate().unwrap();
    }

    #[test]
    fn a_module_is_refused_naming_the_switch() {
        let exn = wat::parse_str(
            r#"(module (tag $e) (func (export "f") (block $h (try_table (catch_all $h) (throw $e)))))"#,
        )
        .unwrap();
        let mut f = WasmFeatures::default();
        f.check_module(&exn).unwrap();
        f.parse("exceptions=n,gc=n").unwrap();
        let e = f.check_module(&exn).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Compile);
        assert!(
            e.message().starts_with(
                "the module uses the exceptions proposal, which is switched off (turn it on \
                 with weft-run -W exceptions=y"
            ),
            "{e}"
        );
        // Two at once.
        let two =
            wat::parse_str(r#"(module (memory 1) (memory 1) (tag $e) (func (throw $e)))"#).unwrap();
        f.set("multi-memory", false).unwrap();
        let e = f.check_module(&two).unwrap_err();
        assert!(
            e.message()
                .contains("the multi-memory and exceptions proposals, which are switched off"),
            "{e}"
        );
        // Invalid whatever the switches: left to the compiler.
        f.check_module(b"\0asm\x01\0\0\0\x01").unwrap();
    }
}
