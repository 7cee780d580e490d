//! Repair an RS container: rebuild every block set that Reed–Solomon can complete and every
//! bad metadata copy, either into a repaired copy (the default, the container untouched) or
//! in place, rewriting only the blocks that were absent or damaged.

mod mend;

use super::assemble::{Assembly, LIST_LIMIT, SetReport, assemble, assemble_hooked};
use super::container::Container;
use super::info::{InfoReport, describe};
use super::io::same_file;
use super::job::{CancelFlag, Error, ProgressFn, Stage};
use super::output::AtomicFile;
use super::source::ByteRange;
use crate::format::block::{self, BlockState};
use crate::format::rs::Codec;
use mend::Mender;
use serde::Serialize;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct RepairOpts {
    pub container: PathBuf,
    /// Where the repaired copy goes (default `NAME.repaired.EXT` beside the container).
    pub output: Option<PathBuf>,
    /// Rewrite the damaged blocks of the container itself.
    pub in_place: bool,
    pub burst: Option<u32>,
    pub overwrite: bool,
}

impl RepairOpts {
    pub fn new(container: impl Into<PathBuf>) -> RepairOpts {
        RepairOpts {
            container: container.into(),
            output: None,
            in_place: false,
            burst: None,
            overwrite: false,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RepairReport {
    pub info: InfoReport,
    /// The file that now holds the repaired container.
    pub output: PathBuf,
    pub in_place: bool,
    /// Block sets rebuilt, with the blocks written (sequence numbers and byte offsets); the
    /// first [`LIST_LIMIT`] of `repaired_sets`.
    pub repaired: Vec<SetReport>,
    pub repaired_sets: u64,
    /// Block sets with more absent blocks than parity: those blocks stay lost. The first
    /// [`LIST_LIMIT`] of `failed_sets`.
    pub failed: Vec<SetReport>,
    pub failed_sets: u64,
    /// Byte offsets where a metadata copy was rewritten.
    pub metadata_repaired: Vec<u64>,
    pub blocks_repaired: u64,
    /// Absent blocks of the failed sets (all of them, listed or not).
    pub blocks_failed: u64,
    /// The check the repair is based on: missing ranges, the hash verdict, damaged blocks.
    pub assembly: Assembly,
    /// Bytes of the container that could not be read (I/O errors): their blocks were
    /// treated as absent and rebuilt where their sets allow; a repaired copy holds zeros
    /// wherever no block was rebuilt over them.
    pub unreadable_bytes: u64,
    /// Where, as byte ranges of the container (merged, the first 1000).
    pub unreadable: Vec<ByteRange>,
}

impl RepairReport {
    /// Every byte of the file is safe (see `words::repair`).
    pub fn success(&self) -> bool {
        super::words::repair(self).verdict.is_safe()
    }
}

pub fn run(
    opts: &RepairOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<RepairReport, Error> {
    let mut c = Container::open(&opts.container, None, opts.burst)?;
    if !c.layout.is_rs() {
        return Err(Error::Invalid(format!(
            "{}: version {} has no parity, so there is nothing to repair from (versions 17–19 have)",
            c.path.display(),
            c.version
        )));
    }
    let info = describe(&c);
    let Some(meta_offset) = c.metadata_offset else {
        return Err(Error::Invalid(format!(
            "{}: no metadata block survives; repair needs one (decode can still recover the data)",
            c.path.display()
        )));
    };
    let codec = Codec::new(c.layout.data, c.layout.parity).map_err(Error::Invalid)?;
    // The target: a repaired copy, written while the container is checked, or the
    // container itself, where only the damaged blocks are written after the check.
    let mut copy: Option<AtomicFile> = None;
    let mut in_place: Option<File> = None;
    let mut mended = Mended::default();
    let mut fast_until = 0;
    let (assembly, target_path, unreadable) = if opts.in_place {
        let assembly = assemble(&mut c, None, Stage::Checking, cancel, progress)?;
        let f = File::options()
            .write(true)
            .open(&opts.container)
            .map_err(Error::write(&opts.container))?;
        in_place = Some(f);
        let unreadable = (assembly.unreadable_bytes, assembly.unreadable.clone());
        (assembly, opts.container.clone(), unreadable)
    } else {
        let out = opts
            .output
            .clone()
            .unwrap_or_else(|| default_output(&opts.container));
        if same_file(&out, &opts.container) {
            return Err(Error::Invalid(
                "the repaired copy cannot replace the container; use in-place repair".into(),
            ));
        }
        let mut f = AtomicFile::create(&out, opts.overwrite)?;
        let mut mender = Mender::new(f.file(), &out, cancel, &c, &codec)?;
        let assembly = assemble_hooked(&mut c, &mut mender, Stage::Checking, cancel, progress)?;
        mender.copy_to(&c, c.file_len)?;
        mender.finish()?;
        let broken = mender.broken;
        (mended, fast_until) = (mender.mended, mender.fast_until);
        let unreadable = if broken {
            // A read failed: copy the file again through the container's tolerant reader
            // (a failing disk still gives a copy) and rebuild every set block by block.
            (mended, fast_until) = (Mended::default(), 0);
            let file = f.file();
            file.set_len(0)
                .and_then(|_| file.seek(SeekFrom::Start(0)))
                .map_err(Error::write(&out))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            let unreadable = c.copy_raw(&mut w, &out, 1000, cancel)?;
            w.flush().map_err(Error::write(&out))?;
            unreadable
        } else {
            (0, Vec::new())
        };
        copy = Some(f);
        (assembly, out, unreadable)
    };
    let meta_block = c.read_block(meta_offset)?;
    let target: &mut File = match (&mut copy, &mut in_place) {
        (Some(f), _) => f.file(),
        (_, Some(f)) => f,
        _ => unreachable!("one target is set"),
    };

    let layout = c.layout;
    let bs = layout.version.block_size();
    let mut block = vec![0u8; bs];
    for &set in assembly
        .repairable_sets
        .iter()
        .filter(|&&s| s >= fast_until)
    {
        cancel.check()?;
        let mut shards: Vec<Option<Vec<u8>>> = Vec::with_capacity(layout.shards());
        for j in 0..layout.shards() {
            let seq = layout.seq_of(set, j).expect("a set the assembly saw");
            let b = c.read_block(c.slot_offset(layout.slot_of(seq)))?;
            shards.push(match block::classify(&b) {
                BlockState::Valid(h)
                    if h.seq == seq && h.uid == c.uid && h.version == c.version =>
                {
                    Some(b[16..].to_vec())
                }
                _ => None,
            });
        }
        let absent: Vec<usize> = (0..shards.len()).filter(|&j| shards[j].is_none()).collect();
        if absent.is_empty() || codec.reconstruct(&mut shards).is_err() {
            // Complete in place (its missing copy was elsewhere), or only rebuildable with
            // blocks outside their slots: nothing to write here.
            continue;
        }
        let mut report = SetReport {
            set,
            first_seq: layout.seq_of(set, 0).expect("seq"),
            last_seq: layout.seq_of(set, layout.shards() - 1).expect("seq"),
            blocks: Vec::new(),
        };
        for j in absent {
            let seq = layout.seq_of(set, j).expect("seq");
            let offset = c.slot_offset(layout.slot_of(seq));
            block[16..].copy_from_slice(shards[j].as_deref().expect("rebuilt"));
            block::write_header(&mut block, layout.version, &c.uid, seq);
            write_at(target, offset, &block, &target_path)?;
            report.blocks.push(super::assemble::AbsentBlock {
                seq,
                offset: Some(offset),
            });
        }
        mended.add(report);
    }
    let mut metadata_repaired = Vec::new();
    for k in layout.meta_slots() {
        let offset = c.slot_offset(k);
        let ok = matches!(
            block::classify(&c.read_block(offset)?),
            BlockState::Valid(h) if h.seq == 0 && h.uid == c.uid && h.version == c.version
        );
        if !ok {
            write_at(target, offset, &meta_block, &target_path)?;
            metadata_repaired.push(offset);
        }
    }
    target.flush().map_err(Error::write(&target_path))?;
    if let Some(f) = in_place.as_mut() {
        f.sync_all().map_err(Error::write(&target_path))?;
    }
    let output = match copy {
        Some(f) => f.commit(opts.overwrite)?,
        None => target_path,
    };
    Ok(RepairReport {
        info,
        output,
        in_place: opts.in_place,
        repaired: mended.repaired,
        repaired_sets: mended.sets,
        failed: assembly.failed.clone(),
        failed_sets: assembly.failed_sets,
        metadata_repaired,
        blocks_repaired: mended.blocks,
        blocks_failed: assembly.failed_blocks,
        unreadable_bytes: unreadable.0,
        unreadable: unreadable.1,
        assembly,
    })
}

/// The block sets rebuilt so far and the blocks written, in set order.
#[derive(Default)]
struct Mended {
    repaired: Vec<SetReport>,
    sets: u64,
    blocks: u64,
}

impl Mended {
    fn add(&mut self, set: SetReport) {
        self.sets += 1;
        self.blocks += set.blocks.len() as u64;
        if self.repaired.len() < LIST_LIMIT {
            self.repaired.push(set);
        }
    }
}

fn write_at(f: &mut File, offset: u64, bytes: &[u8], path: &Path) -> Result<(), Error> {
    f.seek(SeekFrom::Start(offset))
        .and_then(|_| f.write_all(bytes))
        .map_err(Error::write(path))
}

/// `NAME.repaired.EXT` beside the container.
fn default_output(container: &Path) -> PathBuf {
    let stem = container
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match container.extension() {
        Some(ext) => format!("{stem}.repaired.{}", ext.to_string_lossy()),
        None => format!("{stem}.repaired"),
    };
    container.with_file_name(name)
}
