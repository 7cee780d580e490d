//! What every long job shares: the cancel flag, the progress sample, the throttle that keeps
//! progress to about ten updates a second, and the engine's typed errors.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set from any thread to ask a running job to stop; the job checks it between chunks.
#[derive(Clone, Debug, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` once cancelled, for use with `?` inside loops.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// Which part of a job is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Encoding,
    Decoding,
    Checking,
    Scanning,
    Recovering,
    /// Reading a file system's structure and fingerprinting its files.
    Snapshotting,
    /// Building and writing disk images (the fragmentation demo).
    Imaging,
    /// Carving files out of an image by their signature (the fragmentation demo).
    Carving,
}

/// One progress sample. Small and `Copy` so it can cross threads cheaply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Blocks (or files) handled so far.
    pub items: u64,
}

/// The progress callback every job takes.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

/// Lets through one progress report per interval (and always the first and the last).
#[derive(Debug)]
pub struct Throttle {
    last: Option<Instant>,
    every: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            last: None,
            every: Duration::from_millis(100),
        }
    }
}

impl Throttle {
    /// Report `p` through `f` unless one was reported less than an interval ago.
    pub fn report(&mut self, f: ProgressFn<'_>, p: Progress) {
        let now = Instant::now();
        if self
            .last
            .is_none_or(|t| now.duration_since(t) >= self.every)
        {
            self.last = Some(now);
            f(p);
        }
    }
}

/// Why a job could not run or finish. Outcomes such as "blocks missing" or "hash mismatch"
/// are not errors: they are part of a job's report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cancelled")]
    Cancelled,
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}{}", path.display(), out_of_room(source))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} already exists; choose another name or allow overwriting", path.display())]
    OutputExists { path: PathBuf },
    #[error("{}: no SeqBox block found{}", path.display(), if *password_given {
        " (wrong password?)"
    } else {
        " (not an SBX container, or it was made with a password)"
    })]
    NotSbx { path: PathBuf, password_given: bool },
    /// A password was given for a container stored without one.
    #[error("{} has no password; open it without one", path.display())]
    NoPassword { path: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

/// A write error that means "no room", said in plain words.
fn out_of_room(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    match e.kind() {
        StorageFull | FileTooLarge | QuotaExceeded => {
            " (the output disk is full, or takes no file this large)"
        }
        _ => "",
    }
}

impl Error {
    pub fn read(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Read { path, source }
    }

    pub fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Write { path, source }
    }
}
