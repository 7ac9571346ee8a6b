//! errno behaviour of every preview 1 function: bad descriptors, pointers
//! outside memory, missing rights, bad arguments. Each function is exported
//! unchanged by a WAT reactor and called directly from the test.

mod common;

use std::net::TcpListener;
use std::sync::Arc;

use common::*;
use weft::runtime::{Instance, Val};
use weft::wasi::{WasiConfig, FUNCTIONS};

const ESUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const EISDIR: i32 = 31;
const ENOENT: i32 = 44;
const ENOSYS: i32 = 52;
const ENOTDIR: i32 = 54;
const ENOTSOCK: i32 = 57;
const ENOTCAPABLE: i32 = 76;
const ESPIPE: i32 = 70;

/// (name, parameter types) of every function; all but `proc_exit` return i32.
const SIGS: &[(&str, &str)] = &[
    ("args_get", "i32 i32"),
    ("args_sizes_get", "i32 i32"),
    ("environ_get", "i32 i32"),
    ("environ_sizes_get", "i32 i32"),
    ("clock_res_get", "i32 i32"),
    ("clock_time_get", "i32 i64 i32"),
    ("fd_advise", "i32 i64 i64 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_close", "i32"),
    ("fd_datasync", "i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_fdstat_set_rights", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_filestat_set_size", "i32 i64"),
    ("fd_filestat_set_times", "i32 i64 i64 i32"),
    ("fd_pread", "i32 i32 i32 i64 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_pwrite", "i32 i32 i32 i64 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_seek", "i32 i64 i32 i32"),
    ("fd_sync", "i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
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
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("proc_exit", "i32"),
    ("proc_raise", "i32"),
    ("random_get", "i32 i32"),
    ("sched_yield", ""),
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
];

/// A reactor exporting every WASI function under its own name, plus
/// `peek`/`poke` for the test to look at memory. Data: 2048 "x", 2056
/// "file.txt", 2072 "dir", 2080 "link".
fn module() -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for (name, params) in SIGS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) {result}))\n"
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    wat += "(data (i32.const 2048) \"x\") (data (i32.const 2056) \"file.txt\")\n";
    wat += "(data (i32.const 2072) \"dir\") (data (i32.const 2080) \"link\")\n";
    for (name, params) in SIGS {
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let n = params.split_whitespace().count();
        let gets: String = (0..n).map(|i| format!("local.get {i} ")).collect();
        wat +=
            &format!("(func (export \"{name}\") (param {params}) {result} {gets} call ${name})\n");
    }
    wat += "(func (export \"peek\") (param i32) (result i32) local.get 0 i32.load)\n";
    wat += "(func (export \"peek64\") (param i32) (result i64) local.get 0 i64.load)\n";
    wat += "(func (export \"poke\") (param i32 i32) local.get 0 local.get 1 i32.store)\n";
    wat += ")\n";
    wat.into_bytes()
}

struct Guest {
    inst: Instance,
}

impl Guest {
    fn new(cfg: &WasiConfig) -> Guest {
        let inst = instance(&module(), cfg, None);
        inst.initialize().unwrap();
        Guest { inst }
    }

    fn with_dir() -> (Guest, std::path::PathBuf) {
        let dir = scratch_dir("errno");
        std::fs::write(dir.join("file.txt"), "contents").unwrap();
        std::fs::create_dir(dir.join("dir")).unwrap();
        let mut cfg = captured(&["errno"]);
        cfg.preopen_dir(&dir, "/sandbox");
        (Guest::new(&cfg), dir)
    }

    /// Calls `name`; `args` are given as i64 and narrowed per signature.
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
        let r = self
            .inst
            .call(name, &vals)
            .unwrap_or_else(|e| panic!("{name} trapped: {e}"));
        r[0].unwrap_i32()
    }

    fn peek(&self, addr: i32) -> i32 {
        self.inst.call("peek", &[Val::I32(addr)]).unwrap()[0].unwrap_i32()
    }

    fn peek64(&self, addr: i32) -> i64 {
        self.inst.call("peek64", &[Val::I32(addr)]).unwrap()[0].unwrap_i64()
    }

    fn poke(&self, addr: i32, v: i32) {
        self.inst
            .call("poke", &[Val::I32(addr), Val::I32(v)])
            .unwrap();
    }

    /// path_open relative to the preopen (fd 3); returns (errno, fd).
    fn open(&self, path: i32, len: i64, oflags: i64, base: i64, fdflags: i64) -> (i32, i32) {
        let e = self.call(
            "path_open",
            &[3, 1, path as i64, len, oflags, base, 0, fdflags, 4000],
        );
        (e, self.peek(4000))
    }
}

#[test]
fn the_host_defines_all_46_functions() {
    assert_eq!(FUNCTIONS.len(), 46);
    let names: Vec<_> = SIGS.iter().map(|s| s.0).collect();
    let mut a = names.clone();
    a.sort();
    let mut b = FUNCTIONS.to_vec();
    b.sort();
    assert_eq!(a, b);
    // Linking the module proves every import exists with this signature.
    let _ = Guest::new(&captured(&["sigs"]));
}

#[test]
fn every_fd_function_rejects_a_bad_fd_with_ebadf() {
    let (g, _dir) = Guest::with_dir();
    let bad = 77i64;
    let cases: &[(&str, &[i64])] = &[
        ("fd_advise", &[bad, 0, 0, 0]),
        ("fd_allocate", &[bad, 0, 1]),
        ("fd_close", &[bad]),
        ("fd_datasync", &[bad]),
        ("fd_fdstat_get", &[bad, 1024]),
        ("fd_fdstat_set_flags", &[bad, 0]),
        ("fd_fdstat_set_rights", &[bad, 0, 0]),
        ("fd_filestat_get", &[bad, 1024]),
        ("fd_filestat_set_size", &[bad, 0]),
        ("fd_filestat_set_times", &[bad, 0, 0, 0]),
        ("fd_pread", &[bad, 1024, 0, 0, 1100]),
        ("fd_prestat_get", &[bad, 1024]),
        ("fd_prestat_dir_name", &[bad, 1024, 10]),
        ("fd_pwrite", &[bad, 1024, 0, 0, 1100]),
        ("fd_read", &[bad, 1024, 0, 1100]),
        ("fd_readdir", &[bad, 1024, 64, 0, 1100]),
        ("fd_renumber", &[bad, 1]),
        ("fd_renumber", &[1, bad]),
        ("fd_seek", &[bad, 0, 0, 1100]),
        ("fd_sync", &[bad]),
        ("fd_tell", &[bad, 1100]),
        ("fd_write", &[bad, 1024, 0, 1100]),
        ("path_create_directory", &[bad, 2048, 1]),
        ("path_filestat_get", &[bad, 0, 2048, 1, 1024]),
        ("path_filestat_set_times", &[bad, 0, 2048, 1, 0, 0, 0]),
        ("path_link", &[bad, 0, 2048, 1, 3, 2048, 1]),
        ("path_link", &[3, 0, 2056, 8, bad, 2048, 1]),
        ("path_open", &[bad, 0, 2048, 1, 0, 0, 0, 0, 1100]),
        ("path_readlink", &[bad, 2048, 1, 1024, 10, 1100]),
        ("path_remove_directory", &[bad, 2048, 1]),
        ("path_rename", &[bad, 2048, 1, 3, 2048, 1]),
        ("path_rename", &[3, 2056, 8, bad, 2048, 1]),
        ("path_symlink", &[2048, 1, bad, 2048, 1]),
        ("path_unlink_file", &[bad, 2048, 1]),
        ("sock_accept", &[bad, 0, 1100]),
        ("sock_recv", &[bad, 1024, 0, 0, 1100, 1104]),
        ("sock_send", &[bad, 1024, 0, 0, 1100]),
        ("sock_shutdown", &[bad, 3]),
        // Negative and huge descriptors too.
        ("fd_close", &[-1]),
        ("fd_write", &[i32::MAX as i64, 1024, 0, 1100]),
    ];
    for (name, args) in cases {
        assert_eq!(g.call(name, args), EBADF, "{name}{args:?}");
    }
    // poll_oneoff reports a bad fd in the event, not as its result.
    // subscription at 1024: userdata 5, tag fd_read (1), fd 77.
    for (off, v) in [(0, 5), (4, 0), (8, 1), (16, 77)] {
        g.poke(1024 + off, v);
    }
    assert_eq!(g.call("poll_oneoff", &[1024, 1200, 1, 1300]), ESUCCESS);
    assert_eq!(g.peek(1300), 1);
    assert_eq!(g.peek(1200), 5);
    assert_eq!(g.peek(1208) & 0xffff, EBADF);
}

#[test]
fn pointers_outside_memory_are_efault_never_a_crash() {
    let (g, _dir) = Guest::with_dir();
    const END: i64 = 65536;
    let cases: &[(&str, &[i64])] = &[
        ("args_sizes_get", &[END, 1024]),
        ("args_sizes_get", &[1024, END - 2]),
        ("args_get", &[0xFFFF_FFF0, 1024]),
        ("environ_sizes_get", &[-1, 1024]),
        ("clock_time_get", &[1, 0, END - 4]),
        ("clock_res_get", &[0, END]),
        ("random_get", &[END - 10, 11]),
        ("random_get", &[-1, 2]),
        ("fd_fdstat_get", &[1, END - 8]),
        ("fd_filestat_get", &[1, END - 63]),
        ("fd_prestat_get", &[3, END - 4]),
        ("fd_prestat_dir_name", &[3, END - 3, 8]),
        ("fd_write", &[1, END - 4, 1, 1100]),
        ("fd_write", &[1, 1024, 0x2000_0000, 1100]),
        ("fd_read", &[0, -8, 1, 1100]),
        ("fd_readdir", &[3, END - 10, 100, 0, 1100]),
        ("fd_readdir", &[3, 1024, 64, 0, END]),
        ("path_open", &[3, 0, END - 2, 8, 0, 0, 0, 0, 1100]),
        ("path_open", &[3, 0, 2056, 8, 0, 2, 0, 0, END]),
        ("path_filestat_get", &[3, 0, 2056, 8, END - 10]),
        ("path_create_directory", &[3, -1, 4]),
        ("path_readlink", &[3, 2056, 8, END - 1, 10, 1100]),
        ("path_symlink", &[END, 4, 3, 2080, 4]),
        ("poll_oneoff", &[END - 40, 1200, 1, 1300]),
        ("poll_oneoff", &[1024, END - 8, 1, 1300]),
        ("poll_oneoff", &[1024, 1200, 0x0800_0000, 1300]),
        ("sock_accept", &[3, 0, END]),
    ];
    for (name, args) in cases {
        let e = g.call(name, args);
        // A failed path lookup may legitimately come first for readlink.
        assert!(
            e == EFAULT
                || (*name == "path_readlink" && e == EINVAL)
                || (*name == "sock_accept" && e == ENOTSOCK),
            "{name}{args:?} gave {e}"
        );
    }
    let (e, f) = g.open(2056, 8, 0, (1 << 1) | (1 << 2) | (1 << 5), 0);
    assert_eq!(e, ESUCCESS);
    assert_eq!(g.call("fd_seek", &[f as i64, 0, 0, END]), EFAULT);
    assert_eq!(g.call("fd_tell", &[f as i64, -1]), EFAULT);
    assert_eq!(g.call("fd_pread", &[f as i64, END - 4, 1, 0, 1100]), EFAULT);
    // An iovec whose buffer runs past the end: nothing is written.
    g.poke(1024, (END - 2) as i32);
    g.poke(1028, 4);
    assert_eq!(g.call("fd_write", &[1, 1024, 1, 1100]), EFAULT);
    assert!(g.inst.wasi().captured_stdout().is_empty());
    // An iovec list of length 0 is fine.
    assert_eq!(g.call("fd_write", &[1, 1024, 0, 1100]), ESUCCESS);
    assert_eq!(g.peek(1100), 0);
}

#[test]
fn missing_rights_and_wrong_descriptor_kinds() {
    const FD_READ: i64 = 1 << 1;
    const FD_SEEK: i64 = 1 << 2;
    const FD_TELL: i64 = 1 << 5;
    const FD_WRITE: i64 = 1 << 6;
    const FD_FILESTAT_SET_SIZE: i64 = 1 << 22;
    let (g, _dir) = Guest::with_dir();
    let (e, file) = g.open(2056, 8, 0, FD_READ | FD_SEEK | FD_TELL, 0);
    assert_eq!(e, ESUCCESS);
    let f = file as i64;
    // Read-only file: writing is EBADF (as POSIX), other rights ENOTCAPABLE.
    g.poke(1024, 1500);
    g.poke(1028, 4);
    assert_eq!(g.call("fd_write", &[f, 1024, 1, 1100]), EBADF);
    assert_eq!(g.call("fd_pwrite", &[f, 1024, 1, 0, 1100]), EBADF);
    assert_eq!(g.call("fd_filestat_set_size", &[f, 0]), ENOTCAPABLE);
    assert_eq!(g.call("fd_allocate", &[f, 0, 10]), ENOTCAPABLE);
    assert_eq!(g.call("fd_read", &[f, 1024, 1, 1100]), ESUCCESS);
    assert_eq!(g.peek(1100), 4);
    // fdstat reports the rights granted.
    assert_eq!(g.call("fd_fdstat_get", &[f, 1200]), ESUCCESS);
    assert_eq!(g.peek(1200) & 0xff, 4); // regular file
    assert_eq!(g.peek64(1208), FD_READ | FD_SEEK | FD_TELL);
    // Rights only shrink.
    assert_eq!(g.call("fd_fdstat_set_rights", &[f, FD_READ, 0]), ESUCCESS);
    assert_eq!(g.call("fd_seek", &[f, 0, 0, 1100]), ENOTCAPABLE);
    assert_eq!(g.call("fd_tell", &[f, 1100]), ENOTCAPABLE);
    assert_eq!(
        g.call("fd_fdstat_set_rights", &[f, FD_READ | FD_SEEK, 0]),
        ENOTCAPABLE
    );
    // A file is not a directory nor a socket.
    assert_eq!(
        g.call("path_open", &[f, 0, 2048, 1, 0, 0, 0, 0, 1100]),
        ENOTDIR
    );
    assert_eq!(g.call("path_create_directory", &[f, 2048, 1]), ENOTDIR);
    assert_eq!(g.call("fd_readdir", &[f, 1024, 64, 0, 1100]), ENOTDIR);
    assert_eq!(g.call("sock_recv", &[f, 1024, 1, 0, 1100, 1104]), ENOTSOCK);
    assert_eq!(g.call("sock_shutdown", &[f, 3]), ENOTSOCK);
    assert_eq!(g.call("sock_accept", &[f, 0, 1100]), ENOTSOCK);
    assert_eq!(g.call("fd_prestat_get", &[f, 1100]), EBADF);
    // A directory is not a file.
    assert_eq!(g.call("fd_read", &[3, 1024, 1, 1100]), EBADF);
    assert_eq!(g.call("fd_write", &[3, 1024, 1, 1100]), EBADF);
    assert_eq!(g.call("fd_filestat_set_size", &[3, 0]), EISDIR);
    // Streams do not seek.
    assert_eq!(g.call("fd_seek", &[1, 0, 0, 1100]), ESPIPE);
    assert_eq!(g.call("fd_pread", &[1, 1024, 1, 0, 1100]), ESPIPE);
    // Opening for write needs FD_WRITE; with it, writes work.
    let (e, wfile) = g.open(2056, 8, 0, FD_WRITE | FD_FILESTAT_SET_SIZE, 0);
    assert_eq!(e, ESUCCESS);
    assert_eq!(g.call("fd_read", &[wfile as i64, 1024, 1, 1100]), EBADF);
    assert_eq!(g.call("fd_filestat_set_size", &[wfile as i64, 3]), ESUCCESS);
    assert_eq!(g.call("fd_close", &[wfile as i64]), ESUCCESS);
    assert_eq!(g.call("fd_close", &[wfile as i64]), EBADF);
    // The lowest free descriptor is reused.
    let (_, again) = g.open(2056, 8, 0, FD_READ, 0);
    assert_eq!(again, wfile);
}

#[test]
fn bad_arguments_are_einval_or_enosys() {
    let (g, _dir) = Guest::with_dir();
    assert_eq!(g.call("proc_raise", &[9]), ENOSYS);
    assert_eq!(g.call("clock_time_get", &[99, 0, 1024]), EINVAL);
    assert_eq!(g.call("clock_res_get", &[-1, 1024]), EINVAL);
    assert_eq!(g.call("poll_oneoff", &[1024, 1200, 0, 1300]), EINVAL);
    assert_eq!(g.call("fd_seek", &[3, 0, 0, 1100]), EBADF); // directories do not seek
    let (_, f) = g.open(2056, 8, 0, (1 << 1) | (1 << 2) | (1 << 7), 0);
    assert_eq!(g.call("fd_seek", &[f as i64, 0, 3, 1100]), EINVAL); // bad whence
    assert_eq!(g.call("fd_seek", &[f as i64, 0, 256, 1100]), EINVAL);
    assert_eq!(g.call("fd_seek", &[f as i64, -1, 0, 1100]), EINVAL);
    assert_eq!(g.call("fd_advise", &[f as i64, 0, 0, 9]), EINVAL);
    assert_eq!(
        g.call("path_open", &[3, 0, 2056, 8, 1 << 5, 0, 0, 0, 1100]),
        EINVAL
    );
    assert_eq!(
        g.call("path_open", &[3, 0, 2072, 3, 2 | 1, 0, 0, 0, 1100]),
        EINVAL
    );
    assert_eq!(
        g.call("path_open", &[3, 0, 2048, 1, 2, 0, 0, 0, 1100]),
        ENOENT
    );
    // fstflags: ATIM with ATIM_NOW is contradictory; *_NOW works.
    assert_eq!(
        g.call("path_filestat_set_times", &[3, 0, 2056, 8, 0, 0, 1 | 2]),
        EINVAL
    );
    assert_eq!(
        g.call("path_filestat_set_times", &[3, 0, 2056, 8, 0, 0, 2 | 8]),
        ESUCCESS
    );
    assert_eq!(
        g.call(
            "path_filestat_set_times",
            &[3, 0, 2056, 8, 5_000_000_000, 0, 1]
        ),
        ESUCCESS
    );
    assert_eq!(
        g.call("path_filestat_get", &[3, 0, 2056, 8, 1200]),
        ESUCCESS
    );
    assert_eq!(g.peek64(1200 + 40), 5_000_000_000); // atim
    assert_eq!(
        g.call("fd_filestat_set_times", &[f as i64, 0, 0, 8]),
        ENOTCAPABLE
    );
    assert_eq!(g.call("sock_shutdown", &[3, 0]), ENOTSOCK);
    assert_eq!(g.call("path_link", &[3, 1, 2056, 8, 3, 2080, 4]), EINVAL); // follow on link source
    assert_eq!(g.call("fd_renumber", &[3, 3]), ESUCCESS);
    assert_eq!(g.call("sched_yield", &[]), ESUCCESS);
    // prestat: a directory named "/sandbox".
    assert_eq!(g.call("fd_prestat_get", &[3, 1200]), ESUCCESS);
    assert_eq!(g.peek(1204), 8);
    assert_eq!(g.call("fd_prestat_dir_name", &[3, 1300, 7]), 37); // ENAMETOOLONG
}

/// Every function with extreme argument values: never a host crash or
/// panic; each call returns an errno (or, for `proc_exit`, ends the program).
#[test]
fn extreme_arguments_never_crash_the_host() {
    let (g, _dir) = Guest::with_dir();
    let i32s: [i64; 8] = [0, 1, 3, 65535, 65536, -1, i32::MIN as i64, i32::MAX as i64];
    let i64s: [i64; 5] = [0, 1, -1, i64::MAX, i64::MIN];
    // Blocking, program-ending or disk-filling calls are left out.
    let skip = [
        "proc_exit",
        "poll_oneoff",
        "sock_accept",
        "fd_allocate",
        "fd_filestat_set_size",
        "fd_pwrite",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (name, params) in SIGS.iter().filter(|s| !skip.contains(&s.0)) {
        for _ in 0..150 {
            let args: Vec<i64> = params
                .split_whitespace()
                .map(|t| {
                    let r = next();
                    if t == "i64" {
                        i64s[(r % 5) as usize]
                    } else {
                        i32s[(r % 8) as usize]
                    }
                })
                .collect();
            let e = g.call(name, &args);
            assert!((0..=76).contains(&e), "{name}{args:?} returned {e}");
        }
    }
}

#[test]
fn sockets_accept_recv_send_shutdown() {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    let mut cfg = captured(&["sock"]);
    cfg.preopen_tcp_listener(listener);
    let g = Guest::new(&cfg);
    // fd 3 is the listener.
    assert_eq!(g.call("fd_fdstat_get", &[3, 1200]), ESUCCESS);
    assert_eq!(g.peek(1200) & 0xff, 6); // socket_stream
                                        // A non-blocking listener with nobody connecting: EAGAIN.
    assert_eq!(g.call("fd_fdstat_set_flags", &[3, 4]), ESUCCESS);
    assert_eq!(g.call("sock_accept", &[3, 0, 1100]), 6);
    assert_eq!(g.call("fd_fdstat_set_flags", &[3, 0]), ESUCCESS);
    let client = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"ping").unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        buf
    });
    assert_eq!(g.call("sock_accept", &[3, 0, 1100]), ESUCCESS);
    let conn = g.peek(1100) as i64;
    assert_eq!(conn, 4);
    // Receive "ping" with WAITALL into two iovecs of 2 bytes.
    g.poke(1024, 1500);
    g.poke(1028, 2);
    g.poke(1032, 1502);
    g.poke(1036, 2);
    assert_eq!(
        g.call("sock_recv", &[conn, 1024, 2, 2, 1104, 1108]),
        ESUCCESS
    );
    assert_eq!(g.peek(1104), 4);
    assert_eq!(g.peek(1500).to_le_bytes(), *b"ping");
    // Send it back as "pong".
    g.poke(1500, i32::from_le_bytes(*b"pong"));
    g.poke(1024, 1500);
    g.poke(1028, 4);
    assert_eq!(g.call("sock_send", &[conn, 1024, 1, 0, 1104]), ESUCCESS);
    assert_eq!(g.peek(1104), 4);
    assert_eq!(g.call("sock_shutdown", &[conn, 2]), ESUCCESS);
    assert_eq!(client.join().unwrap(), b"pong");
    assert_eq!(g.call("sock_send", &[conn, 1024, 1, 1, 1104]), EINVAL);
    assert_eq!(g.call("fd_close", &[conn]), ESUCCESS);
}
