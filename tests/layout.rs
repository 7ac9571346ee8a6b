//! The shape of the source tree (STYLE.md, "Inside the core"): no import
//! circle between the crate's modules, and no source file that has grown past
//! the size where it usually holds two concepts.
//!
//! The import graph has one node per file module (`src/runtime/run/tids.rs`
//! is `runtime::run::tids`). A module points at another when its code (tests
//! left out) names a path into it: `use crate::a::b`, `super::b::f()`,
//! `crate::a::B` where `a` defines `B`. A name that a module only re-exports
//! (`pub use child::B`) is followed to the module that defines it, so a
//! facade such as `runtime/mod.rs` sits above its children without closing a
//! circle with them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Above this many lines a file is split by concept.
const MAX_LINES: usize = 600;

#[test]
fn no_source_file_is_over_the_line_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for file in rust_files(&root.join("src")) {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} ({lines} lines)", file.display()));
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let graph = Graph::of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let cycles = graph.cycles();
    assert!(
        cycles.is_empty(),
        "import circles in src/ (each a strongly connected set of modules):\n{}",
        cycles
            .iter()
            .map(|c| format!("  {}", c.join(" <-> ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_graph_sees_a_circle() {
    // The checker itself: two modules that name each other are a circle, a
    // re-export is followed to where the name is defined.
    let mut graph = Graph::default();
    graph.add("a", "use crate::b::f; pub fn g() {}");
    graph.add("b", "pub fn f() { crate::a::g() }");
    graph.add("c", "pub use crate::a::g; pub fn h() {}");
    graph.add("d", "use crate::c::g; pub fn k() { crate::c::h() }");
    graph.resolve();
    assert_eq!(graph.cycles(), vec![vec!["a".to_string(), "b".to_string()]]);
    assert!(graph.edges["d"].contains("a"), "{:?}", graph.edges["d"]);
    assert!(graph.edges["d"].contains("c"), "{:?}", graph.edges["d"]);
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A module path such as `runtime::run::tids` for a file under `src/`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

#[derive(Default)]
struct Graph {
    /// Module → its code with comments, strings and test modules removed.
    code: BTreeMap<String, String>,
    /// Module → (name it re-exports → the full path it points at).
    reexports: BTreeMap<String, BTreeMap<String, String>>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn of(src: &Path) -> Graph {
        let mut graph = Graph::default();
        for file in rust_files(src) {
            let text = std::fs::read_to_string(&file).unwrap();
            graph.add(&module_of(src, &file), &text);
        }
        graph.resolve();
        graph
    }

    fn add(&mut self, module: &str, text: &str) {
        self.code.insert(module.to_string(), strip(text));
    }

    fn resolve(&mut self) {
        for (module, code) in &self.code {
            let mut map = BTreeMap::new();
            for (path, is_pub) in use_paths(module, code) {
                if is_pub {
                    let name = path.rsplit("::").next().unwrap().to_string();
                    map.insert(name, path);
                }
            }
            self.reexports.insert(module.clone(), map);
        }
        let mut edges = BTreeMap::new();
        for (module, code) in &self.code {
            let mut targets = BTreeSet::new();
            let paths = use_paths(module, code)
                .into_iter()
                .map(|(p, _)| p)
                .chain(inline_paths(module, code));
            for path in paths {
                if let Some(target) = self.target(&path, 0) {
                    if &target != module {
                        targets.insert(target);
                    }
                }
            }
            edges.insert(module.clone(), targets);
        }
        self.edges = edges;
    }

    /// The module that defines what `path` (absolute, without `crate::`) names.
    fn target(&self, path: &str, depth: usize) -> Option<String> {
        let segments: Vec<&str> = path.split("::").collect();
        for len in (0..=segments.len()).rev() {
            let module = segments[..len].join("::");
            if !self.code.contains_key(&module) {
                continue;
            }
            if let Some(next) = segments.get(len) {
                if let Some(full) = self.reexports[&module].get(*next) {
                    if depth < 16 && full != path {
                        let rest = segments[len + 1..].join("::");
                        let follow = if rest.is_empty() {
                            full.clone()
                        } else {
                            format!("{full}::{rest}")
                        };
                        return self.target(&follow, depth + 1);
                    }
                }
            }
            return Some(module);
        }
        None
    }

    /// Sets of modules that reach each other (Tarjan's algorithm), sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        struct Tarjan<'a> {
            edges: &'a BTreeMap<String, BTreeSet<String>>,
            index: BTreeMap<&'a str, usize>,
            low: BTreeMap<&'a str, usize>,
            stack: Vec<&'a str>,
            on_stack: BTreeSet<&'a str>,
            out: Vec<Vec<String>>,
        }
        impl<'a> Tarjan<'a> {
            fn visit(&mut self, v: &'a str) {
                let i = self.index.len();
                self.index.insert(v, i);
                self.low.insert(v, i);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.edges.get(v).into_iter().flatten() {
                    let w = w.as_str();
                    if !self.edges.contains_key(w) {
                        continue;
                    }
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut set = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        set.push(w.to_string());
                        if w == v {
                            break;
                        }
                    }
                    if set.len() > 1 {
                        set.sort();
                        self.out.push(set);
                    }
                }
            }
        }
        let mut t = Tarjan {
            edges: &self.edges,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            out: Vec::new(),
        };
        for v in self.edges.keys() {
            if !t.index.contains_key(v.as_str()) {
                t.visit(v);
            }
        }
        t.out.sort();
        t.out
    }
}

/// Removes comments, string and char literals, and `#[cfg(test)]` items.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'"'
            || (b[i] == b'r'
                && b.get(i + 1).is_some_and(|&c| c == b'#' || c == b'"')
                && !ident_byte(b, i.wrapping_sub(1)))
        {
            i = skip_string(b, i);
            out.push_str("\"\"");
        } else if b[i] == b'\'' {
            // A char literal ('a', '\n', '\''), else a lifetime.
            if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else if b.get(i + 1) == Some(&b'\\') {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    remove_test_items(&out)
}

fn ident_byte(b: &[u8], i: usize) -> bool {
    b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The index after the string literal (plain or raw) that starts at `i`.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    if b[i] == b'r' {
        i += 1;
        let mut hashes = 0;
        while b[i] == b'#' {
            hashes += 1;
            i += 1;
        }
        i += 1;
        while i < b.len() {
            if b[i] == b'"'
                && b[i + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&c| c == b'#')
                    .count()
                    == hashes
            {
                return i + 1 + hashes;
            }
            i += 1;
        }
        return i;
    }
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Drops each item that follows `#[cfg(test)]` (a `mod tests { … }`, a test-only fn).
fn remove_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let brace = after.find('{');
        let semi = after.find(';');
        match (brace, semi) {
            (Some(open), s) if s.is_none_or(|s| s > open) => {
                let mut depth = 0;
                let mut end = after.len();
                for (k, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            (_, Some(s)) => rest = &after[s + 1..],
            _ => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Makes `path` (as written in `module`) absolute, without `crate::`.
fn absolute(module: &str, path: &str) -> Option<String> {
    let mut base: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    let mut segments = path.split("::").peekable();
    match *segments.peek()? {
        "crate" => {
            segments.next();
            base.clear();
        }
        "self" => {
            segments.next();
        }
        "super" => {
            while segments.peek() == Some(&"super") {
                segments.next();
                base.pop()?;
            }
        }
        _ => return None,
    }
    base.extend(segments.filter(|s| *s != "self"));
    Some(base.join("::"))
}

/// Every path a `use` item names, expanded, with whether the item is `pub`.
fn use_paths(module: &str, code: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = find_word(rest, "use") {
        let before = rest[..at].trim_end();
        let is_pub = before.ends_with("pub") || before.ends_with(')') && before.contains("pub(");
        let after = &rest[at + 3..];
        let end = after.find(';').unwrap_or(after.len());
        for path in expand("", &without_renames(&after[..end])) {
            if let Some(abs) = absolute(module, &path) {
                out.push((abs, is_pub));
            }
        }
        rest = &after[end..];
    }
    out
}

/// A use tree without whitespace and without its `as name` renames.
fn without_renames(tree: &str) -> String {
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut out = String::new();
    let mut k = 0;
    while k < words.len() {
        if words[k] == "as" && k + 1 < words.len() {
            // Keep the punctuation that follows the new name (`x,` or `x}`).
            let name = words[k + 1];
            let cut = name.find([',', '}']).unwrap_or(name.len());
            out.push_str(&name[cut..]);
            k += 2;
        } else {
            out.push_str(words[k]);
            k += 1;
        }
    }
    out
}

/// `a::{b,c::{d,e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(prefix: &str, tree: &str) -> Vec<String> {
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else if s == "self" {
            p.to_string()
        } else {
            format!("{p}::{s}")
        }
    };
    match tree.find('{') {
        None => vec![join(prefix, tree.trim_end_matches("::"))],
        Some(open) => {
            let head = tree[..open].trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut parts = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (k, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(&inner[start..k]);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            parts.push(&inner[start..]);
            let prefix = join(prefix, head);
            parts
                .into_iter()
                .filter(|p| !p.is_empty() && *p != "*")
                .flat_map(|p| expand(&prefix, p))
                .collect()
        }
    }
}

/// Paths written inline in code (`crate::a::f()`, `super::b::C`).
fn inline_paths(module: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let starts = ["crate::", "super::"]
            .iter()
            .any(|p| b[i..].starts_with(p.as_bytes()))
            && !ident_byte(b, i.wrapping_sub(1))
            && !(i >= 2 && &b[i - 2..i] == b"::");
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && (ident_byte(b, j) || b[j..].starts_with(b"::")) {
            j += if b[j] == b':' { 2 } else { 1 };
        }
        let path = code[i..j].trim_end_matches("::");
        if let Some(abs) = absolute(module, path) {
            out.push(abs);
        }
        i = j;
    }
    out
}

fn find_word(s: &str, word: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(k) = s[from..].find(word) {
        let at = from + k;
        if !ident_byte(b, at.wrapping_sub(1)) && !ident_byte(b, at + word.len()) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Wasmtime's `backtrace` feature stays off: with it, every trap (and every
/// thread stopped at a program's end) captures a native Rust backtrace as
/// soon as the host's environment sets RUST_BACKTRACE, a cost the host never
/// asked for (issue 21: the end of 1,000 spinning threads took several times
/// longer). Wasm backtraces do not need it.
#[test]
fn wasmtime_errors_capture_no_native_backtrace() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("read Cargo.toml");
    let start = manifest
        .find("wasmtime = {")
        .expect("the wasmtime dependency");
    let features = &manifest[start..];
    let features = &features[..features.find(']').expect("its feature list")];
    assert!(
        !features.contains("\"backtrace\""),
        "the wasmtime dependency enables \"backtrace\""
    );
}
