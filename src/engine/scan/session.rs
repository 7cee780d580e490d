//! One scan over its sources, in turn: what each source is (identity.rs) and whether the
//! catalogue already knows it (resume, moved, changed, new), the pieces found committed to
//! the catalogue at fixed points, a check at the end that the source did not change while it
//! was read, and the report. Never writes to a source.

use super::super::catalog::{
    COMMIT_SECTORS, Catalog, Findings, SECTOR, SourceKey, opt_path_text, path_text,
};
use super::super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::{MAX_BLOCK, Piece, identity, scan_source};
use crate::engine::granted;
use crate::format::block::Uid;
use crate::format::password;
use serde::Serialize;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Findings are committed to the catalogue whenever the scan passes a multiple of this many
/// bytes (the unit a killed scan restarts from), so a resumed scan commits where an
/// uninterrupted one would.
const COMMIT: u64 = COMMIT_SECTORS * SECTOR;

#[derive(Clone, Debug, Default)]
pub struct ScanOpts {
    pub sources: Vec<PathBuf>,
    pub catalog: PathBuf,
    /// Password of SeqBox v1–3 containers to look for (their blocks are XORed). Plain blocks
    /// are found as well.
    pub password: Option<String>,
    /// Scan only bytes `from..to` of every source.
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// Record only blocks of these containers (all when empty).
    pub uids: Vec<Uid>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    #[serde(serialize_with = "path_text")]
    pub path: PathBuf,
    pub size: u64,
    /// Where this run started: later than `from` when it resumed an earlier scan.
    pub started_at: u64,
    pub resumed: bool,
    /// An earlier scan into this catalogue already read this source to the end and it has not
    /// changed since: nothing was read again (its findings are already in the catalogue).
    pub already_scanned: bool,
    pub scanned_to: u64,
    pub blocks: u64,
    pub metadata_blocks: u64,
    /// Blocks that fail their CRC and belonged to a container (its UID is seen in valid
    /// blocks of the catalogue, or they lie in a run of its blocks). Other blocks that only
    /// look like SBX by chance are other data, not counted.
    pub damaged_blocks: u64,
    pub unreadable_sectors: u64,
    /// The catalogue had this source, but it changed since (another size, time or sampled
    /// content): its old findings were dropped and it was scanned afresh.
    pub changed_since_last_scan: bool,
    /// The source's size or content changed between the start and the end of this scan:
    /// what was found may mix old and new contents, and the catalogue does not count the
    /// scan as complete (the next scan starts afresh).
    pub changed_during_scan: bool,
    /// The path the catalogue knew this very file under (it was moved or renamed).
    #[serde(serialize_with = "opt_path_text")]
    pub moved_from: Option<PathBuf>,
    /// What happened to this source and why, in plain words.
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScanReport {
    #[serde(serialize_with = "path_text")]
    pub catalog: PathBuf,
    pub sources: Vec<SourceReport>,
    /// Containers the catalogue now knows (from every scan into it).
    pub containers: usize,
}

/// Progress over all sources of a scan.
struct Meter<'a> {
    progress: ProgressFn<'a>,
    throttle: Throttle,
    total: u64,
    /// Bytes of the sources scanned before this one.
    done_before: u64,
    found: u64,
}

impl Meter<'_> {
    fn report(&mut self, done: u64) {
        let p = Progress {
            stage: Stage::Scanning,
            bytes_done: self.done_before + done,
            bytes_total: self.total,
            items: self.found,
        };
        self.throttle.report(self.progress, p);
    }
}

pub fn run(
    opts: &ScanOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<ScanReport, Error> {
    if opts.sources.is_empty() {
        return Err(Error::Invalid("no source to scan".into()));
    }
    // Every source must open before the catalogue is created: a typo leaves nothing behind.
    let mut sizes = Vec::new();
    for path in &opts.sources {
        let mut f = granted::open(path).map_err(Error::read(path))?;
        sizes.push(f.seek(SeekFrom::End(0)).map_err(Error::read(path))?);
    }
    let mut catalog = Catalog::open(&opts.catalog)?;
    let keystream = opts
        .password
        .as_deref()
        .map(|p| password::keystream(p.as_bytes(), MAX_BLOCK));
    let mut meter = Meter {
        progress,
        throttle: Throttle::default(),
        total: sizes
            .iter()
            .map(|&s| range(opts, s).1 - range(opts, s).0)
            .sum(),
        done_before: 0,
        found: 0,
    };
    let mut reports = Vec::new();
    let mut ids = Vec::new();
    for (path, &size) in opts.sources.iter().zip(&sizes) {
        let (report, id) = scan_one(
            &mut catalog,
            path,
            size,
            opts,
            keystream.as_deref(),
            cancel,
            &mut meter,
        )?;
        let (from, end) = range(opts, size);
        meter.done_before += end - from;
        reports.push(report);
        ids.push(id);
    }
    // A later source can show that an earlier one's damaged-looking blocks were a
    // container's: count them when every source is settled.
    for (report, id) in reports.iter_mut().zip(ids) {
        report.damaged_blocks = catalog.damaged_count(id)?;
    }
    progress(Progress {
        stage: Stage::Scanning,
        bytes_done: meter.total,
        bytes_total: meter.total,
        items: meter.found,
    });
    Ok(ScanReport {
        catalog: opts.catalog.clone(),
        sources: reports,
        containers: catalog.container_count()?,
    })
}

/// The byte range `from..end` of a source of `size` bytes that the options ask for.
fn range(opts: &ScanOpts, size: u64) -> (u64, u64) {
    let from = opts.from.unwrap_or(0).min(size);
    (from, opts.to.unwrap_or(size).min(size).max(from))
}

/// Scan one source into the catalogue: decide whether it resumes, is new or changed, scan
/// what is left, and check at the end that it did not change meanwhile.
fn scan_one(
    catalog: &mut Catalog,
    path: &Path,
    size: u64,
    opts: &ScanOpts,
    keystream: Option<&[u8]>,
    cancel: &CancelFlag,
    meter: &mut Meter<'_>,
) -> Result<(SourceReport, i64), Error> {
    let (from, end) = range(opts, size);
    let file = granted::open(path).map_err(Error::read(path))?;
    let key = identity::take(&file, size);
    // Absolute, so that the same name given from another folder is not taken for this file.
    let abs = std::path::absolute(path).map_err(Error::read(path))?;
    let st = catalog.start_source(&abs, &key, from, end)?;
    let across = catalog.blocks_across(st.id, st.start)?;
    let mut report = SourceReport {
        path: path.to_path_buf(),
        size,
        started_at: st.start,
        resumed: st.start > from,
        already_scanned: end > from && st.start >= end,
        scanned_to: st.start,
        blocks: 0,
        metadata_blocks: 0,
        damaged_blocks: 0,
        unreadable_sectors: 0,
        changed_since_last_scan: st.changed_since_last_scan,
        changed_during_scan: false,
        moved_from: st.moved_from,
        notes: st.notes,
    };
    if report.already_scanned {
        report.notes.push(
            "already scanned completely into this catalogue, and unchanged since: nothing to \
             read again"
                .into(),
        );
    }
    let handle = file.try_clone().map_err(Error::read(path))?;
    let cache = CacheAdvice::new(&handle, size);
    let mut pending: Option<Piece> = None;
    let mut committed = st.start;
    // A file system on the source: its structures become their own class in the map.
    let structures = crate::engine::fs::owners::structure_sectors(path);
    let mut commit = |catalog: &mut Catalog, p: Piece| -> Result<(), Error> {
        let runs = super::mark_structures(&p.runs, &structures);
        let found = Findings {
            blocks: &p.blocks,
            metas: &p.metas,
            damaged: &p.damaged,
            runs: &runs,
        };
        catalog.write_batch(st.id, &found, p.end)?;
        report.scanned_to = p.end;
        report.blocks += p.blocks.len() as u64;
        report.metadata_blocks += p.metas.len() as u64;
        report.unreadable_sectors += p.unreadable;
        Ok(())
    };
    let scanned = scan_source(
        Box::new(file),
        st.start,
        end,
        keystream,
        &opts.uids,
        &across,
        cancel,
        |piece| {
            meter.found += piece.blocks.len() as u64;
            let end_of_piece = piece.end;
            match pending.as_mut() {
                Some(p) => p.absorb(piece),
                None => pending = Some(piece),
            }
            if end_of_piece / COMMIT > committed / COMMIT || end_of_piece >= end {
                commit(catalog, pending.take().expect("just filled"))?;
                committed = end_of_piece;
                cache.read_up_to(end_of_piece);
            }
            meter.report(end_of_piece - from);
            Ok(())
        },
    );
    // Keep what was scanned, also when cancelled: the next scan resumes after it.
    if let Some(p) = pending.take() {
        commit(catalog, p)?;
    }
    if let Err(e) = scanned {
        catalog.settle_damaged()?;
        return Err(e);
    }
    let change = changed_while_read(&handle, &abs, &key);
    report.changed_during_scan = change.is_some();
    report.notes.extend(change);
    catalog.finish_source(st.id, !report.changed_during_scan)?;
    Ok((report, st.id))
}

/// What a scan tells the kernel of how it reads a large source: sequentially (more
/// read-ahead), and that what it has read is not needed again (dropped behind the read
/// position), so scanning a disk does not push the desktop's own files out of the page
/// cache. Small sources are left alone: they cost the cache little, and a recovery right
/// after the scan reads them again.
struct CacheAdvice<'a> {
    file: Option<&'a File>,
    /// Everything before this was advised dropped already: each call advises only what is
    /// new (the kernel walks the whole range it is given, every time).
    dropped_to: std::cell::Cell<u64>,
}

/// Sources smaller than this are not advised.
const ADVISE_FROM: u64 = 1 << 30;

impl<'a> CacheAdvice<'a> {
    fn new(file: &'a File, size: u64) -> Self {
        let file = (size >= ADVISE_FROM).then_some(file);
        if let Some(f) = file {
            advise(f, 0, 0, Advice::Sequential);
        }
        CacheAdvice {
            file,
            dropped_to: std::cell::Cell::new(0),
        }
    }

    /// The scan has read (and committed) everything before `at`.
    fn read_up_to(&self, at: u64) {
        if let Some(f) = self.file {
            // Keep the last commit's worth: a block across the commit point is read again.
            let behind = at.saturating_sub(COMMIT) / 4096 * 4096;
            let from = self.dropped_to.get();
            if behind > from {
                advise(f, from, behind - from, Advice::DontNeed);
                self.dropped_to.set(behind);
            }
        }
    }
}

enum Advice {
    Sequential,
    DontNeed,
}

/// posix_fadvise: advice only, so a failure (a pipe, an old kernel) changes nothing.
#[cfg(unix)]
fn advise(f: &File, from: u64, len: u64, advice: Advice) {
    use std::os::fd::AsRawFd;
    let advice = match advice {
        Advice::Sequential => libc::POSIX_FADV_SEQUENTIAL,
        Advice::DontNeed => libc::POSIX_FADV_DONTNEED,
    };
    if let (Ok(from), Ok(len)) = (libc::off_t::try_from(from), libc::off_t::try_from(len)) {
        // SAFETY: a valid open descriptor; the call only advises the kernel.
        unsafe { libc::posix_fadvise(f.as_raw_fd(), from, len, advice) };
    }
}

#[cfg(not(unix))]
fn advise(_: &File, _: u64, _: u64, _: Advice) {}

/// Why the source read through `handle` (at `path`) is no longer what `key` describes, if
/// it is not: it grew or shrank, was written, or another file took its name.
fn changed_while_read(handle: &File, path: &Path, key: &SourceKey) -> Option<String> {
    let now = identity::take(handle, current_size(handle, key));
    let how = if now.size != key.size {
        format!("{} bytes at the start, {} at the end", key.size, now.size)
    } else if now != *key {
        "its content or time changed".to_string()
    } else if !still_there(path, key) {
        "another file took its name".to_string()
    } else {
        return None;
    };
    Some(format!(
        "the source changed while it was scanned ({how}): what was found may mix old and new \
         contents, so the catalogue does not count this scan as complete; scan it again when \
         nothing writes to it"
    ))
}

/// The size of an open source now.
fn current_size(f: &File, key: &SourceKey) -> u64 {
    let mut f = f;
    match f.metadata() {
        Ok(m) if m.is_file() => m.len(),
        // A device's size is where its end is.
        _ => f.seek(SeekFrom::End(0)).unwrap_or(key.size),
    }
}

/// Whether `path` still names the file that was scanned (it was not replaced meanwhile).
fn still_there(path: &Path, key: &SourceKey) -> bool {
    match granted::open(path) {
        Ok(f) => identity::same_file(&f, key),
        Err(_) => false,
    }
}
