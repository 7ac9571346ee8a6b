//! The host's state belongs to the host: a guest's `fd_fdstat_set_flags`
//! (wasi-libc's `fcntl(F_SETFL, O_NONBLOCK | O_APPEND)`) on a descriptor the
//! host handed over — a pipe, a terminal, a file, a TCP listener — changes
//! only the guest's view. Non-blocking and append behaviour are emulated
//! per guest descriptor (poll, `RWF_APPEND`), and after every program the
//! host's open file descriptions have exactly the flags they had before.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use common::*;
use rustix::fs::OFlags;
use weft::runtime::{Instance, Val};
use weft::wasi::{Stdio, WasiConfig};

const EAGAIN: i32 = 6;
const ENOTSUP: i32 = 58;
const NONBLOCK: i64 = 4;
const APPEND: i64 = 1;

/// WASI functions the reactor re-exports: (name, params).
const FUNCS: &[(&str, &str)] = &[
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("sock_accept", "i32 i32 i32"),
];

fn reactor() -> Vec<u8> {
    let mut wat = String::from("(module\n");
    for (name, params) in FUNCS {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))\n"
        );
    }
    wat += "(memory (export \"memory\") 2)\n";
    for (name, params) in FUNCS {
        let n = params.split_whitespace().count();
        let gets: String = (0..n).map(|i| format!("local.get {i} ")).collect();
        wat += &format!(
            "(func (export \"{name}\") (param {params}) (result i32) {gets} call ${name})\n"
        );
    }
    wat += "(func (export \"peek\") (param i32) (result i32) local.get 0 i32.load)\n";
    wat += "(func (export \"poke\") (param i32 i32) local.get 0 local.get 1 i32.store)\n";
    wat += ")\n";
    wat.into_bytes()
}

struct Guest {
    inst: Instance,
}

impl Guest {
    fn new(cfg: &WasiConfig) -> Guest {
        let inst = instance(&reactor(), cfg, None);
        inst.initialize().unwrap();
        Guest { inst }
    }

    fn call(&self, name: &str, args: &[i32]) -> i32 {
        let vals: Vec<Val> = args.iter().map(|&a| Val::I32(a)).collect();
        self.inst
            .call(name, &vals)
            .unwrap_or_else(|e| panic!("{name} trapped: {e}"))[0]
            .unwrap_i32()
    }

    fn peek(&self, addr: i32) -> i32 {
        self.inst.call("peek", &[Val::I32(addr)]).unwrap()[0].unwrap_i32()
    }

    fn poke(&self, addr: i32, v: i32) {
        self.inst
            .call("poke", &[Val::I32(addr), Val::I32(v)])
            .unwrap();
    }

    /// `fd_fdstat_set_flags(fd, flags)`.
    fn set_flags(&self, fd: i32, flags: i64) -> i32 {
        self.call("fd_fdstat_set_flags", &[fd, flags as i32])
    }

    /// The guest-visible `fdflags` of `fd`.
    fn flags(&self, fd: i32) -> i64 {
        assert_eq!(self.call("fd_fdstat_get", &[fd, 2000]), 0);
        ((self.peek(2000) >> 16) & 0xffff) as i64
    }

    /// Reads up to `len` bytes from `fd` into 8192..; returns (errno, n).
    fn read(&self, fd: i32, len: i32) -> (i32, i32) {
        self.poke(1024, 8192);
        self.poke(1028, len);
        let e = self.call("fd_read", &[fd, 1024, 1, 1100]);
        (e, self.peek(1100))
    }

    /// Writes `len` bytes (whatever is at 8192..) to `fd`; returns (errno, n).
    fn write(&self, fd: i32, len: i32) -> (i32, i32) {
        self.poke(1024, 8192);
        self.poke(1028, len);
        let e = self.call("fd_write", &[fd, 1024, 1, 1100]);
        (e, self.peek(1100))
    }
}

fn getfl(fd: impl AsFd) -> OFlags {
    rustix::fs::fcntl_getfl(fd).unwrap()
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

#[test]
fn nonblock_and_append_on_pipes_stay_in_the_guest() {
    let (in_r, in_w) = pipe();
    let (out_r, out_w) = pipe();
    let in_r = Arc::new(in_r);
    let out_w = Arc::new(out_w);
    let before = [getfl(&*in_r), getfl(&*out_w)];
    let mut cfg = captured(&["pipes"]);
    cfg.stdin(Stdio::Fd(in_r.clone()))
        .stdout(Stdio::Fd(out_w.clone()));
    let g = Guest::new(&cfg);
    // The guest starts blocking, then asks for non-blocking I/O.
    assert_eq!(g.flags(0) & NONBLOCK, 0);
    assert_eq!(g.set_flags(0, NONBLOCK), 0);
    assert_eq!(g.set_flags(1, NONBLOCK | APPEND), 0);
    assert_eq!(g.flags(0), NONBLOCK);
    assert_eq!(g.flags(1), NONBLOCK | APPEND);
    // The host's descriptions did not change...
    assert_eq!([getfl(&*in_r), getfl(&*out_w)], before);
    // ...but the guest's descriptors behave non-blocking: an empty pipe is
    // EAGAIN at once,
    assert_eq!(g.read(0, 16), (EAGAIN, 0));
    // data is read,
    rustix::io::write(&in_w, b"abc").unwrap();
    assert_eq!(g.read(0, 16), (0, 3));
    // and a full pipe takes what fits, then EAGAIN.
    let cap = rustix::pipe::fcntl_getpipe_size(&*out_w).unwrap() as i32;
    let (e, n) = g.write(1, cap + 8192);
    assert_eq!((e, n), (0, cap), "a short write of what fits");
    assert_eq!(g.write(1, 100), (EAGAIN, 0));
    // Back to blocking: a write waits for the reader.
    assert_eq!(g.set_flags(1, 0), 0);
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(out_r);
        let mut all = Vec::new();
        let mut buf = vec![0u8; 65536];
        while all.len() < (cap as usize) + 5000 {
            let n = f.read(&mut buf).unwrap();
            assert!(n > 0);
            all.extend_from_slice(&buf[..n]);
        }
        all.len()
    });
    assert_eq!(g.write(1, 5000), (0, 5000));
    assert_eq!(reader.join().unwrap(), cap as usize + 5000);
    drop(g);
    assert_eq!([getfl(&*in_r), getfl(&*out_w)], before);
}

#[test]
fn a_host_nonblocking_pipe_still_blocks_for_the_guest() {
    let (r, w) = pipe();
    rustix::fs::fcntl_setfl(&r, OFlags::NONBLOCK).unwrap();
    let r = Arc::new(r);
    let mut cfg = captured(&["host-nonblocking"]);
    cfg.stdin(Stdio::Fd(r.clone()));
    let g = Guest::new(&cfg);
    assert_eq!(g.flags(0) & NONBLOCK, 0);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        rustix::io::write(&w, b"late").unwrap();
    });
    // Blocking for the guest although the host's description is not.
    assert_eq!(g.read(0, 16), (0, 4));
    writer.join().unwrap();
    drop(g);
    assert_eq!(getfl(&*r), OFlags::NONBLOCK | OFlags::RDONLY);
}

#[test]
fn nonblock_on_a_pty_stays_in_the_guest() {
    let mut master = -1;
    let mut slave = -1;
    // SAFETY: openpty writes two descriptors into the out-parameters; the
    // name, termios and window size arguments may be NULL.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fresh descriptors we now own.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let slave = Arc::new(slave);
    let before = getfl(&*slave);
    let mut cfg = captured(&["pty"]);
    cfg.stdin(Stdio::Fd(slave.clone()))
        .stdout(Stdio::Fd(slave.clone()));
    let g = Guest::new(&cfg);
    assert_eq!(g.call("fd_fdstat_get", &[0, 2000]), 0);
    assert_eq!(g.peek(2000) & 0xff, 2, "a terminal is a character device");
    assert_eq!(g.set_flags(0, NONBLOCK), 0);
    assert_eq!(g.set_flags(1, NONBLOCK | APPEND), 0);
    assert_eq!(getfl(&*slave), before);
    assert_eq!(g.read(0, 16), (EAGAIN, 0));
    // A line typed on the terminal is read.
    rustix::io::write(&master, b"hi\n").unwrap();
    let mut got = (EAGAIN, 0);
    for _ in 0..200 {
        got = g.read(0, 16);
        if got.0 != EAGAIN {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(got, (0, 3));
    // The guest's output reaches the terminal.
    g.poke(8192, i32::from_le_bytes(*b"out\n"));
    assert_eq!(g.write(1, 4), (0, 4));
    // (The terminal echoed the typed line first.)
    let mut seen = Vec::new();
    while !seen.windows(3).any(|w| w == b"out") {
        let mut buf = [0u8; 64];
        let n = rustix::io::read(&master, &mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    drop(g);
    assert_eq!(getfl(&*slave), before);
}

#[test]
fn nonblock_on_a_preopened_listener_stays_in_the_guest() {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    let before = getfl(&*listener);
    let mut cfg = captured(&["listener"]);
    cfg.preopen_tcp_listener(listener.clone());
    let g = Guest::new(&cfg);
    assert_eq!(getfl(&*listener), before, "preopening changed the listener");
    assert_eq!(g.set_flags(3, NONBLOCK), 0);
    assert_eq!(getfl(&*listener), before);
    assert_eq!(g.call("sock_accept", &[3, 0, 1100]), EAGAIN);
    // The host's own accept still blocks (a timeout proves it waits).
    listener.set_nonblocking(false).unwrap();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(g.call("sock_accept", &[3, 0, 1100]), 0);
    let conn = g.peek(1100);
    assert_eq!(g.flags(conn), 0, "an accepted connection starts blocking");
    drop(g);
    assert_eq!(getfl(&*listener), before);
    assert!(!getfl(&*listener).contains(OFlags::NONBLOCK));
}

#[test]
fn append_on_a_host_file_appends_without_touching_its_flags() {
    let dir = scratch_dir("append");
    let path = dir.join("out.txt");
    std::fs::write(&path, "0123456789").unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let fd = Arc::new(OwnedFd::from(file));
    let before = getfl(&*fd);
    let mut cfg = captured(&["append"]);
    cfg.stdout(Stdio::Fd(fd.clone()));
    let g = Guest::new(&cfg);
    g.poke(8192, i32::from_le_bytes(*b"ab\0\0"));
    // Without APPEND: at the position (0), overwriting.
    assert_eq!(g.write(1, 2), (0, 2));
    assert_eq!(g.set_flags(1, APPEND), 0);
    assert_eq!(g.flags(1), APPEND);
    assert_eq!(getfl(&*fd), before);
    assert_eq!(g.write(1, 2), (0, 2));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "ab23456789ab");
    drop(g);
    assert_eq!(getfl(&*fd), before);
}

#[test]
fn an_append_the_host_set_cannot_be_cleared() {
    let dir = scratch_dir("host-append");
    let path = dir.join("log.txt");
    std::fs::write(&path, "x").unwrap();
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let fd = Arc::new(OwnedFd::from(file));
    let mut cfg = captured(&["host-append"]);
    cfg.stdout(Stdio::Fd(fd.clone()));
    let g = Guest::new(&cfg);
    assert_eq!(g.flags(1), APPEND);
    assert_eq!(g.set_flags(1, 0), ENOTSUP);
    assert_eq!(g.set_flags(1, APPEND | NONBLOCK), 0);
    g.poke(8192, i32::from_le_bytes(*b"y\0\0\0"));
    assert_eq!(g.write(1, 1), (0, 1));
    drop(g);
    assert!(getfl(&*fd).contains(OFlags::APPEND));
    assert!(!getfl(&*fd).contains(OFlags::NONBLOCK));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "xy");
}
