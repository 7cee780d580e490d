//! Decode a container back into the original file, verified against its stored hash.
//!
//! The output is written as `NAME.<random>.part` beside its final name and renamed only when
//! every block is there and the hash matches; otherwise it is removed. Output names taken
//! from the container are made safe first. Never writes to the container.

use super::assemble::{Assembly, HashCheck, assemble_partial};
use super::container::Container;
use super::encode::Target;
use super::info::{InfoReport, describe};
use super::io::{file_name_of, same_file};
use super::job::{CancelFlag, Error, ProgressFn, Stage};
use super::output::{AtomicFile, fit_name, incomplete_name, safe_file_name};
use super::source::list_ranges;
use serde::Serialize;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct DecodeOpts {
    pub container: PathBuf,
    pub output: Target,
    pub password: Option<String>,
    /// Burst level of an RS container, when the user knows better than the inference.
    pub burst: Option<u32>,
    pub overwrite: bool,
    /// When the output name is taken, write `NAME (1).ext` (the next free name) instead of
    /// failing; never replaces a file.
    pub unique_name: bool,
    /// An incomplete file is kept as `NAME (incomplete).ext`, its missing parts zero-filled,
    /// instead of being removed.
    pub keep_incomplete: bool,
    /// Write the file to standard output (`output` unused), only once it is verified: it is
    /// decoded into an unnamed temporary file first, so a pipe never receives wrong bytes.
    pub stdout: bool,
}

/// The report's `output` when the file went to standard output.
pub const STDOUT: &str = "-";

impl DecodeOpts {
    pub fn new(container: impl Into<PathBuf>) -> DecodeOpts {
        DecodeOpts {
            container: container.into(),
            output: Target::Beside,
            password: None,
            burst: None,
            overwrite: false,
            unique_name: false,
            keep_incomplete: false,
            stdout: false,
        }
    }
}

/// How a decode ended.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DecodeStatus {
    /// Every block present and the stored hash matches.
    Verified,
    /// Every block present and valid, but the container stores no hash we can check.
    Unverified,
    /// Blocks are missing: nothing was written.
    Incomplete,
    /// The data does not match the stored hash: nothing was written.
    HashMismatch,
}

#[derive(Clone, Debug, Serialize)]
pub struct DecodeReport {
    pub info: InfoReport,
    pub status: DecodeStatus,
    /// The file written (only for verified or unverified decodes).
    pub output: Option<PathBuf>,
    pub assembly: Assembly,
    pub notes: Vec<String>,
}

impl DecodeReport {
    /// Every byte of the file is back and verified (see `words::decode`).
    pub fn success(&self) -> bool {
        super::words::decode(self).verdict.is_safe()
    }
}

pub fn run(
    opts: &DecodeOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<DecodeReport, Error> {
    let mut c = Container::open(
        &opts.container,
        opts.password.as_deref().map(str::as_bytes),
        opts.burst,
    )?;
    let info = describe(&c);
    if opts.stdout {
        return to_stdout(c, info, cancel, progress);
    }
    let (out_path, name_note) = output_path(opts, &c);
    if same_file(&opts.container, &out_path) {
        return Err(Error::Invalid(format!(
            "{} would overwrite the container itself",
            out_path.display()
        )));
    }
    let mut out = if opts.unique_name && !opts.overwrite {
        AtomicFile::create_unique(&out_path)?
    } else {
        AtomicFile::create(&out_path, opts.overwrite)?
    };
    let target = out.target().to_path_buf();
    let assembly = assemble_partial(
        &mut c,
        Some((out.file(), &target)),
        opts.keep_incomplete,
        Stage::Decoding,
        cancel,
        progress,
    )?;
    let (status, mut notes) = judge(&c, &assembly);
    notes.extend(name_note);
    let output = match status {
        DecodeStatus::Verified | DecodeStatus::Unverified => {
            if let Some(t) = c.metadata.as_ref().and_then(|m| m.file_time) {
                let when = if t >= 0 {
                    UNIX_EPOCH + Duration::from_secs(t as u64)
                } else {
                    UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
                };
                // A date the file system cannot store is not worth failing the decode for.
                let _ = out.file().set_modified(when);
            }
            Some(out.commit(opts.overwrite)?)
        }
        // Nothing of the data found: no file of zeros.
        DecodeStatus::Incomplete if opts.keep_incomplete && assembly.valid_data_blocks > 0 => {
            keep_incomplete(out, c.metadata.as_ref().and_then(|m| m.file_size))?
        }
        // Dropping `out` removes the partial file.
        DecodeStatus::Incomplete | DecodeStatus::HashMismatch => None,
    };
    Ok(DecodeReport {
        info,
        status,
        output,
        assembly,
        notes,
    })
}

/// How a decode ended, and the notes for the user, from what reassembly found.
fn judge(c: &Container, assembly: &Assembly) -> (DecodeStatus, Vec<String>) {
    let mut notes = c.geometry_notes.clone();
    if assembly.unreadable_bytes > 0 {
        notes.push(format!(
            "{} byte(s) of the container could not be read (disk errors; bytes {}): the {} block(s) there were treated as missing",
            assembly.unreadable_bytes,
            list_ranges(&assembly.unreadable, 5),
            assembly.unreadable_blocks
        ));
    }
    if assembly.repaired_sets > 0 {
        notes.push(format!(
            "{} block set(s) were rebuilt with Reed–Solomon while decoding ({} block(s)); the container itself was not changed: `seqbox repair` fixes it",
            assembly.repaired_sets,
            assembly.repaired.iter().map(|s| s.blocks.len()).sum::<usize>()
        ));
    }
    let status = if !assembly.complete() {
        DecodeStatus::Incomplete
    } else {
        match &assembly.hash {
            HashCheck::Match { .. } => DecodeStatus::Verified,
            HashCheck::Mismatch { .. } => DecodeStatus::HashMismatch,
            HashCheck::NotStored => {
                notes.push(if c.metadata.is_none() {
                    "no metadata block: the size is not known, so the last block's 0x1A padding is kept, and there is no hash to check".into()
                } else {
                    "the container stores no hash; only the block checksums were verified".into()
                });
                DecodeStatus::Unverified
            }
            HashCheck::UnknownKind { .. } => {
                notes.push(
                    "the stored hash is of an unknown kind; only the block checksums were verified"
                        .into(),
                );
                DecodeStatus::Unverified
            }
            HashCheck::NotChecked => DecodeStatus::Incomplete,
        }
    };
    if assembly.damaged_blocks > 0 && status == DecodeStatus::Verified {
        notes.push(format!(
            "{} damaged block(s) were skipped; every data block had a good copy",
            assembly.damaged_blocks
        ));
    }
    (status, notes)
}

/// Decode into an unnamed temporary file, then copy it to standard output when verified
/// (nothing is written there otherwise: the report says why).
fn to_stdout(
    mut c: Container,
    info: InfoReport,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<DecodeReport, Error> {
    let tmp_dir = std::env::temp_dir();
    let mut tmp = tempfile::tempfile_in(&tmp_dir).map_err(Error::write(&tmp_dir))?;
    let assembly = assemble_partial(
        &mut c,
        Some((&mut tmp, &tmp_dir)),
        false,
        Stage::Decoding,
        cancel,
        progress,
    )?;
    let (status, notes) = judge(&c, &assembly);
    let output = match status {
        DecodeStatus::Verified | DecodeStatus::Unverified => {
            let out = Path::new(STDOUT);
            tmp.seek(SeekFrom::Start(0))
                .map_err(Error::read(&tmp_dir))?;
            let mut stdout = std::io::stdout().lock();
            std::io::copy(&mut tmp, &mut stdout)
                .and_then(|_| stdout.flush())
                .map_err(Error::write(out))?;
            Some(out.to_path_buf())
        }
        DecodeStatus::Incomplete | DecodeStatus::HashMismatch => None,
    };
    Ok(DecodeReport {
        info,
        status,
        output,
        assembly,
        notes,
    })
}

/// Keep an incomplete output as `NAME (incomplete).ext` (never under the name of the whole
/// file), its holes and a missing tail read as zeros.
fn keep_incomplete(mut out: AtomicFile, size: Option<u64>) -> Result<Option<PathBuf>, Error> {
    let target = incomplete_name(out.target());
    if let Some(n) = size {
        let f = out.file();
        if f.metadata().map(|m| m.len() < n).unwrap_or(false) {
            f.set_len(n).map_err(Error::write(&target))?;
        }
    }
    out.retarget(&target, true);
    Ok(Some(out.commit(false)?))
}

/// Where the output goes, with a note when the stored name had to be shortened to fit the
/// file system (a path the user gave is taken as it is).
fn output_path(opts: &DecodeOpts, c: &Container) -> (PathBuf, Option<String>) {
    let name = output_name(c);
    let path = opts.output.resolve(&opts.container, &name);
    if matches!(opts.output, Target::File(_)) {
        return (path, None);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let (fitted, note) = fit_name(dir, &name);
    (dir.join(fitted), note)
}

/// The default output name: the stored file name made safe, else the container's name
/// without its `.sbx` extension.
fn output_name(c: &Container) -> String {
    if let Some(n) = c
        .metadata
        .as_ref()
        .and_then(|m| m.file_name.as_deref())
        .and_then(safe_file_name)
    {
        return n;
    }
    fallback_name(&c.path)
}

fn fallback_name(container: &Path) -> String {
    let name = file_name_of(container);
    for ext in [".sbx", ".ecsbx", ".SBX"] {
        if let Some(stem) = name.strip_suffix(ext)
            && !stem.is_empty()
        {
            return stem.to_string();
        }
    }
    format!("{name}.out")
}
