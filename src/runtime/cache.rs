//! The on-disk cache of compiled modules (`Config::cache_dir`).
//!
//! One file per (module bytes, engine configuration, weft version). A file
//! holds a header, a copy of the original module bytes and Wasmtime's
//! serialized artifact. Loading compares the stored bytes with the input
//! exactly and checks a checksum of the artifact before handing it to
//! Wasmtime, so a hash collision or a truncated or corrupted file is a cache
//! miss (the module is compiled again and the file rewritten), never a wrong
//! or broken module. The directory must not be writable by anyone who should
//! not run native code in this process: Wasmtime trusts what it deserializes.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Module;

use crate::runtime::engine::Engine;

const MAGIC: &[u8; 8] = b"WEFTCCH1";
const HEADER: usize = 8 + 8 + 8;

fn hash64(salt: u64, parts: &[&dyn Fn(&mut DefaultHasher)]) -> u64 {
    let mut h = DefaultHasher::new();
    salt.hash(&mut h);
    for part in parts {
        part(&mut h);
    }
    h.finish()
}

fn checksum(data: &[u8]) -> u64 {
    hash64(0x5eed, &[&|h| h.write(data)])
}

/// The cache file for `bytes` compiled by `engine`.
fn file_for(engine: &Engine, dir: &Path, bytes: &[u8]) -> PathBuf {
    let key = |salt| {
        hash64(
            salt,
            &[
                &|h| engine.wasmtime().precompile_compatibility_hash().hash(h),
                &|h| env!("CARGO_PKG_VERSION").hash(h),
                &|h| bytes.hash(h),
            ],
        )
    };
    dir.join(format!("{:016x}{:016x}.weftc", key(1), key(2)))
}

/// The cached module for `bytes`, if a valid one is stored.
pub(crate) fn load(engine: &Engine, dir: &Path, bytes: &[u8]) -> Option<Module> {
    let path = file_for(engine, dir, bytes);
    let data = std::fs::read(&path).ok()?;
    let artifact = match parse(&data, bytes) {
        Some(a) => a,
        None => {
            log::warn!("ignoring invalid cache file {}", path.display());
            return None;
        }
    };
    // SAFETY: the artifact was written by `store` from a module this engine
    // configuration compiled (the file name covers the compatibility hash),
    // and its checksum matches, so it is the bytes Wasmtime serialized.
    // Wasmtime re-checks version and configuration compatibility itself.
    match unsafe { Module::deserialize(engine.wasmtime(), artifact) } {
        Ok(module) => Some(module),
        Err(e) => {
            log::warn!("ignoring cache file {}: {e:#}", path.display());
            None
        }
    }
}

/// The artifact in cache file `data`, if it is well formed and was made from `bytes`.
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
pub(crate) fn store(engine: &Engine, dir: &Path, bytes: &[u8], module: &Module) {
    let path = file_for(engine, dir, bytes);
    let result = (|| -> Result<(), String> {
        let artifact = module.serialize().map_err(|e| format!("{e:#}"))?;
        let io = |e: std::io::Error| e.to_string();
        std::fs::create_dir_all(dir).map_err(io)?;
        // Write a private temporary file, then rename: readers see either no
        // file or a whole one.
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("module"),
            std::process::id()
        ));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(MAGIC).map_err(io)?;
        f.write_all(&(bytes.len() as u64).to_le_bytes())
            .map_err(io)?;
        f.write_all(&checksum(&artifact).to_le_bytes())
            .map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.write_all(&artifact).map_err(io)?;
        drop(f);
        if let Err(e) = std::fs::rename(&tmp, &path) {
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
}
