//! WASI preview 1 behaviour seen from C: guests built with clang-19 and
//! Debian's wasi-libc (`c-tests/guests/wasi/*.c`), run on weft.

mod common;

use common::*;
use weft::wasi::Stdio;

#[test]
fn c_files() {
    let wasm = guest::libc("c-tests/guests/wasi/files.c");
    let dir = scratch_dir("files");
    let mut cfg = captured(&["files.wasm"]);
    cfg.preopen_dir(&dir, "/sandbox");
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "files ok\n");
    // What the guest left behind is visible on the host.
    assert_eq!(std::fs::read(dir.join("b.txt")).unwrap(), b"hello!!");
    assert_eq!(std::fs::metadata(dir.join("v.bin")).unwrap().len(), 170003);
}

#[test]
fn c_dirs() {
    let wasm = guest::libc("c-tests/guests/wasi/dirs.c");
    let dir = scratch_dir("dirs");
    let mut cfg = captured(&["dirs.wasm"]);
    cfg.preopen_dir(&dir, "/sandbox");
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "dirs ok\n");
    assert!(!dir.join("d").exists());
}

#[test]
fn c_env_args_clocks_random_poll_stdin() {
    let wasm = guest::libc("c-tests/guests/wasi/env.c");
    let mut cfg = captured(&["env.wasm", "one", "two words"]);
    cfg.env("WEFT_A", "1")
        .env("WEFT_B", "x=y")
        .stdin(Stdio::Bytes(b"line one\nline two\n".to_vec()));
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "env ok\n");
    assert_eq!(r.stderr, "to stderr\n");
}

#[test]
fn c_sandbox_escapes_and_read_only_preopens_are_refused() {
    let wasm = guest::libc("c-tests/guests/wasi/escape.c");
    let dir = scratch_dir("escape");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("inside.txt"), "in").unwrap();
    std::os::unix::fs::symlink("../..", dir.join("out")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("abs")).unwrap();
    std::os::unix::fs::symlink("loop2", dir.join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", dir.join("loop2")).unwrap();
    let ro = scratch_dir("escape-ro");
    std::fs::write(ro.join("ro.txt"), "ro").unwrap();
    let mut cfg = captured(&["escape.wasm"]);
    cfg.preopen_dir(&dir, "/sandbox")
        .preopen_dir_read_only(&ro, "/ro");
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "escape ok\n");
    // Nothing changed in the read-only directory.
    let names: Vec<_> = std::fs::read_dir(&ro)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["ro.txt"]);
    assert!(!dir.join("x.txt").exists());
}

#[test]
fn c_stdio_to_host_files() {
    let wasm = guest::libc("c-tests/guests/wasi/env.c");
    let dir = scratch_dir("stdio-files");
    std::fs::write(dir.join("in.txt"), "line one\nline two\n").unwrap();
    let mut cfg = captured(&["env.wasm", "one", "two words"]);
    cfg.env("WEFT_A", "1")
        .env("WEFT_B", "x=y")
        .stdin(Stdio::File(dir.join("in.txt")))
        .stdout(Stdio::File(dir.join("out.txt")))
        .stderr(Stdio::Null);
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "");
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "env ok\n"
    );
}
