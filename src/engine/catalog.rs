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
use crate::format::{Metadata, Version};
use rusqlite::{Connection, Result as SqlResult, Transaction, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

mod schema;
mod settle;
mod sources;

pub use schema::SCHEMA_VERSION;
pub use settle::{BlockAcross, DamagedBlock, Evidence};
pub use sources::{
    SourceKey, SourceKind, SourceRow, SourceStart, opt_path_text, path_bytes, path_from_bytes,
    path_text,
};

/// Bytes per sector in layout runs.
pub const SECTOR: u64 = 512;

/// The longest layout run stored: runs are cut at every catalogue commit of a scan (16 MiB).
pub const MAX_RUN_SECTORS: u64 = (16 << 20) / SECTOR;

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
}

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
        insert_blocks(&tx, source_id, found.blocks).map_err(&e)?;
        insert_metas(&tx, source_id, found.metas).map_err(&e)?;
        insert_damaged(&tx, source_id, found.damaged).map_err(&e)?;
        insert_runs(&tx, source_id, found.runs).map_err(&e)?;
        tx.execute(
            "UPDATE source SET scanned_to = ?2 WHERE id = ?1",
            params![source_id, scanned_to as i64],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// Every container with at least one valid block, with what was found of it.
    pub fn containers(&self) -> Result<Vec<ContainerRow>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT uid, version, seq, count, seq_step, offset FROM block_run ORDER BY source_id, offset")
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, u8>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(self.err())?;
        // (uid, version) in order of first sighting → (seqs, metadata copies, copies).
        let mut order: Vec<(i64, u8)> = Vec::new();
        let mut found: std::collections::HashMap<(i64, u8), (super::seqset::SeqSet, u64, u64)> =
            std::collections::HashMap::new();
        for row in rows {
            let (uid, version, seq, count, step, offset) = row.map_err(self.err())?;
            check_run(&self.path, offset, version, seq, count, step)?;
            let entry = found.entry((uid, version)).or_insert_with(|| {
                order.push((uid, version));
                (super::seqset::SeqSet::new(), 0, 0)
            });
            entry.2 += count as u64;
            for i in 0..count {
                match u32::try_from(seq + i * step) {
                    Ok(0) => entry.1 += 1,
                    Ok(n) => {
                        entry.0.insert(n);
                    }
                    Err(_) => {}
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
            .prepare(
                "SELECT seq, count, seq_step, source_id, offset, password FROM block_run
                 WHERE uid = ?1 AND version = ?2",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![uid_to_int(&uid), version.byte()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            })
            .map_err(self.err())?;
        let bs = version.block_size() as u64;
        let mut out = Vec::new();
        for row in rows {
            let (seq, count, step, source_id, offset, password) = row.map_err(self.err())?;
            check_run(&self.path, offset, version.byte(), seq, count, step)?;
            for i in 0..count {
                if let Ok(seq @ 1..) = u32::try_from(seq + i * step) {
                    out.push(Copy {
                        seq,
                        source_id,
                        offset: offset as u64 + i as u64 * bs,
                        password,
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
            .prepare(
                "SELECT * FROM (SELECT offset, end_offset, count, version, uid, seq, seq_step
                   FROM block_run WHERE source_id = ?1 AND offset < ?2
                   ORDER BY offset DESC LIMIT 1) WHERE end_offset > ?2
                 UNION ALL
                 SELECT * FROM (SELECT offset, end_offset, count, version, uid, seq, seq_step
                   FROM block_run WHERE source_id = ?1 AND offset >= ?2 AND offset < ?3
                   ORDER BY offset LIMIT ?4)",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(
                params![source_id, clamp(from), clamp(to), limit as i64],
                |r| {
                    Ok(BlockRunRow {
                        offset: r.get::<_, i64>(0)? as u64,
                        end_offset: r.get::<_, i64>(1)? as u64,
                        count: r.get::<_, i64>(2)? as u64,
                        version: r.get::<_, i64>(3)? as u8,
                        uid: r.get::<_, i64>(4)? as u64,
                        seq: r.get::<_, i64>(5)?,
                        seq_step: r.get::<_, i64>(6)?,
                    })
                },
            )
            .map_err(self.err())?;
        let mut out: Vec<BlockRunRow> = rows.collect::<Result<_, _>>().map_err(self.err())?;
        for r in &out {
            let (offset, count) = (r.offset as i64, r.count as i64);
            check_run(&self.path, offset, r.version, r.seq, count, r.seq_step)?;
        }
        out.truncate(limit);
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

    /// Layout runs of a source overlapping sectors `from..to`, in order.
    pub fn runs(&self, source_id: i64, from: u64, to: u64) -> Result<Vec<Run>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT start_sector, sectors, class, uid FROM layout_run
                 WHERE source_id = ?1 AND start_sector >= ?4 AND start_sector < ?3
                   AND start_sector + sectors > ?2
                 ORDER BY start_sector",
            )
            .map_err(self.err())?;
        // No run is longer than MAX_RUN_SECTORS, so the search can start that far back and
        // walk the primary key instead of the whole table.
        let earliest = from.saturating_sub(MAX_RUN_SECTORS);
        let rows = st
            .query_map(
                params![source_id, clamp(from), clamp(to), clamp(earliest)],
                |r| {
                    Ok(Run {
                        start_sector: r.get::<_, i64>(0)? as u64,
                        sectors: r.get::<_, i64>(1)? as u64,
                        class: SectorClass::from_code(r.get(2)?),
                        uid: r.get::<_, Option<i64>>(3)?.map(|u| u as u64),
                    })
                },
            )
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }
}

/// A run of consecutive SBX blocks as stored: `count` blocks from `offset`, sequence numbers
/// `seq`, `seq + seq_step`, …
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRunRow {
    pub offset: u64,
    pub end_offset: u64,
    pub count: u64,
    pub version: u8,
    pub uid: u64,
    pub seq: i64,
    pub seq_step: i64,
}

impl BlockRunRow {
    /// The sequence number of the last block of the run.
    pub fn last_seq(&self) -> i64 {
        self.seq + (self.count as i64 - 1) * self.seq_step
    }
}

/// Blocks one block run holds at most: a scan writes its runs per commit (16 MiB of 128-byte
/// blocks, plus the piece that ends the commit), doubled for margin. A row claiming more
/// is damage, and expanding it block by block would take unbounded time and memory.
const MAX_RUN_BLOCKS: i64 = (2 * MAX_RUN_SECTORS * SECTOR / 128) as i64;

/// Refuse a block-run row no scan writes — an unknown version, a negative offset, a count out
/// of range, sequence numbers leaving 0..=u32::MAX — before it is expanded block by block.
fn check_run(
    path: &Path,
    offset: i64,
    version: u8,
    seq: i64,
    count: i64,
    step: i64,
) -> Result<(), Error> {
    let seqs = 0..=i64::from(u32::MAX);
    let last = count
        .checked_sub(1)
        .and_then(|n| n.checked_mul(step))
        .and_then(|d| seq.checked_add(d));
    let plausible = Version::from_byte(version).is_some()
        && offset >= 0
        && (1..=MAX_RUN_BLOCKS).contains(&count)
        && seqs.contains(&seq)
        && last.is_some_and(|l| seqs.contains(&l));
    if plausible {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "catalogue {} is damaged: it lists {count} block(s) of version {version} at offset {offset} with sequence numbers from {seq} in steps of {step}, which no scan writes; scan the sources again into a new catalogue",
        path.display()
    )))
}

/// SQLite integers are signed.
fn clamp(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

fn insert_blocks(tx: &Transaction<'_>, source_id: i64, blocks: &[BlockRow]) -> SqlResult<()> {
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO block_run (source_id, offset, end_offset, count, version, uid, seq, seq_step, password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for r in block_runs(blocks) {
        let bs = r.first.version.block_size() as u64;
        ins.execute(params![
            source_id,
            r.first.offset as i64,
            (r.first.offset + r.count * bs) as i64,
            r.count as i64,
            r.first.version.byte(),
            uid_to_int(&r.first.uid),
            r.first.seq,
            r.step,
            r.first.password
        ])?;
    }
    Ok(())
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

/// Consecutive blocks of one container whose sequence numbers move by a fixed step.
struct BlockRun {
    first: BlockRow,
    count: u64,
    step: i64,
}

/// Group blocks (in offset order) into runs: each right after the previous, same container,
/// sequence numbers moving by a fixed non-zero step (metadata blocks stand alone).
fn block_runs(blocks: &[BlockRow]) -> Vec<BlockRun> {
    let mut runs: Vec<BlockRun> = Vec::new();
    for b in blocks {
        if let Some(r) = runs.last_mut() {
            let bs = r.first.version.block_size() as u64;
            let last_seq = i64::from(r.first.seq) + (r.count as i64 - 1) * r.step;
            let step = i64::from(b.seq) - last_seq;
            let joins = b.offset == r.first.offset + r.count * bs
                && b.version == r.first.version
                && b.uid == r.first.uid
                && b.password == r.first.password
                && r.first.seq != 0
                && b.seq != 0
                && step != 0
                && (r.count == 1 || step == r.step);
            if joins {
                r.step = step;
                r.count += 1;
                continue;
            }
        }
        runs.push(BlockRun {
            first: *b,
            count: 1,
            step: 1,
        });
    }
    runs
}
