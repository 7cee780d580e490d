//! Settling what a scan could not know while it read: which SBX blocks are data and which
//! parity (from metadata found later), and which blocks that fail their CRC were damaged
//! blocks of a container rather than other data that happens to hold a plausible header
//! (from the valid blocks of the whole catalogue). Also what a resumed scan needs to carry
//! over its restart point. Never touches a source; only rewrites layout classes.

use super::slots::{Geometry, seq_at};
use super::{Catalog, SECTOR, SectorClass, db, int_to_uid};
use crate::engine::job::Error;
use crate::format::Version;
use crate::format::block::{Uid, uid_hex};
use rusqlite::{Transaction, params};
use serde::{Serialize, Serializer};
use std::collections::{HashMap, HashSet};

/// Why a block that fails its CRC is taken for a damaged block of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Evidence {
    /// Valid blocks with its UID are in the catalogue (from any source).
    KnownUid = 1,
    /// A valid block of its version ends where it starts or starts where it ends.
    NextToValid = 2,
    /// It is one of a run of damaged blocks, one of which has evidence.
    InDamagedRun = 3,
}

impl Evidence {
    fn from_code(c: i64) -> Option<Evidence> {
        match c {
            1 => Some(Evidence::KnownUid),
            2 => Some(Evidence::NextToValid),
            3 => Some(Evidence::InDamagedRun),
            _ => None,
        }
    }
}

/// A block with the signature and a plausible header whose CRC fails: what its header
/// claims, and whether anything shows it belonged to a container (else it is other data).
#[derive(Clone, Debug, Serialize)]
pub struct DamagedBlock {
    pub offset: u64,
    pub end_offset: u64,
    pub version: u8,
    #[serde(serialize_with = "uid_text")]
    pub uid: Uid,
    pub seq: u32,
    pub password: bool,
    pub evidence: Option<Evidence>,
}

fn uid_text<S: Serializer>(u: &Uid, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&uid_hex(u))
}

/// A block that starts before a resumed scan's restart point and reaches past it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockAcross {
    pub offset: u64,
    pub len: u64,
    pub version: Version,
    pub uid: Uid,
    pub seq: u32,
    /// Valid (else a damaged-block candidate).
    pub valid: bool,
}

/// (uid, version) → (M, P).
pub(super) type ShardCounts = HashMap<(i64, u8), (i64, i64)>;

impl Catalog {
    /// End a source's scan: settle the damaged blocks of the whole catalogue (the kinds of
    /// SBX blocks need no settling: they follow from the geometry when drawn), and mark the source complete — or, when it changed while it was
    /// scanned (`clean` false), not complete and changed, so the next scan starts afresh.
    pub fn finish_source(&mut self, source_id: i64, clean: bool) -> Result<(), Error> {
        let e = db(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        settle_damaged(&tx).map_err(&e)?;
        tx.execute(
            "UPDATE source SET complete = ?2, changed_during_scan = ?3 WHERE id = ?1",
            params![source_id, clean, !clean],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// Settle the damaged blocks of the whole catalogue now (a scan stopped before its end).
    pub fn settle_damaged(&mut self) -> Result<(), Error> {
        let e = db(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        settle_damaged(&tx).map_err(&e)?;
        tx.commit().map_err(&e)
    }

    /// The damaged-block candidates of a source, in offset order, with their evidence.
    pub fn damaged_blocks(&self, source_id: i64) -> Result<Vec<DamagedBlock>, Error> {
        let mut st = self
            .conn
            .prepare(
                "SELECT offset, end_offset, version, uid, seq, password, evidence FROM damaged_block
                 WHERE source_id = ?1 ORDER BY offset",
            )
            .map_err(self.err())?;
        let rows = st
            .query_map(params![source_id], |r| {
                Ok(DamagedBlock {
                    offset: r.get::<_, i64>(0)? as u64,
                    end_offset: r.get::<_, i64>(1)? as u64,
                    version: r.get(2)?,
                    uid: int_to_uid(r.get(3)?),
                    seq: r.get(4)?,
                    password: r.get(5)?,
                    evidence: Evidence::from_code(r.get(6)?),
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// How many blocks of a source are damaged blocks of a container (with evidence).
    pub fn damaged_count(&self, source_id: i64) -> Result<u64, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM damaged_block WHERE source_id = ?1 AND evidence > 0",
                params![source_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(self.err())
    }

    /// The blocks recorded for a source that start before `at` and end after it: what a
    /// scan resumed at `at` must know of the bytes it did not read again.
    pub fn blocks_across(&self, source_id: i64, at: u64) -> Result<Vec<BlockAcross>, Error> {
        let e = self.err();
        let mut out = Vec::new();
        // Valid blocks never overlap, so only the last block of the last run can reach `at`.
        let last = self.conn.query_row(
            "SELECT offset, count, version, uid, slot, data, parity, burst FROM block_run
             WHERE source_id = ?1 AND offset < ?2 ORDER BY offset DESC LIMIT 1",
            params![source_id, at as i64],
            |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, u8>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)? as u64,
                    (
                        r.get::<_, u16>(5)?,
                        r.get::<_, u16>(6)?,
                        r.get::<_, u32>(7)?,
                    ),
                ))
            },
        );
        match last {
            Ok((offset, count, version, uid, slot, (data, parity, burst))) => {
                let g = Geometry {
                    data,
                    parity,
                    burst,
                };
                if let Some(version) = Version::from_byte(version)
                    && let Some(layout) = g.layout(version)
                {
                    let bs = version.block_size() as u64;
                    let last = count.max(1) - 1;
                    let start = offset + last * bs;
                    if start + bs > at {
                        out.push(BlockAcross {
                            offset: start,
                            len: bs,
                            version,
                            uid: int_to_uid(uid),
                            seq: seq_at(&layout, slot + last),
                            valid: true,
                        });
                    }
                }
            }
            Err(rusqlite::Error::QueryReturnedNoRows) => {}
            Err(x) => return Err(e(x)),
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT offset, end_offset, version, uid, seq FROM damaged_block
                 WHERE source_id = ?1 AND offset < ?2 AND offset >= ?3 AND end_offset > ?2",
            )
            .map_err(&e)?;
        let rows = st
            .query_map(
                params![source_id, at as i64, at.saturating_sub(4096) as i64],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, u8>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, u32>(4)?,
                    ))
                },
            )
            .map_err(&e)?;
        for row in rows {
            let (offset, end, version, uid, seq) = row.map_err(&e)?;
            if let Some(version) = Version::from_byte(version) {
                out.push(BlockAcross {
                    offset,
                    len: end - offset,
                    version,
                    uid: int_to_uid(uid),
                    seq,
                    valid: false,
                });
            }
        }
        out.sort_by_key(|b| b.offset);
        Ok(out)
    }
}

/// (uid, version) → (M, P) of the RS containers whose metadata says so.
pub(super) fn shard_counts(conn: &rusqlite::Connection) -> rusqlite::Result<ShardCounts> {
    let mut st = conn.prepare_cached(
        "SELECT uid, version, MIN(rs_data), MIN(rs_parity) FROM metadata
         WHERE rs_data IS NOT NULL AND rs_parity IS NOT NULL GROUP BY uid, version",
    )?;
    let rows = st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?))))?;
    rows.collect()
}

/// A damaged-block candidate as settling sees it.
struct Candidate {
    source_id: i64,
    offset: i64,
    end: i64,
    version: u8,
    uid: i64,
    evidence: i64,
}

/// Give every damaged-block candidate of the catalogue its evidence (or none), and draw it
/// in the layout accordingly: damaged (class 6) with evidence, other data (class 1) without.
fn settle_damaged(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let known: HashSet<i64> = {
        let mut st = tx.prepare("SELECT DISTINCT uid FROM block_run")?;
        st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    let cands: Vec<Candidate> = {
        let mut st = tx.prepare(
            "SELECT source_id, offset, end_offset, version, uid, evidence FROM damaged_block
             ORDER BY source_id, offset",
        )?;
        st.query_map([], |r| {
            Ok(Candidate {
                source_id: r.get(0)?,
                offset: r.get(1)?,
                end: r.get(2)?,
                version: r.get(3)?,
                uid: r.get(4)?,
                evidence: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?
    };
    let mut ev = Vec::with_capacity(cands.len());
    for c in &cands {
        ev.push(if known.contains(&c.uid) {
            Evidence::KnownUid as i64
        } else if next_to_valid(tx, c)? {
            Evidence::NextToValid as i64
        } else {
            0
        });
    }
    // A run of damaged blocks (one right after the other, one version) shares evidence.
    let joined = |a: &Candidate, b: &Candidate| {
        a.source_id == b.source_id && a.end == b.offset && a.version == b.version
    };
    for i in 1..cands.len() {
        if ev[i] == 0 && ev[i - 1] != 0 && joined(&cands[i - 1], &cands[i]) {
            ev[i] = Evidence::InDamagedRun as i64;
        }
    }
    for i in (0..cands.len().saturating_sub(1)).rev() {
        if ev[i] == 0 && ev[i + 1] != 0 && joined(&cands[i], &cands[i + 1]) {
            ev[i] = Evidence::InDamagedRun as i64;
        }
    }
    for (c, &e) in cands.iter().zip(&ev) {
        if e != c.evidence {
            tx.execute(
                "UPDATE damaged_block SET evidence = ?3 WHERE source_id = ?1 AND offset = ?2",
                params![c.source_id, c.offset, e],
            )?;
        }
        // A scan draws candidates as other data. Those with evidence are drawn (again: a
        // resumed scan may have redrawn part of one) as damaged; those that lost it, back.
        if e != 0 || c.evidence != 0 {
            redraw(tx, c, e != 0)?;
        }
    }
    Ok(())
}

/// Whether a valid block of the candidate's version ends where it starts or starts where
/// it ends, in its source.
fn next_to_valid(tx: &Transaction<'_>, c: &Candidate) -> rusqlite::Result<bool> {
    let before: Option<(i64, u8)> = tx
        .prepare_cached(
            "SELECT end_offset, version FROM block_run WHERE source_id = ?1 AND offset < ?2
             ORDER BY offset DESC LIMIT 1",
        )?
        .query_map(params![c.source_id, c.offset], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .next()
        .transpose()?;
    if before == Some((c.offset, c.version)) {
        return Ok(true);
    }
    let after = tx
        .prepare_cached(
            "SELECT 1 FROM block_run WHERE source_id = ?1 AND offset = ?2 AND version = ?3",
        )?
        .exists(params![c.source_id, c.end, c.version])?;
    Ok(after)
}

/// Where the layout run holding sector `at` of a source starts (runs tile a source).
fn last_run_at(tx: &Transaction<'_>, source_id: i64, at: i64) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "SELECT COALESCE(MAX(start_sector), 0) FROM layout_run
         WHERE source_id = ?1 AND start_sector <= ?2",
    )?
    .query_row(params![source_id, at], |r| r.get(0))
}

/// Draw a candidate's sectors as damaged, or as other data.
fn redraw(tx: &Transaction<'_>, c: &Candidate, damaged: bool) -> rusqlite::Result<()> {
    let (from, to) = (
        c.offset / SECTOR as i64,
        (c.end + SECTOR as i64 - 1) / SECTOR as i64,
    );
    let (old, new) = if damaged {
        (SectorClass::Other, SectorClass::Damaged)
    } else {
        (SectorClass::Damaged, SectorClass::Other)
    };
    tx.prepare_cached(
        "UPDATE layout_run SET class = ?6 WHERE source_id = ?1 AND start_sector >= ?2
         AND start_sector < ?4 AND start_sector + sectors > ?3 AND uid = ?5 AND class = ?7",
    )?
    .execute(params![
        c.source_id,
        last_run_at(tx, c.source_id, from)?,
        from,
        to,
        c.uid,
        new as u8,
        old as u8
    ])?;
    Ok(())
}
