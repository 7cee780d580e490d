//! The SQLite catalogue of a scan: the sources scanned (and how far, for resuming), every
//! valid SBX block found, every metadata block, and the layout of each source as run-length
//! runs of sector classes — what recovery and the block map read.
//!
//! Schema versioned in `PRAGMA user_version` (schema.rs, with the upgrades from older
//! versions); documented in docs/CATALOG.md. Sources and how a scan of one starts are in
//! sources.rs, what is settled when a scan ends in settle.rs. The catalogue is the only file
//! a scan writes; sources are never opened for writing.

use super::job::Error;
use super::source::{ByteRange, push_merged};
use super::sqlite;
use crate::format::block::Uid;
use crate::format::rs::Layout;
use crate::format::{Metadata, Version};
use rusqlite::{Connection, Result as SqlResult, Transaction, params};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod schema;
mod settle;
mod slots;
mod sources;
mod spans;

pub use schema::SCHEMA_VERSION;
pub use settle::{BlockAcross, DamagedBlock, Evidence};
pub use slots::Geometry;
pub use sources::{
    SourceKey, SourceKind, SourceRow, SourceStart, opt_path_text, path_bytes, path_from_bytes,
    path_text,
};
pub use spans::{BlockSpan, MapRun, Patterns};

/// Bytes per sector in layout runs.
pub const SECTOR: u64 = 512;

/// A scan commits its findings whenever it passes a multiple of this many sectors (16 MiB).
pub const COMMIT_SECTORS: u64 = (16 << 20) / SECTOR;

/// What a sector of a source holds, as the block map colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SectorClass {
    /// All zero bytes.
    Empty = 0,
    /// Anything else that is not SBX ("normal files"). A run of this class with a UID is a
    /// block whose CRC fails and that nothing shows to belong to a container (yet).
    Other = 1,
    SbxMeta = 2,
    SbxData = 3,
    SbxParity = 4,
    /// An SBX data or parity block whose kind is settled when the scan of its source ends.
    SbxBlock = 5,
    /// SBX signature and a plausible header, but the CRC fails, and evidence that the block
    /// belonged to a container (the run's UID is its header's).
    Damaged = 6,
    /// The sector could not be read (I/O error).
    Unreadable = 7,
    /// A file system's own structures (boot sector, FATs, root directory, `$MFT` …), where
    /// the scan recognised a file system on the source.
    FsStructure = 8,
}

/// How many sector classes there are (the length of per-class counts).
pub const CLASS_COUNT: usize = 9;

impl SectorClass {
    pub fn from_code(c: i64) -> SectorClass {
        match c {
            0 => SectorClass::Empty,
            2 => SectorClass::SbxMeta,
            3 => SectorClass::SbxData,
            4 => SectorClass::SbxParity,
            5 => SectorClass::SbxBlock,
            6 => SectorClass::Damaged,
            7 => SectorClass::Unreadable,
            8 => SectorClass::FsStructure,
            _ => SectorClass::Other,
        }
    }

    pub fn is_sbx(self) -> bool {
        matches!(
            self,
            SectorClass::SbxMeta
                | SectorClass::SbxData
                | SectorClass::SbxParity
                | SectorClass::SbxBlock
        )
    }
}

/// A valid block found by a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRow {
    pub offset: u64,
    pub version: Version,
    pub uid: Uid,
    pub seq: u32,
    /// The block was stored XORed with a password keystream.
    pub password: bool,
}

/// A valid metadata block: (offset, uid, version, payload).
pub type MetaRow = (u64, Uid, Version, Vec<u8>);

/// What a scan found in one stretch of a source.
#[derive(Clone, Copy, Debug)]
pub struct Findings<'a> {
    pub blocks: &'a [BlockRow],
    pub metas: &'a [MetaRow],
    pub damaged: &'a [DamagedRow],
    pub runs: &'a [Run],
}

/// A block with the signature and a plausible header whose CRC fails (the header's claims
/// in `block`), `len` bytes long: a damaged block of a container, or other data, settled
/// when the scan of its source ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DamagedRow {
    pub block: BlockRow,
    pub len: u64,
}

/// A run of sectors of one class (and, for SBX classes, one container).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    pub start_sector: u64,
    pub sectors: u64,
    pub class: SectorClass,
    pub uid: Option<u64>,
}

/// One container the catalogue knows, for the report a user reads before recovering.
#[derive(Clone, Debug, Serialize)]
pub struct ContainerRow {
    pub uid: String,
    pub version: Version,
    pub file_name: Option<String>,
    pub sbx_name: Option<String>,
    pub file_size: Option<u64>,
    pub rs_data: Option<u8>,
    pub rs_parity: Option<u8>,
    /// Distinct data/parity sequence numbers with a valid copy.
    pub blocks_found: u64,
    /// Data/parity blocks the container has (known from the metadata).
    pub blocks_expected: Option<u64>,
    pub metadata_copies: u64,
    /// Valid copies in all (duplicates included).
    pub copies: u64,
}

/// Where each copy of a block is: (sequence number, source, offset, XORed with a password).
#[derive(Clone, Copy, Debug)]
pub struct Copy {
    pub seq: u32,
    pub source_id: i64,
    pub offset: u64,
    pub password: bool,
}

pub fn uid_to_int(uid: &Uid) -> i64 {
    uid.iter().fold(0i64, |a, &b| (a << 8) | i64::from(b))
}

pub fn int_to_uid(v: i64) -> Uid {
    v.to_be_bytes()[2..].try_into().expect("6 bytes")
}

pub struct Catalog {
    conn: Connection,
    pub path: PathBuf,
}

const KIND: sqlite::Kind = sqlite::Kind {
    name: "catalogue",
    schema: schema::SCHEMA,
    version: SCHEMA_VERSION,
    foreign_keys: true,
    upgrades: schema::UPGRADES,
};

fn db(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    sqlite::error(&KIND, path)
}

impl Catalog {
    /// Open (creating it if needed) the catalogue at `path`.
    pub fn open(path: &Path) -> Result<Catalog, Error> {
        Ok(Catalog {
            conn: sqlite::open(path, &KIND)?,
            path: path.to_path_buf(),
        })
    }

    /// Open an existing catalogue, refusing to create one.
    pub fn open_existing(path: &Path) -> Result<Catalog, Error> {
        if !path.is_file() {
            return Err(Error::Invalid(format!(
                "no catalogue at {} (run a scan first)",
                path.display()
            )));
        }
        Catalog::open(path)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        db(&self.path)
    }

    /// Record what a scan found in one stretch of a source, and how far the scan got, in
    /// one transaction: a killed scan resumes after the last stretch recorded whole.
    pub fn write_batch(
        &mut self,
        source_id: i64,
        found: &Findings<'_>,
        scanned_to: u64,
    ) -> Result<(), Error> {
        let e = db(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        // Metadata first: it gives the geometry of the block runs that follow.
        insert_metas(&tx, source_id, found.metas).map_err(&e)?;
        insert_blocks(&tx, source_id, found.blocks).map_err(&e)?;
        insert_damaged(&tx, source_id, found.damaged).map_err(&e)?;
        insert_runs(&tx, source_id, found.runs).map_err(&e)?;
        tx.execute(
            "UPDATE source SET scanned_to = ?2 WHERE id = ?1",
            params![source_id, scanned_to as i64],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// How many containers have at least one valid block: [`Catalog::containers`]'s length,
    /// without counting their blocks (which takes time in proportion to them).
    pub fn container_count(&self) -> Result<usize, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM (SELECT DISTINCT uid, version FROM block_run)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(self.err())
    }

    /// Every container with at least one valid block, with what was found of it.
    pub fn containers(&self) -> Result<Vec<ContainerRow>, Error> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM block_run ORDER BY source_id, offset"
            ))
            .map_err(self.err())?;
        let rows = st.query_map([], StoredRun::read).map_err(self.err())?;
        // (uid, version) in order of first sighting → (seqs, metadata copies, copies).
        let mut order: Vec<(i64, u8)> = Vec::new();
        let mut found: std::collections::HashMap<(i64, u8), (super::seqset::SeqSet, u64, u64)> =
            std::collections::HashMap::new();
        for row in rows {
            let run = row.map_err(self.err())?;
            let layout = run.check(&self.path)?;
            let entry = found.entry((run.uid, run.version)).or_insert_with(|| {
                order.push((run.uid, run.version));
                (super::seqset::SeqSet::new(), 0, 0)
            });
            entry.2 += run.count;
            for i in 0..run.count {
                match slots::seq_at(&layout, run.slot + i) {
                    0 => entry.1 += 1,
                    n => {
                        entry.0.insert(n);
                    }
                }
            }
        }
        let mut out = Vec::new();
        for key in order {
            let (uid, version) = key;
            let Some(version) = Version::from_byte(version) else {
                continue;
            };
            let (seqs, metas, copies) = &found[&key];
            let m = self
                .metadata_of(int_to_uid(uid), version)?
                .into_iter()
                .next();
            let meta = m
                .as_ref()
                .map(|(_, p)| Metadata::parse(p))
                .unwrap_or_default();
            let layout = match (meta.rs_data, meta.rs_parity) {
                (Some(d), Some(p)) if version.uses_rs() => {
                    crate::format::rs::Layout::rs(version, d.into(), p.into(), 0).ok()
                }
                _ if !version.uses_rs() => Some(crate::format::rs::Layout::plain(version, true)),
                _ => None,
            };
            let expected = match (meta.file_size, layout) {
                (Some(n), Some(l)) => l.sets_for(n).checked_mul(l.shards() as u64),
                _ => None,
            };
            out.push(ContainerRow {
                uid: crate::format::block::uid_hex(&int_to_uid(uid)),
                version,
                file_name: meta.file_name,
                sbx_name: meta.sbx_name,
                file_size: meta.file_size,
                rs_data: meta.rs_data,
                rs_parity: meta.rs_parity,
                blocks_found: seqs.len(),
                blocks_expected: expected,
                metadata_copies: *metas,
                copies: *copies,
            });
        }
        Ok(out)
    }

    /// Payloads of the valid metadata blocks of a container, the newest encoding first (then
    /// the most common, then the first found), each with how many copies agree.
    pub fn metadata_of(&self, uid: Uid, version: Version) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        // Copies of one container's metadata are identical (their CRCs hold); different
        // payloads are different encodings sharing the UID — the newest is the one wanted.
        let mut st = self
            .conn
            .prepare(
                "SELECT payload, COUNT(*) FROM metadata WHERE uid = ?1 AND version = ?2
                 GROUP BY payload
                 ORDER BY MAX(sbx_time) DESC, COUNT(*) DESC, MIN(source_id), MIN(offset)",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![uid_to_int(&uid), version.byte()], |r| {
                Ok((r.get::<_, i64>(1)? as u64, r.get::<_, Vec<u8>>(0)?))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Where the copies of one metadata payload of a container lie: (source, offset).
    pub fn metadata_places(
        &self,
        uid: Uid,
        version: Version,
        payload: &[u8],
    ) -> Result<Vec<(i64, u64)>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT source_id, offset FROM metadata WHERE uid = ?1 AND version = ?2
                 AND payload = ?3 ORDER BY source_id, offset",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![uid_to_int(&uid), version.byte(), payload], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Every valid copy of every data/parity block of a container, by sequence number.
    pub fn copies_of(&self, uid: Uid, version: Version) -> Result<Vec<Copy>, Error> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM block_run WHERE uid = ?1 AND version = ?2"
            ))
            .map_err(self.err())?;
        let rows = st
            .query_map(params![uid_to_int(&uid), version.byte()], StoredRun::read)
            .map_err(self.err())?;
        let bs = version.block_size() as u64;
        let mut out = Vec::new();
        for row in rows {
            let run = row.map_err(self.err())?;
            let layout = run.check(&self.path)?;
            for i in 0..run.count {
                let seq = slots::seq_at(&layout, run.slot + i);
                if seq != 0 {
                    out.push(Copy {
                        seq,
                        source_id: run.source_id,
                        offset: run.offset + i * bs,
                        password: run.password,
                    });
                }
            }
        }
        out.sort_unstable_by_key(|c| (c.seq, c.source_id, c.offset));
        Ok(out)
    }

    /// The runs of SBX blocks of a source that overlap bytes `from..to`, in order, at most
    /// `limit` of them: what the map's hover shows as sequence numbers.
    pub fn blocks_between(
        &self,
        source_id: i64,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<BlockRunRow>, Error> {
        // The run that starts before `from` and may reach into it, then those starting inside.
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT * FROM (SELECT {RUN_COLUMNS}, end_offset
                   FROM block_run WHERE source_id = ?1 AND offset < ?2
                   ORDER BY offset DESC LIMIT 1) WHERE end_offset > ?2
                 UNION ALL
                 SELECT * FROM (SELECT {RUN_COLUMNS}, end_offset
                   FROM block_run WHERE source_id = ?1 AND offset >= ?2 AND offset < ?3
                   ORDER BY offset LIMIT ?4)"
            ))
            .map_err(self.err())?;
        let rows = st
            .query_map(
                params![source_id, clamp(from), clamp(to), limit as i64],
                |r| Ok((StoredRun::read(r)?, r.get::<_, i64>(10)? as u64)),
            )
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (run, end_offset) = row.map_err(self.err())?;
            let layout = run.check(&self.path)?;
            out.push(BlockRunRow {
                offset: run.offset,
                end_offset,
                count: run.count,
                version: run.version,
                uid: run.uid as u64,
                seq: i64::from(slots::seq_at(&layout, run.slot)),
                last: i64::from(slots::seq_at(&layout, run.slot + run.count - 1)),
                slot: run.slot,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Byte ranges of a source whose sectors could not be read, in order, at most `limit`.
    pub fn unreadable(&self, source_id: i64, limit: usize) -> Result<Vec<ByteRange>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT start_sector, sectors FROM layout_run
                 WHERE source_id = ?1 AND class = ?2 ORDER BY start_sector LIMIT ?3",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(
                params![
                    source_id,
                    SectorClass::Unreadable as i64,
                    clamp(limit as u64)
                ],
                |r| {
                    let (s, n) = (r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64);
                    Ok(ByteRange::new(s * SECTOR, (s + n) * SECTOR))
                },
            )
            .map_err(self.err())?;
        let mut out = Vec::new();
        for r in rows {
            // Runs are cut at every commit: join them again.
            push_merged(&mut out, r.map_err(self.err())?, usize::MAX);
        }
        Ok(out)
    }

    /// Layout runs of a source overlapping sectors `from..to`, in order, drawn per block: a
    /// stored run of SBX blocks (one per piece of a container) becomes runs of metadata, data
    /// and parity from the sequence numbers its block runs give and the container's metadata.
    /// One entry per block in the range: for small ranges and tests; the map counts instead
    /// ([`Catalog::map_runs`] and `layout::cells_of`).
    pub fn runs(&self, source_id: i64, from: u64, to: u64) -> Result<Vec<Run>, Error> {
        Ok(self
            .map_runs(source_id, from, to)?
            .iter()
            .flat_map(MapRun::expand)
            .collect())
    }

    /// Layout runs of a source overlapping sectors `from..to`, in order, as stored: a run of
    /// SBX blocks clipped to the range and with the block runs lying in it, whose classes the
    /// map counts per cell. Bounded by rows, not blocks.
    pub fn map_runs(&self, source_id: i64, from: u64, to: u64) -> Result<Vec<MapRun>, Error> {
        // Runs tile a source without overlapping: only the last one starting at or before
        // `from` can reach into the range, so the search walks the primary key from there.
        let mut st = self
            .conn
            .prepare(
                "SELECT start_sector, sectors, class, uid FROM layout_run
                 WHERE source_id = ?1 AND start_sector < ?3 AND start_sector + sectors > ?2
                   AND start_sector >= (SELECT COALESCE(MAX(start_sector), 0) FROM layout_run
                       WHERE source_id = ?1 AND start_sector <= ?2)
                 ORDER BY start_sector",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![source_id, clamp(from), clamp(to)], |r| {
                Ok(Run {
                    start_sector: r.get::<_, i64>(0)? as u64,
                    sectors: r.get::<_, i64>(1)? as u64,
                    class: SectorClass::from_code(r.get(2)?),
                    uid: r.get::<_, Option<i64>>(3)?.map(|u| u as u64),
                })
            })
            .map_err(self.err())?;
        let stored: Vec<Run> = rows.collect::<Result<_, _>>().map_err(self.err())?;
        let shards = if stored.iter().any(|r| r.class == SectorClass::SbxBlock) {
            settle::shard_counts(&self.conn).map_err(self.err())?
        } else {
            Default::default()
        };
        let mut out = Vec::with_capacity(stored.len());
        for r in stored {
            if r.class != SectorClass::SbxBlock {
                out.push(MapRun::Plain(r));
                continue;
            }
            let a = r.start_sector.max(from);
            let b = r.start_sector.saturating_add(r.sectors).min(to);
            let spans = self.block_spans(source_id, a, b, r.uid, &shards)?;
            let clipped = Run {
                start_sector: a,
                sectors: b.saturating_sub(a),
                ..r
            };
            out.push(MapRun::Blocks(clipped, spans));
        }
        Ok(out)
    }

    /// The block runs of container `uid` in a source from the last one starting before
    /// sector `a` to those starting before the end of sector `b - 1`, in offset order.
    fn block_spans(
        &self,
        source_id: i64,
        a: u64,
        b: u64,
        uid: Option<u64>,
        shards: &settle::ShardCounts,
    ) -> Result<Vec<BlockSpan>, Error> {
        let (lo, hi) = (a * SECTOR, b * SECTOR);
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM block_run WHERE source_id = ?1 AND uid IS ?4
                 AND offset < ?3 AND end_offset > ?2 - 4096 ORDER BY offset"
            ))
            .map_err(self.err())?;
        let rows = st
            .query_map(
                params![source_id, clamp(lo), clamp(hi), uid.map(|u| u as i64)],
                StoredRun::read,
            )
            .map_err(self.err())?;
        let mut out: Vec<BlockSpan> = Vec::new();
        for row in rows {
            let run = row.map_err(self.err())?;
            let layout = run.check(&self.path)?;
            out.push(BlockSpan {
                offset: run.offset,
                count: run.count,
                slot: run.slot,
                layout,
                shards: shards.get(&(run.uid, run.version)).copied(),
            });
        }
        // Keep the last run starting before `a` and everything after.
        let keep = out.partition_point(|s| s.offset < lo).saturating_sub(1);
        out.drain(..keep);
        Ok(out)
    }
}

/// The columns of a block-run row `StoredRun::read` takes, in its order.
const RUN_COLUMNS: &str =
    "source_id, offset, count, version, uid, slot, data, parity, burst, password";

/// A block-run row as stored.
struct StoredRun {
    source_id: i64,
    offset: u64,
    count: u64,
    version: u8,
    uid: i64,
    slot: u64,
    geometry: (i64, i64, i64),
    password: bool,
}

impl StoredRun {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRun> {
        Ok(StoredRun {
            source_id: r.get(0)?,
            offset: r.get::<_, i64>(1)? as u64,
            count: r.get::<_, i64>(2)? as u64,
            version: r.get(3)?,
            uid: r.get(4)?,
            slot: r.get::<_, i64>(5)? as u64,
            geometry: (r.get(6)?, r.get(7)?, r.get(8)?),
            password: r.get(9)?,
        })
    }

    /// The row's layout, or the catalogue is damaged: refuse a row no scan writes — an
    /// unknown version or geometry, a negative offset, a count out of range — before it is
    /// expanded block by block.
    fn check(&self, path: &Path) -> Result<Layout, Error> {
        let (d, p, b) = self.geometry;
        let geometry = match (u16::try_from(d), u16::try_from(p), u32::try_from(b)) {
            (Ok(data), Ok(parity), Ok(burst)) => Some(Geometry {
                data,
                parity,
                burst,
            }),
            _ => None,
        };
        let layout = Version::from_byte(self.version)
            .zip(geometry)
            .and_then(|(v, g)| g.layout(v));
        let plausible = (self.offset as i64) >= 0
            && (1..=MAX_RUN_BLOCKS).contains(&self.count)
            && (self.slot as i64) >= 0
            && self.slot.checked_add(self.count).is_some();
        match layout {
            Some(l) if plausible => Ok(l),
            _ => Err(Error::Invalid(format!(
                "catalogue {} is damaged: it lists {} block(s) of version {} at offset {} in slots from {} of geometry {d}+{p} B={b}, which no scan writes; scan the sources again into a new catalogue",
                path.display(),
                self.count,
                self.version,
                self.offset as i64,
                self.slot as i64,
            ))),
        }
    }
}

/// A run of SBX blocks for the map's hover: `count` blocks from `offset`, slots `slot..` of
/// their container, holding sequence numbers `seq` (the first) … `last`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRunRow {
    pub offset: u64,
    pub end_offset: u64,
    pub count: u64,
    pub version: u8,
    pub uid: u64,
    pub seq: i64,
    pub last: i64,
    pub slot: u64,
}

impl BlockRunRow {
    /// The sequence number of the last block of the run.
    pub fn last_seq(&self) -> i64 {
        self.last
    }

    /// Whether the run holds sequence numbers `seq`, `seq + 1`, … `last` in order.
    pub fn in_order(&self) -> bool {
        self.last - self.seq == self.count as i64 - 1
    }
}

/// Blocks one block run holds at most: one container's slots (32-bit sequence numbers, and
/// the metadata copies among them). A row claiming more is damage, and expanding it block by
/// block would take unbounded time and memory.
const MAX_RUN_BLOCKS: u64 = 1 << 32;

/// SQLite integers are signed.
fn clamp(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

/// (M, P, B) a container's metadata gives (B `None` when it does not say).
type MetaGeometry = (u16, u16, Option<u32>);

fn insert_blocks(tx: &Transaction<'_>, source_id: i64, blocks: &[BlockRow]) -> SqlResult<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let open = open_run(tx, source_id)?;
    let mut known: HashMap<(Uid, Version), Vec<MetaGeometry>> = HashMap::new();
    let mut geometries = tx.prepare_cached(
        "SELECT rs_data, rs_parity, burst FROM metadata WHERE uid = ?1 AND version = ?2
         AND rs_data IS NOT NULL AND rs_parity IS NOT NULL
         GROUP BY rs_data, rs_parity, burst ORDER BY MIN(source_id), MIN(offset)",
    )?;
    let mut failed = None;
    let runs = slots::slot_runs(open, blocks, |uid, version| {
        known
            .entry((uid, version))
            .or_insert_with(|| {
                let rows = geometries.query_map(params![uid_to_int(&uid), version.byte()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                });
                match rows.and_then(|rows| rows.collect::<SqlResult<Vec<MetaGeometry>>>()) {
                    Ok(mut v) => {
                        v.dedup();
                        v
                    }
                    Err(e) => {
                        failed = Some(e);
                        Vec::new()
                    }
                }
            })
            .clone()
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO block_run (source_id, offset, end_offset, count, version, uid,
            slot, data, parity, burst, password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in runs {
        ins.execute(params![
            source_id,
            r.first.offset as i64,
            r.end_offset() as i64,
            r.count as i64,
            r.first.version.byte(),
            uid_to_int(&r.first.uid),
            r.slot as i64,
            r.geometry.data,
            r.geometry.parity,
            r.geometry.burst,
            r.first.password
        ])?;
    }
    Ok(())
}

/// The last block run stored for a source: the next blocks may be its next slots.
fn open_run(tx: &Transaction<'_>, source_id: i64) -> SqlResult<Option<slots::SlotRun>> {
    let row = tx
        .prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM block_run WHERE source_id = ?1 ORDER BY offset DESC LIMIT 1"
        ))?
        .query_map(params![source_id], StoredRun::read)?
        .next()
        .transpose()?;
    let Some(run) = row else { return Ok(None) };
    let (Some(version), Ok(data), Ok(parity), Ok(burst)) = (
        Version::from_byte(run.version),
        u16::try_from(run.geometry.0),
        u16::try_from(run.geometry.1),
        u32::try_from(run.geometry.2),
    ) else {
        return Ok(None);
    };
    let first = BlockRow {
        offset: run.offset,
        version,
        uid: int_to_uid(run.uid),
        seq: 0,
        password: run.password,
    };
    let g = Geometry {
        data,
        parity,
        burst,
    };
    Ok(slots::SlotRun::stored(first, run.count, run.slot, g))
}

fn insert_metas(tx: &Transaction<'_>, source_id: i64, metas: &[MetaRow]) -> SqlResult<()> {
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO metadata (source_id, offset, uid, version, payload, file_name, sbx_name,
            file_size, file_time, sbx_time, rs_data, rs_parity, burst)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for (offset, uid, version, payload) in metas {
        let m = Metadata::parse(payload);
        ins.execute(params![
            source_id,
            *offset as i64,
            uid_to_int(uid),
            version.byte(),
            payload,
            m.file_name,
            m.sbx_name,
            m.file_size.map(|v| v.min(i64::MAX as u64) as i64),
            m.file_time,
            m.sbx_time,
            m.rs_data,
            m.rs_parity,
            m.burst
        ])?;
    }
    Ok(())
}

fn insert_damaged(tx: &Transaction<'_>, source_id: i64, damaged: &[DamagedRow]) -> SqlResult<()> {
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO damaged_block (source_id, offset, end_offset, version, uid, seq, password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for d in damaged {
        let b = &d.block;
        ins.execute(params![
            source_id,
            b.offset as i64,
            (b.offset + d.len) as i64,
            b.version.byte(),
            uid_to_int(&b.uid),
            b.seq,
            b.password
        ])?;
    }
    Ok(())
}

fn insert_runs(tx: &Transaction<'_>, source_id: i64, runs: &[Run]) -> SqlResult<()> {
    let mut runs = runs;
    // The first run continues the last one stored when it is of the same class and
    // container: a container lying in one piece stays one run across commits.
    if let Some(first) = runs.first() {
        let last: Option<(i64, i64, i64, Option<i64>)> = tx
            .prepare_cached(
                "SELECT start_sector, sectors, class, uid FROM layout_run WHERE source_id = ?1
                 ORDER BY start_sector DESC LIMIT 1",
            )?
            .query_map(params![source_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .next()
            .transpose()?;
        if let Some((start, sectors, class, uid)) = last
            && class == first.class as i64
            && uid == first.uid.map(|u| u as i64)
            && (start + sectors) as u64 == first.start_sector
        {
            tx.prepare_cached(
                "UPDATE layout_run SET sectors = ?3 WHERE source_id = ?1 AND start_sector = ?2",
            )?
            .execute(params![source_id, start, sectors + first.sectors as i64])?;
            runs = &runs[1..];
        }
    }
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO layout_run (source_id, start_sector, sectors, class, uid)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for r in runs {
        ins.execute(params![
            source_id,
            r.start_sector as i64,
            r.sectors as i64,
            r.class as u8,
            r.uid.map(|u| u as i64)
        ])?;
    }
    Ok(())
}
