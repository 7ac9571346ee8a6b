//! `include/weft.h` must be exactly what cbindgen generates from src/ffi, and
//! its version macros must match Cargo.toml. `WEFT_BLESS=1` rewrites it.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    // Only src/ffi: cbindgen follows its `mod` declarations from mod.rs.
    let builder = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"));
    builder
        .generate()
        .expect("cbindgen fails on src/ffi")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = root.join("include/weft.h");
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/weft.h is stale: run `WEFT_BLESS=1 cargo test --test header` and commit it"
    );
}

#[test]
fn version_macros_match_cargo() {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/weft.h"))
            .unwrap();
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    for (name, value) in [
        ("WEFT_VERSION_MAJOR", major.to_string()),
        ("WEFT_VERSION_MINOR", minor.to_string()),
        ("WEFT_VERSION_PATCH", patch.to_string()),
        (
            "WEFT_VERSION_STRING",
            format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        ),
    ] {
        let line = format!("#define {name} {value}\n");
        assert!(
            header.contains(&line),
            "header lacks `{}` (update cbindgen.toml)",
            line.trim()
        );
    }
    // The combined macro is an expression of the parts; check its value too.
    let combined = major * 10000 + minor * 100 + patch;
    assert!(header.contains(
        "#define WEFT_VERSION (WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH)"
    ));
    assert_eq!(combined, 100, "update this test with the version");
    let runtime = unsafe { std::ffi::CStr::from_ptr(weft::ffi::version::weft_version()) };
    assert_eq!(runtime.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
