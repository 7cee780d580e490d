//! Check a container without writing anything: every block's CRC, the blocks present against
//! those expected, and the stored hash over the reassembled data.

use super::assemble::{Assembly, HashCheck, assemble};
use super::container::Container;
use super::info::{InfoReport, describe};
use super::job::{CancelFlag, Error, ProgressFn, Stage};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct CheckOpts {
    pub container: PathBuf,
    pub password: Option<String>,
    /// Burst level of an RS container, when the user knows better than the inference.
    pub burst: Option<u32>,
}

impl CheckOpts {
    pub fn new(container: impl Into<PathBuf>) -> CheckOpts {
        CheckOpts {
            container: container.into(),
            password: None,
            burst: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub info: InfoReport,
    /// No damaged or absent block (data, parity or metadata copy), nothing missing, and the
    /// hash matches (or none is stored): the container is as it was written.
    pub ok: bool,
    pub assembly: Assembly,
}

pub fn run(
    opts: &CheckOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<CheckReport, Error> {
    let mut c = Container::open(
        &opts.container,
        opts.password.as_deref().map(str::as_bytes),
        opts.burst,
    )?;
    let info = describe(&c);
    let assembly = assemble(&mut c, None, Stage::Checking, cancel, progress)?;
    let hash_ok = matches!(
        assembly.hash,
        HashCheck::Match { .. } | HashCheck::NotStored | HashCheck::UnknownKind { .. }
    );
    let ok = assembly.complete()
        && assembly.damaged_blocks == 0
        && assembly.absent_blocks == 0
        && hash_ok
        && !info.metadata_lost;
    Ok(CheckReport { info, ok, assembly })
}

impl CheckReport {
    /// Every byte of the file can be had and verified, damaged container or not (see
    /// `words::check`): what the exit code follows.
    pub fn success(&self) -> bool {
        super::words::check(self).verdict.is_safe()
    }
}
