//! What a program's WASI context is made from: arguments, environment,
//! standard streams, preopened directories and sockets. Plain data, built by
//! the host before the run; [`WasiCtx::new`](crate::wasi::WasiCtx::new) opens
//! what it names, after [`WasiConfig::validate`]. The rules live here, once:
//! the C API's setters refuse with the same words.

use std::fmt;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
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
    /// run. Not for stdin, which has nothing to capture: [`WasiConfig::validate`]
    /// refuses it.
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
///
/// [`WasiConfig::validate`] holds every rule a configuration must follow;
/// creating a context from it ([`WasiCtx::new`](crate::wasi::WasiCtx::new),
/// and so an instance) refuses a configuration it fails. The fallible
/// setters ([`WasiConfig::try_env`], [`WasiConfig::set_stdio`],
/// [`WasiConfig::try_preopen_dir`]) check their own rule at once (the C
/// API's setters use them), with the same errors.
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

    /// Appends an environment variable. Its name must be non-empty and
    /// without `=` ([`WasiConfig::validate`]; [`WasiConfig::try_env`]
    /// checks at once).
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Inherits the host process's environment.
    pub fn inherit_env(&mut self, yes: bool) -> &mut Self {
        self.inherit_env = yes;
        self
    }

    /// Sets standard input (not [`Stdio::Capture`]: see
    /// [`WasiConfig::set_stdio`]).
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

    /// Preopens host directory `host` as guest path `guest`; neither may be
    /// empty ([`WasiConfig::validate`]; [`WasiConfig::try_preopen_dir`]
    /// checks at once).
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

    /// [`WasiConfig::env`], refusing at once a name that is empty or
    /// contains `=`.
    ///
    /// **Errors**: the name's rule; the configuration is unchanged.
    pub fn try_env(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<&mut Self, InvalidWasiConfig> {
        let key = key.into();
        check_env_name(&key)?;
        Ok(self.env(key, value))
    }

    /// Sets standard stream `fd`: 0 (stdin), 1 (stdout) or 2 (stderr).
    ///
    /// **Errors**: `fd` is not 0, 1 or 2, or `stdio` is [`Stdio::Capture`]
    /// for stdin; the configuration is unchanged.
    pub fn set_stdio(&mut self, fd: u32, stdio: Stdio) -> Result<&mut Self, InvalidWasiConfig> {
        check_stdio(fd, &stdio)?;
        match fd {
            0 => self.stdin = stdio,
            1 => self.stdout = stdio,
            _ => self.stderr = stdio,
        }
        Ok(self)
    }

    /// [`WasiConfig::preopen_dir`] (or, with `read_only`,
    /// [`WasiConfig::preopen_dir_read_only`]), refusing at once an empty
    /// path.
    ///
    /// **Errors**: `host` or `guest` is empty; the configuration is unchanged.
    pub fn try_preopen_dir(
        &mut self,
        host: impl Into<PathBuf>,
        guest: impl Into<String>,
        read_only: bool,
    ) -> Result<&mut Self, InvalidWasiConfig> {
        let (host, guest) = (host.into(), guest.into());
        check_preopen(&host, &guest)?;
        self.preopens.push(Preopen {
            host,
            guest,
            read_only,
        });
        Ok(self)
    }

    /// Checks every rule of a configuration: environment variable names are
    /// non-empty and without `=`, stdin is not [`Stdio::Capture`], preopen
    /// paths are not empty. (A parallelism hint of 0 threads cannot be
    /// made: [`Parallelism::fixed`].) Creating a context runs it.
    ///
    /// **Errors**: the first rule broken, in that order.
    pub fn validate(&self) -> Result<(), InvalidWasiConfig> {
        for (name, _) in &self.env {
            check_env_name(name)?;
        }
        check_stdio(0, &self.stdin)?;
        for p in &self.preopens {
            check_preopen(&p.host, &p.guest)?;
        }
        Ok(())
    }
}

/// A [`WasiConfig`] that breaks one of its rules; the message says which
/// (the C API refuses with the same words, as `WEFT_ERROR_INVALID_ARGUMENT`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidWasiConfig(String);

impl fmt::Display for InvalidWasiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidWasiConfig {}

/// An environment variable name is non-empty and has no `=`.
fn check_env_name(name: &str) -> Result<(), InvalidWasiConfig> {
    if name.is_empty() || name.contains('=') {
        return Err(InvalidWasiConfig(format!(
            "invalid environment variable name {name:?}"
        )));
    }
    Ok(())
}

/// Standard streams are 0, 1 and 2; stdin cannot be captured.
fn check_stdio(fd: u32, stdio: &Stdio) -> Result<(), InvalidWasiConfig> {
    match (fd, stdio) {
        (0, Stdio::Capture) => Err(InvalidWasiConfig("stdin cannot be captured".into())),
        (0..=2, _) => Ok(()),
        (other, _) => Err(InvalidWasiConfig(format!(
            "fd {other} is not a standard stream (0, 1 or 2)"
        ))),
    }
}

/// A preopen names a host directory and a guest path.
pub(crate) fn check_preopen(host: &Path, guest: &str) -> Result<(), InvalidWasiConfig> {
    if host.as_os_str().is_empty() || guest.is_empty() {
        return Err(InvalidWasiConfig("preopen paths must not be empty".into()));
    }
    Ok(())
}
