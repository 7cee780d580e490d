//! `seqbox import`: turn the databases of the original SBXScan (`sbxscan.py`) into our
//! catalogue, so `recover` and the block map work without scanning a large disk again.
//!
//! The original's database lists, per source, where it found valid blocks (UID, sequence
//! number, offset). Its source names are relative to the folder its scan ran in (by default
//! it writes its database there): they are resolved against `base`, else each database's own
//! folder. Every source opens (read-only) before the catalogue is touched. Each listed block
//! is read from the image and checked — signature, CRC, UID, sequence number, version —
//! through the one block reader (`format::block::classify`); those that do not check out are
//! dropped and reported. What checks out is written through the catalogue's own API (block
//! runs as slot ranges, metadata, layout runs of the blocks' sectors): the sectors in between
//! get no layout run — the map shows them as not scanned, which is the truth — and the source
//! stays "not scanned" (`scanned_to` = start) so a later `seqbox scan` reads it whole.
//! Never writes to a source or to the original's database; never prints.

use super::catalog::{
    BlockRow, Catalog, Findings, MetaRow, Run, SECTOR, SectorClass, SourceRow, path_bytes,
    path_from_bytes, path_text, uid_to_int,
};
use super::granted;
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::scan::identity;
use crate::format::Version;
use crate::format::block::{self, BlockState, Uid};
use crate::format::password;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

mod original;
mod window;

use original::{Merged, Original};
use window::Window;

/// Dropped blocks listed one by one in a source's report at most (all are counted).
const LISTED: usize = 100;
/// Blocks written to the catalogue per transaction.
const BATCH: usize = 8192;

#[derive(Clone, Debug, Default)]
pub struct ImportOpts {
    /// The original's databases (several: one per block version it was run for).
    pub databases: Vec<PathBuf>,
    pub catalog: PathBuf,
    /// The folder the original's scan ran in; default: each database's own folder.
    pub base: Option<PathBuf>,
    /// The password the original scanned with (`-p`): its blocks are XORed.
    pub password: Option<String>,
}

/// Why a listed block was not imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The row holds values no scan writes (a negative offset, a UID wider than 48 bits).
    Impossible,
    /// The offset lies past the end of the source (it is shorter now).
    PastEnd,
    /// Sectors of the block could not be read.
    Unreadable,
    /// No SBX block there now.
    NotSbx,
    /// An SBX block whose CRC fails: it changed since the scan.
    BadCrc,
    /// A valid block, but of another container, sequence number or version than listed.
    OtherBlock,
}

#[derive(Clone, Debug, Serialize)]
pub struct DroppedBlock {
    pub offset: i64,
    pub uid: String,
    pub seq: i64,
    pub why: DropReason,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportedSource {
    /// Where the source was found (absolute).
    #[serde(serialize_with = "path_text")]
    pub path: PathBuf,
    /// Its name in the original's database.
    pub listed_as: String,
    pub size: u64,
    /// Rows the databases list for it (duplicates included).
    pub listed: u64,
    pub blocks: u64,
    pub metadata_blocks: u64,
    /// Rows naming an offset already imported (a database given twice, or a block inside one
    /// imported just before): not counted again.
    pub repeated: u64,
    pub dropped: u64,
    /// The first dropped blocks, in offset order.
    pub dropped_blocks: Vec<DroppedBlock>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    #[serde(serialize_with = "path_text")]
    pub catalog: PathBuf,
    pub sources: Vec<ImportedSource>,
    /// Rows whose source the database does not list (nothing to check them against).
    pub unplaced: u64,
    /// Containers the catalogue now knows.
    pub containers: usize,
}

impl ImportReport {
    /// Every listed block checked out and was imported (or was already there).
    pub fn all_imported(&self) -> bool {
        self.unplaced == 0 && self.sources.iter().all(|s| s.dropped == 0)
    }

    pub fn dropped(&self) -> u64 {
        self.unplaced + self.sources.iter().map(|s| s.dropped).sum::<u64>()
    }
}

/// A source to import: where it is, and its id in each database that lists it.
struct Target {
    path: PathBuf,
    listed_as: String,
    size: u64,
    /// (database index, source id there).
    ids: Vec<(usize, i64)>,
}

pub fn run(
    opts: &ImportOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<ImportReport, Error> {
    if opts.databases.is_empty() {
        return Err(Error::Invalid("no scan database to import".into()));
    }
    let dbs = opts
        .databases
        .iter()
        .map(|p| Original::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    refuse_same_file(&opts.catalog, &opts.databases)?;
    // Every source must open before the catalogue is created: a typo leaves nothing behind.
    let targets = targets(&dbs, opts.base.as_deref())?;
    if targets.is_empty() {
        return Err(Error::Invalid(format!(
            "{} lists no source: nothing to import",
            opts.databases[0].display()
        )));
    }
    let unplaced = dbs.iter().map(Original::unplaced).sum::<Result<u64, _>>()?;
    let mut versions: HashMap<i64, i64> = HashMap::new();
    for db in &dbs {
        versions.extend(db.versions()?);
    }
    let mut catalog = Catalog::open(&opts.catalog)?;
    let keystream = opts
        .password
        .as_deref()
        .map(|p| password::keystream(p.as_bytes(), 4096));
    let mut meter = Meter {
        progress,
        throttle: Throttle::default(),
        total: targets.iter().map(|t| t.size).sum(),
        done_before: 0,
        items: 0,
    };
    let mut sources = Vec::new();
    for t in &targets {
        let ctx = Context {
            dbs: &dbs,
            versions: &versions,
            keystream: keystream.as_deref(),
            cancel,
        };
        sources.push(import_source(&mut catalog, t, &ctx, &mut meter)?);
        meter.done_before += t.size;
    }
    progress(Progress {
        stage: Stage::Checking,
        bytes_done: meter.total,
        bytes_total: meter.total,
        items: meter.items,
    });
    Ok(ImportReport {
        catalog: opts.catalog.clone(),
        sources,
        unplaced,
        containers: catalog.container_count()?,
    })
}

/// Opening the original's database as our catalogue would write to it: refuse.
fn refuse_same_file(catalog: &Path, databases: &[PathBuf]) -> Result<(), Error> {
    let Ok(c) = catalog.canonicalize() else {
        return Ok(());
    };
    if databases
        .iter()
        .any(|d| d.canonicalize().ok() == Some(c.clone()))
    {
        return Err(Error::Invalid(format!(
            "{} is the scan database being imported; give a new file for the catalogue",
            catalog.display()
        )));
    }
    Ok(())
}

/// The sources the databases list, resolved and opened (read-only), one per path.
fn targets(dbs: &[Original], base: Option<&Path>) -> Result<Vec<Target>, Error> {
    let mut out: Vec<Target> = Vec::new();
    for (i, db) in dbs.iter().enumerate() {
        let folder = match base {
            Some(b) => b.to_path_buf(),
            None => db.path.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        for listed in db.sources()? {
            let name = path_from_bytes(listed.name.clone());
            let path = std::path::absolute(folder.join(&name)).map_err(Error::read(&name))?;
            if let Some(t) = out.iter_mut().find(|t| t.path == path) {
                t.ids.push((i, listed.id));
                continue;
            }
            let size = open_source(&path, &name, &db.path, base.is_some())?;
            out.push(Target {
                listed_as: crate::engine::ext4::display_path(&listed.name),
                path,
                size,
                ids: vec![(i, listed.id)],
            });
        }
    }
    Ok(out)
}

/// The size of the source at `path` (listed as `name`), or an error that names it.
fn open_source(path: &Path, name: &Path, db: &Path, based: bool) -> Result<u64, Error> {
    let mut f = granted::open(path).map_err(|e| {
        let hint = if based {
            "check the folder given with --base"
        } else {
            "the original stores names as its command line gave them, relative to the folder \
             it ran in; give that folder with --base DIR"
        };
        Error::Invalid(format!(
            "the source {} listed in {} cannot be opened at {} ({e}): {hint}",
            name.display(),
            db.display(),
            path.display()
        ))
    })?;
    f.seek(SeekFrom::End(0)).map_err(Error::read(path))
}

/// What every source's import shares.
struct Context<'a> {
    dbs: &'a [Original],
    versions: &'a HashMap<i64, i64>,
    keystream: Option<&'a [u8]>,
    cancel: &'a CancelFlag,
}

/// Progress over all sources: the offset reached in the source being checked.
struct Meter<'a> {
    progress: ProgressFn<'a>,
    throttle: Throttle,
    total: u64,
    done_before: u64,
    items: u64,
}

impl Meter<'_> {
    fn report(&mut self, at: u64) {
        let p = Progress {
            stage: Stage::Checking,
            bytes_done: self.done_before + at,
            bytes_total: self.total,
            items: self.items,
        };
        self.throttle.report(self.progress, p);
    }
}

/// Import one source: its row in the catalogue (as a scan would find or make it), then its
/// listed blocks, checked, in batches.
fn import_source(
    catalog: &mut Catalog,
    t: &Target,
    ctx: &Context<'_>,
    meter: &mut Meter<'_>,
) -> Result<ImportedSource, Error> {
    let file = granted::open(&t.path).map_err(Error::read(&t.path))?;
    let key = identity::take(&file, t.size);
    let before = known_row(catalog, &t.path)?;
    let st = catalog.start_source(&t.path, &key, 0, t.size)?;
    let mut report = ImportedSource {
        path: t.path.clone(),
        listed_as: t.listed_as.clone(),
        size: t.size,
        listed: 0,
        blocks: 0,
        metadata_blocks: 0,
        repeated: 0,
        dropped: 0,
        dropped_blocks: Vec::new(),
        notes: st.notes,
    };
    if st.start > 0 {
        // A scan of ours read (part of) it: its findings are better than a list.
        report.notes.push(
            "already scanned into this catalogue by `seqbox scan`: nothing imported for it \
             (the scan's findings stay)"
                .into(),
        );
        return Ok(report);
    }
    if before.is_some_and(|r| r.scanned_to == r.scan_from && !st.changed_since_last_scan) {
        report.notes.push(
            "imported into this catalogue before: that import is replaced by this one (give \
             all the original's databases of a source in one import)"
                .into(),
        );
    }
    report.notes.push(
        "only the blocks the original's scan listed were imported: the rest of this source \
         was not scanned (run `seqbox scan` on it to read it whole)"
            .into(),
    );
    let mut statements = t
        .ids
        .iter()
        .map(|&(db, _)| ctx.dbs[db].blocks_statement())
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = t.ids.iter().map(|&(_, id)| id).collect();
    let mut rows = Merged::new(&mut statements, &ids, &ctx.dbs[t.ids[0].0].path)?;
    let mut batch = Batch::default();
    let mut window = Window::new(&file, t.size);
    while let Some(row) = rows.next_row()? {
        ctx.cancel.check()?;
        report.listed += 1;
        let checked = check_row(row, &mut window, ctx, batch.covered_to);
        match checked {
            Checked::Valid(b, meta) => {
                batch.push(b, meta);
                report.blocks += 1;
                meter.items += 1;
            }
            Checked::Repeated => report.repeated += 1,
            Checked::Dropped(d) => {
                report.dropped += 1;
                if report.dropped_blocks.len() < LISTED {
                    report.dropped_blocks.push(d);
                }
            }
        }
        if let Some(pos) = row.pos {
            meter.report(pos.clamp(0, t.size as i64) as u64);
        }
        if batch.blocks.len() >= BATCH {
            report.metadata_blocks += batch.write(catalog, st.id)?;
        }
    }
    report.metadata_blocks += batch.write(catalog, st.id)?;
    Ok(report)
}

/// The catalogue's row for `path`, if it has one.
fn known_row(catalog: &Catalog, path: &Path) -> Result<Option<SourceRow>, Error> {
    let bytes = path_bytes(path);
    Ok(catalog
        .sources()?
        .into_iter()
        .rev()
        .find(|s| path_bytes(&s.path) == bytes))
}

enum Checked {
    Valid(BlockRow, Option<Vec<u8>>),
    Repeated,
    Dropped(DroppedBlock),
}

/// Check one listed block against the source: the block read at its offset (plain, else
/// XORed with the password's keystream) must be valid and be the one listed.
fn check_row(
    row: original::Row,
    window: &mut Window<'_>,
    ctx: &Context<'_>,
    covered: u64,
) -> Checked {
    let drop = |why| {
        Checked::Dropped(DroppedBlock {
            offset: row.pos.unwrap_or(-1),
            uid: row
                .uid
                .filter(|u| (0..1 << 48).contains(u))
                .map(|u| block::uid_hex(&super::catalog::int_to_uid(u)))
                .unwrap_or_else(|| "?".into()),
            seq: row.num.unwrap_or(-1),
            why,
        })
    };
    let (Some(uid), Some(num), Some(pos)) = (row.uid, row.num, row.pos) else {
        return drop(DropReason::Impossible);
    };
    if !(0..1 << 48).contains(&uid) || u32::try_from(num).is_err() || pos < 0 {
        return drop(DropReason::Impossible);
    }
    let (pos, uid, seq) = (pos as u64, super::catalog::int_to_uid(uid), num as u32);
    if pos < covered {
        return Checked::Repeated;
    }
    let version = ctx
        .versions
        .get(&uid_to_int(&uid))
        .and_then(|&v| u8::try_from(v).ok())
        .and_then(Version::from_byte);
    let Some(bytes) = window.at(pos) else {
        return drop(DropReason::PastEnd);
    };
    let (verdict, password) = match judge(bytes.data, uid, seq, version) {
        valid @ Judged::Valid(..) => (valid, false),
        bad => match ctx.keystream {
            None => (bad, false),
            Some(ks) => {
                let mut xored = bytes.data[..bytes.data.len().min(ks.len())].to_vec();
                password::apply(&mut xored, ks);
                match judge(&xored, uid, seq, version) {
                    Judged::Valid(v, _) => (Judged::Valid(v, Some(xored)), true),
                    _ => (bad, false),
                }
            }
        },
    };
    match verdict {
        Judged::Valid(version, xored) => {
            let data = xored.as_deref().unwrap_or(bytes.data);
            let meta = (seq == 0).then(|| data[16..version.block_size()].to_vec());
            let b = BlockRow {
                offset: pos,
                version,
                uid,
                seq,
                password,
            };
            Checked::Valid(b, meta)
        }
        _ if bytes.unreadable => drop(DropReason::Unreadable),
        Judged::Bad(why) => drop(why),
    }
}

enum Judged {
    /// Valid and the block listed: its version (and the XORed copy it was read from).
    Valid(Version, Option<Vec<u8>>),
    Bad(DropReason),
}

/// Whether `bytes` start with a valid block of container `uid`, number `seq` (and `version`
/// when the database says it).
fn judge(bytes: &[u8], uid: Uid, seq: u32, version: Option<Version>) -> Judged {
    match block::classify(bytes) {
        BlockState::NotSbx => Judged::Bad(DropReason::NotSbx),
        BlockState::Damaged(_) => Judged::Bad(DropReason::BadCrc),
        BlockState::Valid(h) => {
            if h.uid == uid && h.seq == seq && version.is_none_or(|v| v == h.version) {
                Judged::Valid(h.version, None)
            } else {
                Judged::Bad(DropReason::OtherBlock)
            }
        }
    }
}

/// Blocks checked and not yet written, in offset order, with the layout runs of their
/// sectors.
#[derive(Default)]
struct Batch {
    blocks: Vec<BlockRow>,
    metas: Vec<MetaRow>,
    runs: Vec<Run>,
    /// The end of the last block taken: a listed offset before it is inside that block.
    covered_to: u64,
    /// The end of the last sector drawn (a sector shared by two blocks is drawn once).
    drawn_to: u64,
}

impl Batch {
    fn push(&mut self, b: BlockRow, meta: Option<Vec<u8>>) {
        let end = b.offset + b.version.block_size() as u64;
        self.covered_to = end;
        let uid = Some(uid_to_int(&b.uid) as u64);
        let (from, to) = ((b.offset / SECTOR).max(self.drawn_to), end.div_ceil(SECTOR));
        if to > from {
            match self.runs.last_mut() {
                Some(r) if r.uid == uid && r.start_sector + r.sectors == from => {
                    r.sectors += to - from;
                }
                _ => self.runs.push(Run {
                    start_sector: from,
                    sectors: to - from,
                    class: SectorClass::SbxBlock,
                    uid,
                }),
            }
            self.drawn_to = to;
        }
        if let Some(m) = meta {
            self.metas.push((b.offset, b.uid, b.version, m));
        }
        self.blocks.push(b);
    }

    /// Write what is pending in one transaction; returns the metadata blocks written.
    fn write(&mut self, catalog: &mut Catalog, source_id: i64) -> Result<u64, Error> {
        if self.blocks.is_empty() {
            return Ok(0);
        }
        let found = Findings {
            blocks: &self.blocks,
            metas: &self.metas,
            damaged: &[],
            runs: &self.runs,
        };
        // `scanned_to` stays at the start: nothing was scanned, only listed blocks checked.
        catalog.write_batch(source_id, &found, 0)?;
        let metas = self.metas.len() as u64;
        self.blocks.clear();
        self.metas.clear();
        self.runs.clear();
        Ok(metas)
    }
}
