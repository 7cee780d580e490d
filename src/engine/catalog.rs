//! The SQLite catalogue of a scan: the sources scanned (and how far, for resuming), every
//! valid SBX block found, every metadata block, and the layout of each source as run-length
//! runs of sector classes — what recovery and the block map read.
//!
//! Schema versioned in `PRAGMA user_version`; documented in docs/CATALOG.md. The catalogue is
//! the only file a scan writes; sources are never opened for writing.

use super::job::Error;
use super::sqlite;
use crate::format::block::Uid;
use crate::format::{Metadata, Version};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Schema version stored in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

/// Bytes per sector in layout runs.
pub const SECTOR: u64 = 512;

/// The longest layout run stored: runs are cut at every catalogue commit of a scan (16 MiB).
pub const MAX_RUN_SECTORS: u64 = (16 << 20) / SECTOR;

const SCHEMA: &str = "
CREATE TABLE source (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    identity    TEXT NOT NULL UNIQUE,
    scan_from   INTEGER NOT NULL DEFAULT 0,
    scanned_to  INTEGER NOT NULL DEFAULT 0,
    scan_end    INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE block_run (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    end_offset  INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    seq_step    INTEGER NOT NULL,
    password    INTEGER NOT NULL,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX block_run_by_container ON block_run (uid, version, seq);
CREATE TABLE metadata (
    source_id   INTEGER NOT NULL REFERENCES source(id),
    offset      INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    payload     BLOB NOT NULL,
    file_name   TEXT,
    sbx_name    TEXT,
    file_size   INTEGER,
    file_time   INTEGER,
    sbx_time    INTEGER,
    rs_data     INTEGER,
    rs_parity   INTEGER,
    burst       INTEGER,
    PRIMARY KEY (source_id, offset)
) WITHOUT ROWID;
CREATE INDEX metadata_by_container ON metadata (uid, version);
CREATE TABLE layout_run (
    source_id    INTEGER NOT NULL REFERENCES source(id),
    start_sector INTEGER NOT NULL,
    sectors      INTEGER NOT NULL,
    class        INTEGER NOT NULL,
    uid          INTEGER,
    PRIMARY KEY (source_id, start_sector)
) WITHOUT ROWID;
";

/// What a sector of a source holds, as the block map colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum SectorClass {
    /// All zero bytes.
    Empty = 0,
    /// Anything else that is not SBX ("normal files").
    Other = 1,
    SbxMeta = 2,
    SbxData = 3,
    SbxParity = 4,
    /// An SBX data or parity block whose kind is settled when the scan of its source ends.
    SbxBlock = 5,
    /// SBX signature and a plausible header, but the CRC fails.
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

#[derive(Clone, Debug, Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub path: PathBuf,
    pub size: u64,
    pub identity: String,
    pub scan_from: u64,
    pub scanned_to: u64,
    pub scan_end: u64,
    pub complete: bool,
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
    schema: SCHEMA,
    version: SCHEMA_VERSION,
    foreign_keys: true,
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

    /// The row of a source, found by identity (so a moved image resumes), or a new one.
    pub fn source(&self, path: &Path, size: u64, identity: &str) -> Result<SourceRow, Error> {
        let found = self
            .conn
            .query_row(
                "SELECT id FROM source WHERE identity = ?1",
                params![identity],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(self.err())?;
        let id = match found {
            Some(id) => {
                self.conn
                    .execute(
                        "UPDATE source SET path = ?1 WHERE id = ?2",
                        params![path.to_string_lossy(), id],
                    )
                    .map_err(self.err())?;
                id
            }
            None => {
                self.conn
                    .execute(
                        "INSERT INTO source (path, size, identity) VALUES (?1, ?2, ?3)",
                        params![path.to_string_lossy(), size as i64, identity],
                    )
                    .map_err(self.err())?;
                self.conn.last_insert_rowid()
            }
        };
        self.source_by_id(id)
    }

    pub fn source_by_id(&self, id: i64) -> Result<SourceRow, Error> {
        self.conn
            .query_row(
                "SELECT id, path, size, identity, scan_from, scanned_to, scan_end, complete FROM source WHERE id = ?1",
                params![id],
                source_row,
            )
            .map_err(self.err())
    }

    pub fn sources(&self) -> Result<Vec<SourceRow>, Error> {
        let mut st = self
            .conn
            .prepare("SELECT id, path, size, identity, scan_from, scanned_to, scan_end, complete FROM source ORDER BY id")
            .map_err(self.err())?;
        let rows = st.query_map([], source_row).map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Start (or restart) scanning a source over `from..end`, dropping what a previous,
    /// different-range scan left.
    pub fn begin_source(&mut self, id: i64, from: u64, end: u64) -> Result<u64, Error> {
        let s = self.source_by_id(id)?;
        if s.scan_from == from && s.scan_end == end && s.scanned_to > from {
            // Resume: drop anything recorded past the last committed offset.
            let tx = self.conn.transaction().map_err(db(&self.path))?;
            tx.execute(
                "DELETE FROM block_run WHERE source_id = ?1 AND offset >= ?2",
                params![id, s.scanned_to as i64],
            )
            .map_err(db(&self.path))?;
            tx.execute(
                "DELETE FROM metadata WHERE source_id = ?1 AND offset >= ?2",
                params![id, s.scanned_to as i64],
            )
            .map_err(db(&self.path))?;
            tx.execute(
                "DELETE FROM layout_run WHERE source_id = ?1 AND start_sector >= ?2",
                params![id, (s.scanned_to / SECTOR) as i64],
            )
            .map_err(db(&self.path))?;
            tx.commit().map_err(db(&self.path))?;
            return Ok(s.scanned_to);
        }
        let tx = self.conn.transaction().map_err(db(&self.path))?;
        for table in ["block_run", "metadata", "layout_run"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE source_id = ?1"),
                params![id],
            )
            .map_err(db(&self.path))?;
        }
        tx.execute(
            "UPDATE source SET scan_from = ?2, scanned_to = ?2, scan_end = ?3, complete = 0 WHERE id = ?1",
            params![id, from as i64, end as i64],
        )
        .map_err(db(&self.path))?;
        tx.commit().map_err(db(&self.path))?;
        Ok(from)
    }

    /// Record one piece of a scan in one transaction, and how far the scan got.
    pub fn write_batch(
        &mut self,
        source_id: i64,
        blocks: &[BlockRow],
        metas: &[(u64, Uid, Version, Vec<u8>)],
        runs: &[Run],
        scanned_to: u64,
    ) -> Result<(), Error> {
        let path = self.path.clone();
        let e = db(&path);
        let tx = self.conn.transaction().map_err(&e)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO block_run (source_id, offset, end_offset, count, version, uid, seq, seq_step, password)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(&e)?;
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
                ])
                .map_err(&e)?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO metadata (source_id, offset, uid, version, payload, file_name, sbx_name,
                        file_size, file_time, sbx_time, rs_data, rs_parity, burst)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(&e)?;
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
                ])
                .map_err(&e)?;
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO layout_run (source_id, start_sector, sectors, class, uid)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&e)?;
            for r in runs {
                ins.execute(params![
                    source_id,
                    r.start_sector as i64,
                    r.sectors as i64,
                    r.class as u8,
                    r.uid.map(|u| u as i64)
                ])
                .map_err(&e)?;
            }
            tx.execute(
                "UPDATE source SET scanned_to = ?2 WHERE id = ?1",
                params![source_id, scanned_to as i64],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }

    /// Mark a source's scan complete, and settle which of its RS blocks are data and which
    /// parity in the layout runs, from the metadata now known.
    pub fn finish_source(&mut self, source_id: i64) -> Result<(), Error> {
        let shards = self.shard_counts()?;
        let path = self.path.clone();
        let e = db(&path);
        let tx = self.conn.transaction().map_err(&e)?;
        // Runs of plain containers are data.
        tx.execute(
            "UPDATE layout_run SET class = 3 WHERE source_id = ?1 AND class = 5 AND uid IN
             (SELECT DISTINCT uid FROM block_run WHERE source_id = ?1 AND version IN (1, 2, 3))",
            params![source_id],
        )
        .map_err(&e)?;
        // Split the remaining block runs by the kind of the blocks they hold.
        let runs: Vec<(i64, i64, Option<i64>)> = {
            let mut st = tx
                .prepare("SELECT start_sector, sectors, uid FROM layout_run WHERE source_id = ?1 AND class = 5")
                .map_err(&e)?;
            st.query_map(params![source_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(&e)?
            .collect::<Result<_, _>>()
            .map_err(&e)?
        };
        let sector = SECTOR as i64;
        for (start, sectors, uid) in runs {
            // (offset, class) of every block of this container starting in the run.
            let mut kinds: Vec<(i64, i64)> = Vec::new();
            {
                let mut st = tx
                    .prepare_cached(
                        "SELECT offset, count, version, seq, seq_step FROM block_run WHERE source_id = ?1
                         AND offset < ?3 AND end_offset > ?2 AND uid IS ?4 ORDER BY offset",
                    )
                    .map_err(&e)?;
                let rows = st
                    .query_map(
                        params![source_id, start * sector, (start + sectors) * sector, uid],
                        |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, i64>(1)?,
                                r.get::<_, u8>(2)?,
                                r.get::<_, i64>(3)?,
                                r.get::<_, i64>(4)?,
                            ))
                        },
                    )
                    .map_err(&e)?;
                for row in rows {
                    let (offset, count, version, seq, step) = row.map_err(&e)?;
                    let bs = Version::from_byte(version).map_or(512, Version::block_size) as i64;
                    let mp = uid.and_then(|u| shards.get(&(u, version)).copied());
                    for i in 0..count {
                        let seq = seq + i * step;
                        let class = match (seq, mp) {
                            (0, _) => SectorClass::SbxMeta,
                            (n, Some((m, p))) if (n - 1) % (m + p) >= m => SectorClass::SbxParity,
                            (_, Some(_)) => SectorClass::SbxData,
                            _ => SectorClass::SbxBlock,
                        };
                        kinds.push((offset + i * bs, class as i64));
                    }
                }
            }
            tx.execute(
                "DELETE FROM layout_run WHERE source_id = ?1 AND start_sector = ?2",
                params![source_id, start],
            )
            .map_err(&e)?;
            // Each sector takes the class of the last block starting before its end.
            let mut pieces: Vec<(i64, i64, i64)> = Vec::new();
            for s in start..start + sectors {
                let i = kinds.partition_point(|&(o, _)| o < (s + 1) * sector);
                let class = i
                    .checked_sub(1)
                    .map_or(SectorClass::SbxBlock as i64, |i| kinds[i].1);
                match pieces.last_mut() {
                    Some(p) if p.2 == class && p.0 + p.1 == s => p.1 += 1,
                    _ => pieces.push((s, 1, class)),
                }
            }
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO layout_run (source_id, start_sector, sectors, class, uid) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&e)?;
            for (s, n, class) in pieces {
                ins.execute(params![source_id, s, n, class, uid])
                    .map_err(&e)?;
            }
        }
        tx.execute(
            "UPDATE source SET complete = 1 WHERE id = ?1",
            params![source_id],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// (uid, version) → (M, P) of the RS containers whose metadata says so.
    fn shard_counts(&self) -> Result<ShardCounts, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT uid, version, MIN(rs_data), MIN(rs_parity) FROM metadata
                 WHERE rs_data IS NOT NULL AND rs_parity IS NOT NULL GROUP BY uid, version",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
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

    /// Payloads of the valid metadata blocks of a container, most common first (ties: the
    /// first found), each with how many copies agree.
    pub fn metadata_of(&self, uid: Uid, version: Version) -> Result<Vec<(u64, Vec<u8>)>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT payload, COUNT(*) FROM metadata WHERE uid = ?1 AND version = ?2
                 GROUP BY payload ORDER BY COUNT(*) DESC, MIN(source_id), MIN(offset)",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![uid_to_int(&uid), version.byte()], |r| {
                Ok((r.get::<_, i64>(1)? as u64, r.get::<_, Vec<u8>>(0)?))
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

/// (uid, version) → (M, P).
type ShardCounts = std::collections::HashMap<(i64, u8), (i64, i64)>;

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

fn source_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SourceRow> {
    Ok(SourceRow {
        id: r.get(0)?,
        path: PathBuf::from(r.get::<_, String>(1)?),
        size: r.get::<_, i64>(2)? as u64,
        identity: r.get(3)?,
        scan_from: r.get::<_, i64>(4)? as u64,
        scanned_to: r.get::<_, i64>(5)? as u64,
        scan_end: r.get::<_, i64>(6)? as u64,
        complete: r.get::<_, i64>(7)? != 0,
    })
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
