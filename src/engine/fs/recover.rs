//! Recovering files from a snapshot: check the image is the same file system, then for every
//! selected file read each block, compare its digest with the snapshot's — intact, changed or
//! unreadable — write intact blocks, zero-fill the rest, optionally look for moved copies of
//! the missing blocks across the whole image, and call a file identical only when its final
//! SHA-256 equals the snapshot's. The image is opened read-only; outputs are written through
//! `AtomicFile` under sanitised names inside the output folder, never replacing a file unless
//! asked.

pub use super::Now;
pub use super::outpath::target_for;
use super::outpath::{make_parents, out_text, refuse_same_device};
use super::snapshot::block_digest;
use super::store::{DIGEST_LEN, ExtentRow, InodeRow, SnapshotInfo, Snapshots};
use super::verdict::finish;
use super::{Extent, ExtentKind, Problem, Volume, display_path, path_text};
use crate::engine::io::same_file;
use crate::engine::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use crate::engine::output::AtomicFile;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct RecoverOpts {
    pub snapshot: PathBuf,
    /// `None`: the latest snapshot in the database.
    pub snapshot_id: Option<i64>,
    pub image: PathBuf,
    /// `None`: the snapshot's partition offset, else the one partition with a file system.
    pub offset: Option<u64>,
    /// Files or folders (absolute paths in the snapshot); empty: everything.
    pub paths: Vec<Vec<u8>>,
    pub out_dir: PathBuf,
    /// Scan the whole image for moved copies of blocks that changed in place.
    pub search_moved: bool,
    /// Replace existing files in `out_dir` (otherwise new names are made unique).
    pub overwrite: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The output's SHA-256 equals the snapshot's.
    Identical,
    /// Some bytes came back; `damaged` lists the rest (zero-filled).
    Partial {
        percent_intact: f64,
    },
    NotRecoverable,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileVerdict {
    /// The path in the snapshot (raw bytes; JSON shows it with `\xNN` for non-UTF-8 bytes).
    #[serde(serialize_with = "path_text")]
    pub path: Vec<u8>,
    /// Where it was written (`None` when nothing could be).
    #[serde(serialize_with = "out_text")]
    pub out_path: Option<PathBuf>,
    pub size: u64,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Damaged byte ranges of the file, start inclusive, end exclusive (zero-filled).
    pub damaged: Vec<(u64, u64)>,
    /// The part of `damaged` that could not be read (disk errors).
    pub unreadable: Vec<(u64, u64)>,
    /// Bytes whose block changed since the snapshot (overwritten or erased).
    pub changed_bytes: u64,
    /// Bytes that could not be read (I/O errors).
    pub unreadable_bytes: u64,
    /// Bytes found at a new place on the disk (`search_moved`).
    pub moved_bytes: u64,
    /// What the file is in the file system now: the same, edited, or deleted since the
    /// snapshot.
    pub now: Now,
    /// What happened, in plain words.
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecoverReport {
    pub snapshot_id: i64,
    pub out_dir: PathBuf,
    pub files: Vec<FileVerdict>,
    pub identical: u64,
    pub partial: u64,
    pub not_recoverable: u64,
    /// Selected paths that are not in the snapshot.
    pub not_found: Vec<String>,
    pub problems: Vec<Problem>,
}

impl RecoverReport {
    /// Every selected file came back identical.
    pub fn success(&self) -> bool {
        !self.files.is_empty()
            && self.not_found.is_empty()
            && self.files.iter().all(|f| f.verdict == Verdict::Identical)
    }
}

pub const DIFFERENT_DISK: &str = "This snapshot belongs to a different disk.";
const CHUNK: u64 = 4 << 20;

/// Open the image at the snapshot's file system, or refuse.
fn open_matching(opts: &RecoverOpts, s: &SnapshotInfo) -> Result<Box<dyn Volume>, Error> {
    let matches = |fs: &dyn Volume| {
        let i = fs.info();
        i.uuid == s.fs_uuid
            && i.block_size == s.block_size
            && i.blocks_count == s.blocks_count
            && i.fs_type.is_fat() == s.fs_type.is_fat()
            && i.block_origin.wrapping_sub(i.offset)
                == s.block_origin.wrapping_sub(s.partition_offset)
    };
    let tries: Vec<Option<u64>> = match opts.offset {
        Some(o) => vec![Some(o)],
        None => vec![Some(s.partition_offset), None],
    };
    let mut last = None;
    for t in tries {
        match super::open(&opts.image, t) {
            Ok(fs) if matches(fs.as_ref()) => return Ok(fs),
            Ok(_) => last = Some(Error::Invalid(DIFFERENT_DISK.into())),
            Err(e) => last = last.or(Some(e)),
        }
    }
    Err(last.unwrap_or_else(|| Error::Invalid(DIFFERENT_DISK.into())))
}

/// Per block of a file, what recovery found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Intact,
    Changed {
        erased: bool,
    },
    Unreadable,
    /// The snapshot holds no digest for it (read error while snapshotting).
    Unknown,
}

/// Why a block of a file did not come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loss {
    /// Its digest no longer matches: overwritten or erased.
    Changed,
    /// It could not be read (disk errors).
    Unreadable,
    /// The snapshot has no digest for it: it cannot be verified.
    Unknown,
}

/// A file being recovered: what is still missing after the in-place pass.
pub(super) struct Work {
    pub(super) verdict: FileVerdict,
    /// Missing full blocks: (digest, logical block).
    missing: Vec<([u8; DIGEST_LEN], u64)>,
    pub(super) sha256: Option<Vec<u8>>,
    /// Damaged logical blocks and why.
    pub(super) damaged_blocks: Vec<(u64, Loss)>,
    pub(super) holes: bool,
}

pub fn run(
    opts: &RecoverOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<RecoverReport, Error> {
    let db = Snapshots::open(&opts.snapshot)?;
    let info = db.info(opts.snapshot_id)?;
    if !info.fingerprinted {
        return Err(Error::Invalid(
            "This snapshot was taken without fingerprints (map only), so recovered files could not be verified; take a fingerprinted snapshot.".into(),
        ));
    }
    let vol = open_matching(opts, &info)?;
    let fs = vol.as_ref();
    std::fs::create_dir_all(&opts.out_dir).map_err(Error::write(&opts.out_dir))?;
    refuse_same_device(&opts.image, &opts.out_dir)?;
    let mut entries = Vec::new();
    let mut not_found = Vec::new();
    if opts.paths.is_empty() {
        entries = db.files(info.id, b"")?;
    } else {
        for p in &opts.paths {
            let found = db.files(info.id, p)?;
            if found.is_empty() {
                not_found.push(display_path(p));
            }
            entries.extend(found);
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|a, b| a.path == b.path);
    }
    let bs = info.block_size;
    let total: u64 = entries.iter().map(|e| e.size).sum::<u64>()
        + if opts.search_moved {
            fs.info().blocks_count * bs
        } else {
            0
        };
    let mut p = Progress {
        stage: Stage::Recovering,
        bytes_done: 0,
        bytes_total: total,
        items: 0,
    };
    let mut throttle = Throttle::default();
    throttle.report(progress, p);
    let mut problems = Vec::new();
    let mut works = Vec::new();
    for e in &entries {
        cancel.check()?;
        let row = db
            .inode(info.id, e.ino)?
            .ok_or_else(|| Error::Invalid(format!("inode {} missing from the snapshot", e.ino)))?;
        let extents = db.extents(info.id, e.ino)?;
        let w = recover_file(
            opts,
            fs,
            &e.path,
            &row,
            &extents,
            &mut problems,
            cancel,
            &mut |n| {
                p.bytes_done += n;
                throttle.report(progress, p);
            },
        )?;
        p.items += 1;
        works.push(w);
    }
    if opts.search_moved {
        search_moved(fs, &mut works, cancel, &mut |n| {
            p.bytes_done += n;
            throttle.report(progress, p);
        })?;
    }
    let mut files = Vec::new();
    for mut w in works {
        finish(&mut w, bs, opts.overwrite)?;
        files.push(w.verdict);
    }
    progress(p);
    let count = |f: fn(&Verdict) -> bool| files.iter().filter(|v| f(&v.verdict)).count() as u64;
    Ok(RecoverReport {
        snapshot_id: info.id,
        out_dir: opts.out_dir.clone(),
        identical: count(|v| *v == Verdict::Identical),
        partial: count(|v| matches!(v, Verdict::Partial { .. })),
        not_recoverable: count(|v| *v == Verdict::NotRecoverable),
        files,
        not_found,
        problems,
    })
}

/// Pass 1 for one path: read, verify and write every block in place.
#[allow(clippy::too_many_arguments)]
fn recover_file(
    opts: &RecoverOpts,
    fs: &dyn Volume,
    path: &[u8],
    row: &InodeRow,
    extents: &[ExtentRow],
    problems: &mut Vec<Problem>,
    cancel: &CancelFlag,
    advance: &mut dyn FnMut(u64),
) -> Result<Work, Error> {
    let bs = fs.info().block_size;
    let size = row.size;
    let (now, live) = fs.now(path, row);
    let mut w = Work {
        verdict: FileVerdict {
            path: path.to_vec(),
            out_path: None,
            size,
            verdict: Verdict::NotRecoverable,
            damaged: Vec::new(),
            unreadable: Vec::new(),
            changed_bytes: 0,
            unreadable_bytes: 0,
            moved_bytes: 0,
            now,
            reasons: Vec::new(),
        },
        missing: Vec::new(),
        sha256: row.sha256.clone(),
        damaged_blocks: Vec::new(),
        holes: false,
    };
    let Some(target) = target_for(&opts.out_dir, path) else {
        w.verdict
            .reasons
            .push("The name cannot be used in the output folder.".into());
        return Ok(w);
    };
    if let Err(e) = make_parents(&opts.out_dir, &target) {
        w.verdict.reasons.push(e);
        return Ok(w);
    }
    if target.symlink_metadata().is_ok() && same_file(&target, &opts.image) {
        return Err(Error::Invalid(format!(
            "refusing to write over the image {}",
            opts.image.display()
        )));
    }
    // Without overwriting, a name another job takes meanwhile means the next free one.
    let mut out = if opts.overwrite {
        AtomicFile::create(&target, true)?
    } else {
        AtomicFile::create_unique(&target)?
    };
    let target = out.target().to_path_buf();
    out.file().set_len(size).map_err(Error::write(&target))?;
    if let Some(data) = &row.inline_data {
        out.file().write_all(data).map_err(Error::write(&target))?;
        w.verdict
            .reasons
            .push("Stored in the snapshot itself (a small file): always recoverable.".into());
        w.verdict.out_path = Some(out.commit(opts.overwrite)?);
        return Ok(w);
    }
    w.verdict.reasons.extend(fs.file_reasons(row));
    match w.verdict.now {
        Now::Deleted => w
            .verdict
            .reasons
            .push("Deleted since the snapshot: this is the snapshot's copy.".into()),
        Now::Changed => w.verdict.reasons.push(
            "The file was changed after the snapshot: this is the snapshot's version; \
             the current one is still on the disk."
                .into(),
        ),
        Now::Same => {}
    }
    // Blocks the file maps now, when it is still there: those are not "reused".
    let mut live: Vec<Extent> = live;
    live.sort_by_key(|r| r.physical);
    let owned_now = |b: u64| {
        let k = live.partition_point(|r| r.physical <= b);
        k > 0 && b < live[k - 1].physical + live[k - 1].len
    };
    let mut covered = 0u64;
    let (mut reused_intact, mut erased, mut unknown) = (0u64, 0u64, 0u64);
    let mut compressed = 0u64;
    let mut buf = Vec::new();
    for e in extents {
        covered += e.length;
        if e.unwritten {
            w.holes = true;
            continue;
        }
        if e.kind == ExtentKind::Compressed {
            // Its blocks hold compressed bytes: they cannot be written out one for one.
            for l in e.logical..e.logical + e.length {
                if l * bs < size {
                    w.damaged_blocks.push((l, Loss::Unknown));
                }
            }
            compressed += 1;
            continue;
        }
        let mut done = 0;
        while done < e.length {
            cancel.check()?;
            let n = (e.length - done).min((CHUNK / bs).max(1));
            buf.resize((n * bs) as usize, 0);
            let whole = fs.read_blocks(e.physical + done, &mut buf).is_ok();
            for k in 0..n {
                let logical = e.logical + done + k;
                let phys = e.physical + done + k;
                let at = logical * bs;
                if at >= size {
                    break;
                }
                let len = (size - at).min(bs) as usize;
                let block = &mut buf[(k * bs) as usize..((k + 1) * bs) as usize];
                let readable = whole || fs.read_blocks(phys, block).is_ok();
                let want: Option<[u8; DIGEST_LEN]> = e
                    .digests
                    .get(((done + k) as usize) * DIGEST_LEN..((done + k) as usize + 1) * DIGEST_LEN)
                    .map(|d| d.try_into().expect("16 bytes"));
                let state = match (readable, want) {
                    (false, _) => State::Unreadable,
                    (true, None) => State::Unknown,
                    (true, Some(d)) if block_digest(&block[..len]) == d => State::Intact,
                    (true, Some(_)) => State::Changed {
                        erased: block[..len].iter().all(|&b| b == 0),
                    },
                };
                match state {
                    State::Intact => {
                        out.file()
                            .seek(SeekFrom::Start(at))
                            .map_err(Error::write(&target))?;
                        out.file()
                            .write_all(&block[..len])
                            .map_err(Error::write(&target))?;
                        if fs.block_in_use(phys) == Some(true) && !owned_now(phys) {
                            reused_intact += 1;
                        }
                    }
                    State::Changed { erased: z } => {
                        w.verdict.changed_bytes += len as u64;
                        erased += u64::from(z);
                        if let Some(d) = want
                            && len as u64 == bs
                        {
                            w.missing.push((d, logical));
                        }
                        w.damaged_blocks.push((logical, Loss::Changed));
                    }
                    State::Unreadable => {
                        w.verdict.unreadable_bytes += len as u64;
                        if let Some(d) = want
                            && len as u64 == bs
                        {
                            w.missing.push((d, logical));
                        }
                        w.damaged_blocks.push((logical, Loss::Unreadable));
                    }
                    State::Unknown => {
                        unknown += 1;
                        w.damaged_blocks.push((logical, Loss::Unknown));
                    }
                }
            }
            advance(n * bs);
            done += n;
        }
    }
    if covered * bs < size {
        if fs.gaps_are_holes() {
            w.holes = true;
        } else {
            w.verdict.reasons.push(
                "The end of this file had no clusters when the snapshot was taken, so it cannot be verified (restored as zeros)."
                    .into(),
            );
        }
    }
    if row.sha256.is_none() {
        problems.push(Problem::new(
            row.ino,
            "the snapshot has no SHA-256 for this file",
            display_path(path),
        ));
    }
    if w.verdict.changed_bytes > 0 && erased > 0 {
        w.verdict
            .reasons
            .push("The drive erased this area; it cannot be read back from this disk.".into());
    }
    if unknown > 0 {
        w.verdict
            .reasons
            .push("Part of this file could not be read when the snapshot was taken, so it cannot be verified.".into());
    }
    if compressed > 0 {
        w.verdict.reasons.push(
            "This file is compressed by NTFS: its clusters were recorded as they lie on the disk, \
             but they cannot be decompressed here, so it cannot be written out or verified."
                .into(),
        );
    }
    if reused_intact > 0 {
        w.verdict
            .reasons
            .push("Intact, but the disk is reusing this space — recover it now.".into());
    }
    w.verdict.out_path = Some(out.commit(opts.overwrite)?);
    Ok(w)
}

/// Pass 2: read the whole image block by block, looking for the digests of missing blocks
/// (all-zero blocks and digests wanted more than once are not matched: they prove nothing).
fn search_moved(
    fs: &dyn Volume,
    works: &mut [Work],
    cancel: &CancelFlag,
    advance: &mut dyn FnMut(u64),
) -> Result<(), Error> {
    let bs = fs.info().block_size;
    let blocks_count = fs.info().blocks_count;
    let zero = block_digest(&vec![0u8; bs as usize]);
    let mut index: HashMap<[u8; DIGEST_LEN], Option<(usize, u64)>> = HashMap::new();
    for (i, w) in works.iter().enumerate() {
        for &(d, logical) in &w.missing {
            if d == zero {
                continue;
            }
            index
                .entry(d)
                .and_modify(|v| *v = None)
                .or_insert(Some((i, logical)));
        }
    }
    index.retain(|_, v| v.is_some());
    if index.is_empty() {
        return Ok(());
    }
    let mut found: HashMap<usize, Vec<(u64, Vec<u8>)>> = HashMap::new();
    let mut buf = Vec::new();
    let mut b = fs.info().first_data_block;
    while b < blocks_count {
        cancel.check()?;
        let n = (blocks_count - b).min((CHUNK / bs).max(1));
        buf.resize((n * bs) as usize, 0);
        if fs.read_blocks(b, &mut buf).is_ok() {
            for (k, block) in buf.chunks(bs as usize).enumerate() {
                if let Some(Some((i, logical))) = index.remove(&block_digest(block)) {
                    found.entry(i).or_default().push((logical, block.to_vec()));
                }
                let _ = k;
            }
        }
        advance(n * bs);
        b += n;
    }
    for (i, blocks) in found {
        let w = &mut works[i];
        let Some(path) = w.verdict.out_path.clone() else {
            continue;
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(Error::write(&path))?;
        for (logical, data) in blocks {
            f.seek(SeekFrom::Start(logical * bs))
                .map_err(Error::write(&path))?;
            f.write_all(&data).map_err(Error::write(&path))?;
            w.damaged_blocks.retain(|&(l, _)| l != logical);
            w.verdict.moved_bytes += bs;
        }
        w.verdict
            .reasons
            .push("Recovered; some pieces were found at a new place on the disk.".into());
    }
    Ok(())
}
