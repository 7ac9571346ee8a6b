//! The on-disk cache of compiled modules (`Config::cache_dir`).
//!
//! One file per (module bytes, engine configuration, weft version, weft's
//! load-time rewrite). A file holds a header, a copy of the original module
//! bytes, the rewrite's frame map (so that a hit needs no rewrite at all) and
//! Wasmtime's serialized artifact. Loading compares the stored
//! bytes with the input exactly and checks a checksum of the artifact before
//! handing it to Wasmtime, which itself refuses an artifact of another
//! Wasmtime version or configuration. So a hash collision, a truncated or
//! corrupted file, or a file of another configuration is a cache miss (the
//! module is compiled again and the file rewritten), never a wrong or broken
//! module.
//!
//! Writers write a private temporary file and rename it into place, so
//! concurrent processes sharing a directory see either no file or a whole
//! one; two writers of the same entry write the same bytes.
//!
//! The directory must not be writable by anyone who should not run native
//! code in this process: Wasmtime trusts what it deserializes. weft creates
//! it `0700` and ignores (with a warning) a directory that is group- or
//! world-writable or owned by another user.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Module;

use crate::runtime::engine::Engine;
use crate::runtime::program::frame_map::FrameMap;

const MAGIC: &[u8; 8] = b"WEFTCCH3";
const HEADER: usize = 8 + 8 + 8;

/// Version of what weft compiles besides the module bytes: bump it whenever
/// the load-time rewrite (`wait_rewrite`) or the race instrumentation
/// (`race_instrument`) changes its output, so that no artifact of an older
/// rewrite is loaded. `rewrite_output_is_pinned` below
/// fails when the output changes and this was not bumped.
const REWRITE_VERSION: u64 = 3;

/// A fast non-cryptographic hash of `data` (four independent lanes over
/// 8-byte words). Collisions only cost a miss: the file holds the module
/// bytes and they are compared exactly.
fn hash(seed: u64, data: &[u8]) -> u64 {
    const K: [u64; 4] = [
        0x9e37_79b9_7f4a_7c15,
        0xc2b2_ae3d_27d4_eb4f,
        0x1656_67b1_9e37_79f9,
        0x85eb_ca77_c2b2_ae63,
    ];
    let mix = |h: u64, w: u64, k: u64| (h ^ w).wrapping_mul(k).rotate_left(29);
    let mut lanes = [seed ^ K[0], seed ^ K[1], seed ^ K[2], seed ^ K[3]];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(block[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = mix(*lane, w, K[i]);
        }
    }
    let mut h = (data.len() as u64).wrapping_mul(K[2]);
    for (i, lane) in lanes.iter().enumerate() {
        h = mix(h, *lane, K[i]);
    }
    let mut words = blocks.remainder().chunks(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        h = mix(h, u64::from_le_bytes(w), K[1]);
    }
    // Final avalanche (splitmix64's).
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn checksum(data: &[u8]) -> u64 {
    hash(0x5eed, data)
}

/// The cache file for `bytes` compiled by `engine`.
fn file_for(engine: &Engine, dir: &Path, bytes: &[u8]) -> PathBuf {
    let mut h = std::hash::DefaultHasher::new();
    engine
        .wasmtime()
        .precompile_compatibility_hash()
        .hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    engine.interruption().hash(&mut h);
    // The user's switches are checked on the original module, not all by
    // Wasmtime (multi-memory stays on in the engine): a module accepted by
    // one set must not be loaded by an engine with another.
    engine.config().wasm_features.hash(&mut h);
    // Instrumented for the race detector, or not.
    engine.config().detect_races.hash(&mut h);
    let config = hash(REWRITE_VERSION, &h.finish().to_le_bytes());
    let module = hash(config, bytes);
    dir.join(format!("{config:016x}{module:016x}.weftc"))
}

/// Whether `dir` may hold code this process runs: owned by us (or root) and
/// writable by nobody else. A missing directory is `Ok(false)`.
fn trusted(dir: &Path) -> Result<bool, String> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.to_string()),
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if !meta.is_dir() {
        return Err("not a directory".into());
    }
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!("owned by user {}, not by this user", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by group or others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    Ok(true)
}

/// Encodes a frame map (`None`: the module was not rewritten).
fn encode_map(map: Option<&FrameMap>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |v: u32| out.extend_from_slice(&v.to_le_bytes());
    match map {
        None => put(u32::MAX),
        Some(m) => {
            put(m.points.len() as u32);
            put(m.func_imports);
            put(m.added_funcs);
            for &(a, b) in &m.points {
                put(a);
                put(b);
            }
        }
    }
    out
}

/// Decodes [`encode_map`]'s output at the start of `data`; returns the map
/// and the rest of `data`.
fn decode_map(data: &[u8]) -> Option<(Option<FrameMap>, &[u8])> {
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(data.get(i..i + 4)?.try_into().ok()?))
    };
    let n = word(0)?;
    if n == u32::MAX {
        return Some((None, &data[4..]));
    }
    let end = 12usize.checked_add((n as usize).checked_mul(8)?)?;
    if end > data.len() {
        return None;
    }
    let points = (0..n as usize)
        .map(|i| Some((word(12 + i * 8)?, word(16 + i * 8)?)))
        .collect::<Option<Vec<_>>>()?;
    let map = FrameMap {
        func_imports: word(4)?,
        added_funcs: word(8)?,
        points,
    };
    Some((Some(map), &data[end..]))
}

/// The cached module for `bytes` and its frame map, if a valid one is stored.
pub(crate) fn load(
    engine: &Engine,
    dir: &Path,
    bytes: &[u8],
) -> Option<(Module, Option<FrameMap>)> {
    match trusted(dir) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            log::warn!("not using cache directory {}: {e}", dir.display());
            return None;
        }
    }
    let path = file_for(engine, dir, bytes);
    let data = std::fs::read(&path).ok()?;
    let (map, artifact) = match parse(&data, bytes).and_then(decode_map) {
        Some(found) => found,
        None => {
            log::warn!("ignoring invalid cache file {}", path.display());
            return None;
        }
    };
    // SAFETY: the artifact was written by `store` into a directory only this
    // user can write, from a module this engine configuration compiled (the
    // file name covers the compatibility hash), and its checksum matches, so
    // it is the bytes Wasmtime serialized. Wasmtime re-checks version and
    // configuration compatibility itself.
    match unsafe { Module::deserialize(engine.wasmtime(), artifact) } {
        Ok(module) => Some((module, map)),
        Err(e) => {
            log::warn!("ignoring cache file {}: {e:#}", path.display());
            None
        }
    }
}

/// The frame map and artifact in cache file `data`, if it is well formed and
/// was made from `bytes`.
fn parse<'a>(data: &'a [u8], bytes: &[u8]) -> Option<&'a [u8]> {
    let word = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().expect("8 bytes"));
    if data.len() < HEADER || &data[..8] != MAGIC {
        return None;
    }
    let (len, sum) = (usize::try_from(word(8)).ok()?, word(16));
    let rest = &data[HEADER..];
    if len != bytes.len() || rest.len() < len || &rest[..len] != bytes {
        return None;
    }
    let artifact = &rest[len..];
    (checksum(artifact) == sum).then_some(artifact)
}

/// Stores `module` (compiled from `bytes`) in the cache. Failures are logged
/// and otherwise ignored: the cache is an optimisation.
pub(crate) fn store(
    engine: &Engine,
    dir: &Path,
    bytes: &[u8],
    module: &Module,
    map: Option<&FrameMap>,
) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = file_for(engine, dir, bytes);
    let result = (|| -> Result<(), String> {
        let io = |e: std::io::Error| e.to_string();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        if !trusted(dir)? {
            return Err("the directory disappeared".into());
        }
        let mut payload = encode_map(map);
        payload.extend(module.serialize().map_err(|e| format!("{e:#}"))?);
        // A temporary name no other process or thread uses, created
        // exclusively; then rename: readers see either no file or a whole one.
        let tmp = dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("module"),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        header.extend_from_slice(&checksum(&payload).to_le_bytes());
        let written = f
            .write_all(&header)
            .and_then(|()| f.write_all(bytes))
            .and_then(|()| f.write_all(&payload));
        drop(f);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.to_string());
        }
        Ok(())
    })();
    if let Err(e) = result {
        log::warn!("cannot write cache file {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Config, Program};

    #[test]
    fn parse_rejects_anything_but_an_exact_match() {
        let bytes = b"\0asm module";
        let artifact = b"compiled code";
        let mut file = MAGIC.to_vec();
        file.extend((bytes.len() as u64).to_le_bytes());
        file.extend(checksum(artifact).to_le_bytes());
        file.extend(bytes);
        file.extend(artifact);
        assert_eq!(parse(&file, bytes), Some(&artifact[..]));
        assert_eq!(parse(&file, b"\0asm moduleX"), None);
        assert_eq!(parse(&file, b"\0asm modulX"), None);
        for cut in 0..file.len() {
            assert_eq!(parse(&file[..cut], bytes), None, "truncated at {cut}");
        }
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x40;
            assert_ne!(parse(&bad, bytes), Some(&artifact[..]), "flipped byte {i}");
        }
    }

    #[test]
    fn frame_maps_round_trip_and_bad_ones_are_refused() {
        let map = FrameMap {
            func_imports: 3,
            added_funcs: 3,
            points: vec![(10, 4), (20, 11), (400, 380)],
        };
        for m in [None, Some(&map), Some(&FrameMap::default())] {
            let mut data = encode_map(m);
            data.extend_from_slice(b"artifact");
            let (back, rest) = decode_map(&data).unwrap();
            assert_eq!((back.as_ref(), rest), (m, &b"artifact"[..]));
        }
        let data = encode_map(Some(&map));
        for cut in 0..data.len() {
            assert!(decode_map(&data[..cut]).is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn hash_sees_every_byte_and_the_length() {
        let data: Vec<u8> = (0..100u8).collect();
        let h = hash(1, &data);
        for i in 0..data.len() {
            let mut d = data.clone();
            d[i] ^= 1;
            assert_ne!(hash(1, &d), h, "byte {i}");
        }
        for n in 0..data.len() {
            assert_ne!(hash(1, &data[..n]), h, "prefix {n}");
        }
        assert_ne!(hash(2, &data), h);
        assert_ne!(hash(0, &[]), hash(0, &[0]));
    }

    /// The rewrite's output for a fixed module. If this fails, the rewrite
    /// changed: bump [`REWRITE_VERSION`] (so no cached artifact of the old
    /// rewrite is loaded) and update the expected hash.
    #[test]
    fn rewrite_output_is_pinned() {
        let wat = r#"(module
          (import "env" "f" (func $f))
          (import "env" "memory" (memory 1 1 shared))
          (func $g (export "g") (result i32)
            (call $f)
            (i32.store offset=16 (i32.const 0) (i32.load8_u (i32.const 3)))
            (memory.atomic.notify offset=4 (i32.const 0) (i32.const 1)))
          (func (export "h") (result i32)
            (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 0)))
            (drop (memory.atomic.wait64 (i32.const 8) (i64.const 0) (i64.const -1)))
            (call $g)))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let out = crate::runtime::program::wait_rewrite::rewrite(&bytes, true)
            .unwrap()
            .unwrap();
        let (instrumented, ..) =
            crate::runtime::program::race_instrument::instrument(&out.0, Some(&out.1))
                .unwrap()
                .unwrap();
        assert_eq!(
            (
                REWRITE_VERSION,
                format!("{:016x}", hash(0, &out.0)),
                format!("{:016x}", hash(0, &instrumented)),
            ),
            (
                3,
                "f8c1b18d26df19d0".to_string(),
                "5703f2a9bf018914".to_string()
            ),
            "the rewrite's output changed: bump REWRITE_VERSION and update this test"
        );
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weft-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// A valid file of one engine configuration, put where another
    /// configuration looks, is a miss that is rewritten.
    #[test]
    fn another_configurations_file_is_a_miss_and_rewritten() {
        let wat = r#"(module (func (export "_start")))"#;
        let dir = temp_dir("foreign");
        let config = Config {
            cache_dir: Some(dir.clone()),
            ..Config::default()
        };
        let a = Engine::new(&config).unwrap();
        let b = Engine::with_wasmtime_config(&config, |c| {
            c.consume_fuel(true);
        })
        .unwrap();
        let (pa, pb) = (
            file_for(&a, &dir, wat.as_bytes()),
            file_for(&b, &dir, wat.as_bytes()),
        );
        assert_ne!(pa, pb);
        Program::from_bytes(&a, wat.as_bytes()).unwrap();
        Program::from_bytes(&b, wat.as_bytes()).unwrap();
        let good_b = std::fs::read(&pb).unwrap();
        std::fs::copy(&pa, &pb).unwrap();
        assert!(load(&b, &dir, wat.as_bytes()).is_none());
        Program::from_bytes(&b, wat.as_bytes()).unwrap();
        assert_eq!(std::fs::read(&pb).unwrap(), good_b);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The WebAssembly switches are part of the key, even those the engine
    /// does not see (multi-memory stays on in Wasmtime): a module accepted
    /// under one set is checked again under another.
    #[test]
    fn the_feature_set_is_part_of_the_key() {
        let wat = r#"(module (memory 1) (memory 1) (func (export "_start")))"#;
        let dir = temp_dir("features");
        let config = Config {
            cache_dir: Some(dir.clone()),
            ..Config::default()
        };
        let mut narrow = config.clone();
        narrow.set_wasm_feature("multi-memory", false).unwrap();
        let (a, b) = (Engine::new(&config).unwrap(), Engine::new(&narrow).unwrap());
        assert_ne!(
            file_for(&a, &dir, wat.as_bytes()),
            file_for(&b, &dir, wat.as_bytes())
        );
        Program::from_bytes(&a, wat.as_bytes()).unwrap();
        let e = Program::from_bytes(&b, wat.as_bytes()).err().unwrap();
        assert!(e.message().contains("multi-memory=y"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_untrusted_directory_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let wat = r#"(module (func (export "_start")))"#;
        let dir = temp_dir("untrusted");
        let e = Engine::new(&Config {
            cache_dir: Some(dir.clone()),
            ..Config::default()
        })
        .unwrap();
        Program::from_bytes(&e, wat.as_bytes()).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        assert!(load(&e, &dir, wat.as_bytes()).is_some());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(load(&e, &dir, wat.as_bytes()).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
