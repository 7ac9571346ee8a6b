//! What a program's WASI context is made from: arguments, environment,
//! standard streams, preopened directories and sockets. Plain data, built by
//! the host before the run; [`WasiCtx::new`](crate::wasi::WasiCtx::new) opens
//! what it names.

use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;

use crate::wasi::parallelism::Parallelism;

/// Where a standard stream goes (or, for stdin, comes from).
#[derive(Clone, Debug, Default)]
pub enum Stdio {
    /// The host process's own stream. A guest blocked reading an inherited
    /// stdin wakes when the program ends.
    #[default]
    Inherit,
    /// Reads see end of file; writes are discarded.
    Null,
    /// A host file (created or truncated for output, read for input).
    File(PathBuf),
    /// Output kept in memory, readable from the context during and after the
    /// run. For stdin, the same as `Null`.
    Capture,
    /// Stdin only: reads return these bytes, then end of file. For stdout and
    /// stderr, the same as `Null`.
    Bytes(Vec<u8>),
    /// A host file descriptor (duplicated when the context is built): a
    /// file, a pipe, a terminal or a socket. Give stdin the read end of a
    /// pipe to feed a running guest bit by bit; its reads block until data
    /// arrives, the pipe is closed, or the program ends.
    Fd(Arc<OwnedFd>),
}

/// A host directory made visible to the guest.
#[derive(Clone, Debug)]
pub struct Preopen {
    /// The directory on the host.
    pub host: PathBuf,
    /// The name the guest sees (`fd_prestat_dir_name`), e.g. `"/data"` or `"."`.
    pub guest: String,
    /// Refuse every change below it (`EROFS`).
    pub read_only: bool,
}

/// What a program's WASI context is made from. Cheap to clone.
///
/// Descriptors are numbered 0, 1, 2 (stdio), then the preopened directories
/// in order, then the preopened TCP listeners in order.
#[derive(Clone, Debug, Default)]
pub struct WasiConfig {
    /// `argv`, including `argv[0]`.
    pub args: Vec<String>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// Adds the host process's environment before `env`.
    pub inherit_env: bool,
    /// Standard input.
    pub stdin: Stdio,
    /// Standard output.
    pub stdout: Stdio,
    /// Standard error.
    pub stderr: Stdio,
    /// Preopened directories.
    pub preopens: Vec<Preopen>,
    /// Preopened listening TCP sockets, for `sock_accept`.
    pub tcp_listeners: Vec<Arc<TcpListener>>,
    /// The parallelism hint: `RAYON_NUM_THREADS` and `OMP_NUM_THREADS`
    /// (each only if the environment above lacks it) set to the number of
    /// CPUs the host may use or to a fixed number, capped by the thread
    /// limit. Default [`Parallelism::None`]: nothing is added.
    pub parallelism: Parallelism,
}

impl WasiConfig {
    /// An empty configuration: no arguments, environment or preopens, stdio
    /// inherited.
    pub fn new() -> WasiConfig {
        WasiConfig::default()
    }

    /// Appends one argument.
    pub fn arg(&mut self, a: impl Into<String>) -> &mut Self {
        self.args.push(a.into());
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends an environment variable.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Inherits the host process's environment.
    pub fn inherit_env(&mut self, yes: bool) -> &mut Self {
        self.inherit_env = yes;
        self
    }

    /// Sets standard input.
    pub fn stdin(&mut self, s: Stdio) -> &mut Self {
        self.stdin = s;
        self
    }

    /// Sets standard output.
    pub fn stdout(&mut self, s: Stdio) -> &mut Self {
        self.stdout = s;
        self
    }

    /// Sets standard error.
    pub fn stderr(&mut self, s: Stdio) -> &mut Self {
        self.stderr = s;
        self
    }

    /// Preopens host directory `host` as guest path `guest`.
    pub fn preopen_dir(&mut self, host: impl Into<PathBuf>, guest: impl Into<String>) -> &mut Self {
        self.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: false,
        });
        self
    }

    /// Preopens host directory `host` as guest path `guest`, read-only.
    pub fn preopen_dir_read_only(
        &mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
    ) -> &mut Self {
        self.preopens.push(Preopen {
            host: host.into(),
            guest: guest.into(),
            read_only: true,
        });
        self
    }

    /// Preopens a listening TCP socket (shared: the context duplicates it).
    pub fn preopen_tcp_listener(&mut self, listener: Arc<TcpListener>) -> &mut Self {
        self.tcp_listeners.push(listener);
        self
    }

    /// Sets the parallelism hint (see [`Parallelism`]).
    pub fn parallelism(&mut self, p: Parallelism) -> &mut Self {
        self.parallelism = p;
        self
    }
}
