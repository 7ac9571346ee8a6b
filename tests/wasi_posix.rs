//! POSIX conformance of the path functions, checked against what Linux
//! does: trailing slashes on every path call, write access to directories,
//! and `fd_readdir` cookies over hundreds of entries. Each case is a direct
//! call through a WAT reactor (as in `wasi_errno.rs`), and the same
//! behaviour is checked from a wasi-libc guest (`c-tests/guests/wasi/posix_paths.c`).

mod common;

use common::*;
use weft::runtime::{Instance, Val};

const ESUCCESS: i32 = 0;
const EEXIST: i32 = 20;
const EINVAL: i32 = 28;
const EISDIR: i32 = 31;
const ENOENT: i32 = 44;
const ENOTDIR: i32 = 54;
const EPERM: i32 = 63;

const FD_READ: i64 = 1 << 1;
const FD_WRITE: i64 = 1 << 6;
const FD_READDIR: i64 = 1 << 14;
const O_CREAT: i64 = 1;
const O_DIRECTORY: i64 = 2;

const SIGS: &[(&str, &str)] = &[
    ("fd_close", "i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("path_create_directory", "i32 i32 i32"),
    ("path_filestat_get", "i32 i32 i32 i32 i32"),
    ("path_filestat_set_times", "i32 i32 i32 i32 i64 i64 i32"),
    ("path_link", "i32 i32 i32 i32 i32 i32 i32"),
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("path_readlink", "i32 i32 i32 i32 i32 i32"),
    ("path_remove_directory", "i32 i32 i32"),
    ("path_rename", "i32 i32 i32 i32 i32 i32"),
    ("path_symlink", "i32 i32 i32 i32 i32"),
    ("path_unlink_file", "i32 i32 i32"),
];

fn module() -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for (name, params) in SIGS {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))\n"
        );
    }
    wat += "(memory (export \"memory\") 2)\n";
    for (name, params) in SIGS {
        let n = params.split_whitespace().count();
        let gets: String = (0..n).map(|i| format!("local.get {i} ")).collect();
        wat += &format!(
            "(func (export \"{name}\") (param {params}) (result i32) {gets} call ${name})\n"
        );
    }
    wat += "(func (export \"peek8\") (param i32) (result i32) local.get 0 i32.load8_u)\n";
    wat += "(func (export \"poke8\") (param i32 i32) local.get 0 local.get 1 i32.store8)\n";
    wat += ")\n";
    wat.into_bytes()
}

struct Guest {
    inst: Instance,
    /// Where the next string goes.
    next: std::cell::Cell<i32>,
}

impl Guest {
    fn new() -> (Guest, std::path::PathBuf) {
        let dir = scratch_dir("posix");
        std::fs::write(dir.join("file.txt"), "contents").unwrap();
        std::fs::create_dir(dir.join("dir")).unwrap();
        std::os::unix::fs::symlink("dir", dir.join("dlink")).unwrap();
        let mut cfg = captured(&["posix"]);
        cfg.preopen_dir(&dir, "/sandbox");
        let inst = instance(&module(), &cfg, None);
        inst.initialize().unwrap();
        let g = Guest {
            inst,
            next: std::cell::Cell::new(4096),
        };
        (g, dir)
    }

    fn call(&self, name: &str, args: &[i64]) -> i32 {
        let params = SIGS.iter().find(|s| s.0 == name).unwrap().1;
        let vals: Vec<Val> = params
            .split_whitespace()
            .zip(args)
            .map(|(t, &a)| {
                if t == "i64" {
                    Val::I64(a)
                } else {
                    Val::I32(a as i32)
                }
            })
            .collect();
        assert_eq!(vals.len(), args.len(), "{name}: wrong argument count");
        self.inst
            .call(name, &vals)
            .unwrap_or_else(|e| panic!("{name} trapped: {e}"))[0]
            .unwrap_i32()
    }

    fn peek8(&self, addr: i32) -> u8 {
        self.inst.call("peek8", &[Val::I32(addr)]).unwrap()[0].unwrap_i32() as u8
    }

    fn bytes(&self, addr: i32, len: i32) -> Vec<u8> {
        (0..len).map(|i| self.peek8(addr + i)).collect()
    }

    fn u32_at(&self, addr: i32) -> u32 {
        u32::from_le_bytes(self.bytes(addr, 4).try_into().unwrap())
    }

    /// Puts `s` in guest memory; returns (ptr, len).
    fn s(&self, s: &str) -> (i64, i64) {
        let at = self.next.get();
        for (i, b) in s.bytes().enumerate() {
            self.inst
                .call("poke8", &[Val::I32(at + i as i32), Val::I32(b as i32)])
                .unwrap();
        }
        self.next.set(at + s.len() as i32 + 1);
        (at as i64, s.len() as i64)
    }

    /// `path_open` under the preopen (fd 3), following symlinks; (errno, fd).
    fn open(&self, path: &str, oflags: i64, base: i64) -> (i32, i32) {
        let (p, l) = self.s(path);
        let e = self.call("path_open", &[3, 1, p, l, oflags, base, 0, 0, 1000]);
        (e, self.u32_at(1000) as i32)
    }

    /// A one-path call `name(3, path)` (`flags` first where the call has them).
    fn path1(&self, name: &str, path: &str) -> i32 {
        let (p, l) = self.s(path);
        match name {
            "path_filestat_get" => self.call(name, &[3, 0, p, l, 1200]),
            "path_filestat_set_times" => self.call(name, &[3, 0, p, l, 0, 0, 2 | 8]),
            "path_readlink" => self.call(name, &[3, p, l, 1200, 64, 1100]),
            _ => self.call(name, &[3, p, l]),
        }
    }

    fn path2(&self, name: &str, old: &str, new: &str) -> i32 {
        let (o, ol) = self.s(old);
        let (n, nl) = self.s(new);
        match name {
            "path_rename" => self.call(name, &[3, o, ol, 3, n, nl]),
            "path_link" => self.call(name, &[3, 0, o, ol, 3, n, nl]),
            "path_symlink" => self.call(name, &[o, ol, 3, n, nl]),
            _ => unreachable!(),
        }
    }
}

#[test]
fn opening_a_directory_for_writing_is_eisdir() {
    let (g, _dir) = Guest::new();
    // O_RDWR | O_DIRECTORY, and O_RDWR / O_WRONLY without it: EISDIR.
    assert_eq!(g.open("dir", O_DIRECTORY, FD_READ | FD_WRITE).0, EISDIR);
    assert_eq!(g.open("dir", 0, FD_READ | FD_WRITE).0, EISDIR);
    assert_eq!(g.open("dir", 0, FD_WRITE).0, EISDIR);
    assert_eq!(g.open("dlink", O_DIRECTORY, FD_WRITE).0, EISDIR);
    // Reading a directory (opendir) is fine, with or without O_DIRECTORY.
    let (e, fd) = g.open("dir", O_DIRECTORY, FD_READ | FD_READDIR);
    assert_eq!(e, ESUCCESS);
    assert_eq!(g.call("fd_close", &[fd as i64]), ESUCCESS);
    let (e, fd) = g.open("dir", 0, FD_READ);
    assert_eq!(e, ESUCCESS);
    assert_eq!(g.call("fd_close", &[fd as i64]), ESUCCESS);
    // A file with O_DIRECTORY is ENOTDIR whatever the rights.
    assert_eq!(
        g.open("file.txt", O_DIRECTORY, FD_READ | FD_WRITE).0,
        ENOTDIR
    );
}

#[test]
fn trailing_slashes_follow_posix() {
    let (g, dir) = Guest::new();
    // Directories: mkdir, rmdir, stat, open, utimes with "name/".
    assert_eq!(g.path1("path_create_directory", "new/"), ESUCCESS);
    assert!(dir.join("new").is_dir());
    assert_eq!(g.path1("path_remove_directory", "new/"), ESUCCESS);
    assert!(!dir.join("new").exists());
    assert_eq!(g.path1("path_create_directory", "new2//"), ESUCCESS);
    assert_eq!(g.path1("path_remove_directory", "new2//"), ESUCCESS);
    assert_eq!(g.path1("path_filestat_get", "dir/"), ESUCCESS);
    assert_eq!(g.path1("path_filestat_get", "dlink/"), ESUCCESS);
    assert_eq!(
        g.peek8(1200 + 16),
        3,
        "dlink/ is the directory, not the link"
    );
    assert_eq!(g.path1("path_filestat_set_times", "dir/"), ESUCCESS);
    let (e, fd) = g.open("dir/", 0, FD_READ | FD_READDIR);
    assert_eq!(e, ESUCCESS);
    assert_eq!(g.call("fd_close", &[fd as i64]), ESUCCESS);
    // A file named "file/": ENOTDIR everywhere.
    for name in [
        "path_remove_directory",
        "path_unlink_file",
        "path_filestat_get",
        "path_filestat_set_times",
        "path_readlink",
    ] {
        assert_eq!(g.path1(name, "file.txt/"), ENOTDIR, "{name}(\"file.txt/\")");
    }
    assert_eq!(g.open("file.txt/", 0, FD_READ).0, ENOTDIR);
    assert_eq!(g.path2("path_rename", "file.txt/", "x"), ENOTDIR);
    assert_eq!(g.path2("path_rename", "file.txt", "x/"), ENOTDIR);
    // unlink("dir/") is EISDIR; readlink("dlink/") resolves the link.
    assert_eq!(g.path1("path_unlink_file", "dir/"), EISDIR);
    assert_eq!(g.path1("path_readlink", "dlink/"), EINVAL);
    // Creating a non-directory "new/".
    assert_eq!(g.open("nf/", O_CREAT, FD_READ | FD_WRITE).0, EISDIR);
    assert!(!dir.join("nf").exists());
    assert_eq!(g.path2("path_symlink", "x", "sl/"), ENOENT);
    assert_eq!(g.path2("path_symlink", "x", "dir/"), EEXIST);
    assert_eq!(g.path2("path_link", "file.txt", "hl/"), ENOENT);
    assert_eq!(g.path2("path_link", "dir/", "hl"), EPERM);
    // Renaming a directory with slashes on both sides works.
    assert_eq!(g.path2("path_rename", "dir/", "moved/"), ESUCCESS);
    assert!(dir.join("moved").is_dir());
    // Missing names keep ENOENT.
    assert_eq!(g.path1("path_remove_directory", "nothing/"), ENOENT);
    assert_eq!(g.path1("path_filestat_get", "nothing/"), ENOENT);
}

/// Parses `used` bytes of `fd_readdir` output at `buf`: (d_next, name) of
/// every whole entry.
fn entries(g: &Guest, buf: i32, used: i32) -> Vec<(u64, String)> {
    let raw = g.bytes(buf, used);
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 24 <= raw.len() {
        let next = u64::from_le_bytes(raw[at..at + 8].try_into().unwrap());
        let namlen = u32::from_le_bytes(raw[at + 16..at + 20].try_into().unwrap()) as usize;
        if at + 24 + namlen > raw.len() {
            break;
        }
        let name = String::from_utf8(raw[at + 24..at + 24 + namlen].to_vec()).unwrap();
        out.push((next, name));
        at += 24 + namlen;
    }
    out
}

#[test]
fn readdir_cookies_resume_anywhere_in_hundreds_of_entries() {
    let (g, dir) = Guest::new();
    let many = dir.join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..300 {
        std::fs::write(many.join(format!("entry-{i:03}")), "").unwrap();
    }
    let (e, fd) = g.open("many", O_DIRECTORY, FD_READ | FD_READDIR);
    assert_eq!(e, ESUCCESS);
    let fd = fd as i64;
    // The whole listing, page by page with a small buffer (each call ends
    // in a truncated entry, which the next call starts with).
    let buf: i32 = 16384;
    let mut all: Vec<(u64, String)> = Vec::new();
    let mut cookie = 0u64;
    loop {
        assert_eq!(
            g.call("fd_readdir", &[fd, buf as i64, 200, cookie as i64, 1100]),
            0
        );
        let used = g.u32_at(1100) as i32;
        let page = entries(&g, buf, used);
        if let Some(last) = page.last() {
            cookie = last.0;
        }
        let done = used < 200;
        all.extend(page);
        if done {
            break;
        }
    }
    let mut names: Vec<_> = all.iter().map(|e| e.1.clone()).collect();
    assert_eq!(names.len(), 302, "300 entries plus . and ..");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 302, "no entry twice");
    // Cookies are 1, 2, 3, ...; resuming from each gives the next entry.
    for (i, (next, _)) in all.iter().enumerate() {
        assert_eq!(*next, i as u64 + 1);
    }
    for c in (1..all.len()).rev() {
        assert_eq!(
            g.call("fd_readdir", &[fd, buf as i64, 64, c as i64, 1100]),
            0
        );
        let page = entries(&g, buf, g.u32_at(1100) as i32);
        assert_eq!(page[0].1, all[c].1, "resuming at cookie {c}");
    }
    // Past the end: nothing.
    assert_eq!(g.call("fd_readdir", &[fd, buf as i64, 64, 302, 1100]), 0);
    assert_eq!(g.u32_at(1100), 0);
    assert_eq!(
        g.call("fd_readdir", &[fd, buf as i64, 64, 1 << 40, 1100]),
        0
    );
    assert_eq!(g.u32_at(1100), 0);
}

#[test]
fn c_guest_sees_posix_paths() {
    let wasm = guest::libc("c-tests/guests/wasi/posix_paths.c");
    let dir = scratch_dir("posix-c");
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::write(dir.join("f"), "x").unwrap();
    for i in 0..300 {
        std::fs::write(dir.join("d").join(format!("e{i}")), "").unwrap();
    }
    let mut cfg = captured(&["posix_paths.wasm"]);
    cfg.preopen_dir(&dir, "/sandbox");
    let r = run_file(&wasm, &cfg);
    assert_ok(&r);
    assert_eq!(r.stdout, "posix ok\n");
}
