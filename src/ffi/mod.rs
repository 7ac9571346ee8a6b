//! The C ABI: `extern "C"` functions, handle conversion, NULL checks, the
//! panic boundary and error objects. No logic lives here; each handle's
//! functions are in `src/ffi/<handle>.rs` and its logic in `src/runtime`.
//!
//! Imports flow one way: `boundary` (panics, arguments) knows nothing of
//! the others; [`handle`] (how C owns each handle) builds on it; [`error`]
//! (the error object, and `guard`, which runs a fallible export's body) on
//! both; every handle's file on all three.
//!
//! `include/weft.h` is generated from these files by cbindgen.

#![allow(non_camel_case_types)]
// Every export is `unsafe` only because C passes raw pointers; the contract
// (NULL or valid, lengths honest) is stated once in the header preamble.
#![allow(clippy::missing_safety_doc)]

mod boundary;
pub mod config;
pub mod engine;
pub mod error;
pub mod handle;
pub mod host_funcs;
pub mod idle_threads;
pub mod instance;
pub mod log;
pub mod module;
pub mod thread_list;
pub mod val;
pub mod version;
pub mod wasi_config;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Each file of src/ffi with the src/ffi modules it imports.
    fn imports() -> BTreeMap<String, Vec<String>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
        let mut found = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let lines = text.lines().count();
            assert!(lines <= 600, "src/ffi/{name}.rs has {lines} lines");
            let uses = text
                .split("crate::ffi::")
                .skip(1)
                .filter_map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                })
                .filter(|m| !m.is_empty() && *m != name)
                .map(str::to_string)
                .collect();
            found.insert(name, uses);
        }
        found
    }

    #[test]
    fn ffi_modules_import_each_other_without_a_circle() {
        let imports = imports();
        assert!(imports.contains_key("boundary") && imports.contains_key("error"));
        // Depth-first search; a module met again while still open is a circle.
        fn visit<'a>(
            m: &'a str,
            imports: &'a BTreeMap<String, Vec<String>>,
            path: &mut Vec<&'a str>,
            done: &mut Vec<&'a str>,
        ) {
            if done.contains(&m) {
                return;
            }
            assert!(!path.contains(&m), "import circle: {path:?} -> {m}");
            path.push(m);
            for next in imports.get(m).into_iter().flatten() {
                visit(next, imports, path, done);
            }
            path.pop();
            done.push(m);
        }
        let mut done = Vec::new();
        for m in imports.keys() {
            visit(m, &imports, &mut Vec::new(), &mut done);
        }
    }
}
