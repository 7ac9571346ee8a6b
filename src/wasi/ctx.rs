//! The shared WASI context of one running program, built from its
//! [`WasiConfig`].

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use crate::wasi::abi::rights;
use crate::wasi::config::WasiConfig;
use crate::wasi::fd_table::dir::OpenDir;
use crate::wasi::fd_table::file::OpenFile;
use crate::wasi::fd_table::stdio;
use crate::wasi::fd_table::{Descriptor, FdTable, Kind};
use crate::wasi::parallelism;
use crate::wasi::stop::StopSignal;

/// One program's WASI state, shared by all of its threads.
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) table: FdTable,
    captured_stdout: Arc<Mutex<Vec<u8>>>,
    captured_stderr: Arc<Mutex<Vec<u8>>>,
    stop: StopSignal,
}

impl WasiCtx {
    /// Builds a context from `config`: checks it ([`WasiConfig::validate`]:
    /// the error is an [`InvalidWasiConfig`](crate::wasi::InvalidWasiConfig)),
    /// opens stdio files, preopened directories and duplicates listeners.
    /// Fails with a message naming the rule broken or what could not be
    /// opened. A parallelism hint ([`WasiConfig::parallelism`]) is not
    /// capped by any thread limit: use [`WasiCtx::with_max_threads`] for a
    /// program that has one.
    pub fn new(config: &WasiConfig) -> anyhow::Result<WasiCtx> {
        WasiCtx::build(config, None)
    }

    /// [`WasiCtx::new`] for a program that may have at most `max_threads`
    /// spawned threads alive at once (weft's runner passes
    /// `Config::max_threads`; a `weft::embed` embedder its
    /// `Limits::max_threads`): the parallelism hint is capped at it.
    pub fn with_max_threads(config: &WasiConfig, max_threads: u32) -> anyhow::Result<WasiCtx> {
        WasiCtx::build(config, Some(max_threads))
    }

    fn build(config: &WasiConfig, max_threads: Option<u32>) -> anyhow::Result<WasiCtx> {
        config.validate()?;
        let mut env = Vec::new();
        if config.inherit_env {
            env.extend(std::env::vars());
        }
        env.extend(config.env.iter().cloned());
        if let Some(threads) = config.parallelism.threads(max_threads) {
            parallelism::add_to_env(&mut env, threads);
        }
        let ctx = WasiCtx {
            args: config.args.clone(),
            env,
            table: FdTable::default(),
            captured_stdout: Arc::default(),
            captured_stderr: Arc::default(),
            stop: StopSignal::default(),
        };
        let io = [
            (&config.stdin, &ctx.captured_stdout),
            (&config.stdout, &ctx.captured_stdout),
            (&config.stderr, &ctx.captured_stderr),
        ];
        for (fd, (how, cap)) in io.into_iter().enumerate() {
            let d = stdio::descriptor(fd as u32, how, cap)?;
            ctx.insert(d)?;
        }
        for p in &config.preopens {
            let dir = cap_std::fs::Dir::open_ambient_dir(&p.host, cap_std::ambient_authority())
                .map_err(|e| anyhow::anyhow!("cannot preopen {}: {e}", p.host.display()))?;
            // A read-only preopen keeps full rights, so wasi-libc asks for
            // what it wants and the change itself is refused with EROFS.
            let d = OpenDir::new(dir, Some(p.guest.clone()), p.read_only);
            let (base, inheriting) = (rights::DIRECTORY, rights::DIRECTORY_INHERITING);
            ctx.insert(Descriptor::new(Kind::Dir(d), base, inheriting))?;
        }
        for l in &config.tcp_listeners {
            let fd = OwnedFd::from(
                l.try_clone()
                    .map_err(|e| anyhow::anyhow!("cannot duplicate a TCP listener: {e}"))?,
            );
            let f = OpenFile::socket(fd, true)?;
            ctx.insert(Descriptor::new(
                Kind::File(f),
                rights::LISTENER,
                rights::SOCKET,
            ))?;
        }
        Ok(ctx)
    }

    fn insert(&self, d: Descriptor) -> anyhow::Result<u32> {
        self.table
            .insert(d)
            .map_err(|e| anyhow::anyhow!("descriptor table full (errno {})", e.0))
    }

    /// The program-wide stop signal.
    pub fn stop_signal(&self) -> &StopSignal {
        &self.stop
    }

    /// Everything captured from stdout so far (empty unless stdout is `Capture`).
    pub fn captured_stdout(&self) -> Vec<u8> {
        self.captured_stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Everything captured from stderr so far (empty unless stderr is `Capture`).
    pub fn captured_stderr(&self) -> Vec<u8> {
        self.captured_stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
