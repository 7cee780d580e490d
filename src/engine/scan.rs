//! Scan raw images and block devices for SBX blocks of every version, at any byte offset,
//! and record them — with a sector-by-sector layout of each source — in the catalogue.
//!
//! Sources are opened read-only and read sequentially in large pieces on a reader thread;
//! the signature (plain, and XORed with the password's keystream when one is given) is
//! searched with `memmem` and only candidates get a CRC (on rayon). Memory is bounded by the
//! read size whatever the source size. This file reads and classifies; session.rs runs a
//! scan over its sources (identity, resume, commits, report); identity.rs says what a source
//! is. A cancelled or killed scan resumes from the last committed piece. Never writes to a
//! source.

use super::catalog::{
    BlockAcross, BlockRow, DamagedRow, MetaRow, Run, SECTOR, SectorClass, uid_to_int,
};
use super::job::{CancelFlag, Error};
use super::source::{ReadAt, read_tolerant};
use crate::format::block::{self, BlockState, Header, SIGNATURE, Uid};
use crate::format::password;
use memchr::memmem;
use rayon::prelude::*;
use std::sync::mpsc::sync_channel;

pub(crate) mod identity;
mod session;

pub use session::{ScanOpts, ScanReport, SourceReport, run};

/// Bytes read and scanned at a time: one read of 1 MiB at a 4 KiB-aligned offset (the
/// overlap of the previous piece comes first) whenever the scan starts on a 4 KiB boundary.
const PIECE: usize = 1 << 20;
/// Pieces searched in parallel at most.
const BATCH: usize = 4;
/// The largest block; a piece is read with this much more so blocks across its end are whole.
const MAX_BLOCK: usize = 4096;

/// The findings of one piece of a source.
pub struct Piece {
    pub end: u64,
    pub blocks: Vec<BlockRow>,
    pub metas: Vec<MetaRow>,
    pub runs: Vec<Run>,
    /// Blocks whose CRC fails: damaged blocks or chance headers, settled later.
    pub damaged: Vec<DamagedRow>,
    pub unreadable: u64,
}

impl Piece {
    /// Append the findings of the next piece.
    fn absorb(&mut self, next: Piece) {
        self.end = next.end;
        self.blocks.extend(next.blocks);
        self.metas.extend(next.metas);
        self.damaged.extend(next.damaged);
        self.unreadable += next.unreadable;
        let mut runs = next.runs.into_iter();
        if let (Some(last), Some(first)) = (self.runs.last_mut(), runs.next()) {
            if last.class == first.class
                && last.uid == first.uid
                && last.start_sector + last.sectors == first.start_sector
            {
                last.sectors += first.sectors;
            } else {
                self.runs.push(first);
            }
        }
        self.runs.extend(runs);
    }
}

/// Read `from..end` of a source piece by piece and hand each piece's findings to `sink`.
/// Sectors that cannot be read are zeroed, recorded as unreadable, and the scan goes on.
/// `across` are the blocks recorded before `from` that reach past it (a resumed scan).
#[allow(clippy::too_many_arguments)]
pub fn scan_source(
    source: Box<dyn ReadAt>,
    from: u64,
    end: u64,
    keystream: Option<&[u8]>,
    uids: &[Uid],
    across: &[BlockAcross],
    cancel: &CancelFlag,
    mut sink: impl FnMut(Piece) -> Result<(), Error>,
) -> Result<(), Error> {
    // Pieces start on sector boundaries so layout runs never split a sector.
    let from = from / SECTOR * SECTOR;
    let (tx, rx) = sync_channel::<(u64, Vec<u8>, Vec<u64>, bool)>(BATCH);
    // A piece wholly inside a hole of a sparse image is all zeros: it is not read (an empty
    // buffer and `true` stand for it). Not with a keystream that turns the signature into zeros,
    // whose blocks may lie in zero sectors.
    let skip_holes = keystream.is_none_or(|ks| !zero_signature(ks));
    // Buffers come back from the scanner for reuse: no fresh pages to fault in per piece.
    let (back_tx, back_rx) = sync_channel::<Vec<u8>>(2 * BATCH);
    let reader_cancel = cancel.clone();
    let reader = std::thread::spawn(move || {
        // Each piece needs MAX_BLOCK bytes past its end; they open the next piece, so the
        // source is read strictly sequentially (which keeps the kernel's read-ahead happy).
        let mut at = from;
        let mut tail: Vec<u8> = Vec::new();
        // Unreadable sectors of that overlap: they belong to the next piece.
        let mut tail_bad: Vec<u64> = Vec::new();
        while at < end && !reader_cancel.is_cancelled() {
            let want = ((end - at) as usize).min(PIECE) + MAX_BLOCK;
            let reach = at + (PIECE + MAX_BLOCK) as u64;
            if skip_holes
                && reach <= end
                && tail.iter().all(|&b| b == 0)
                && tail_bad.is_empty()
                && source.data_from(at).is_some_and(|d| d >= reach)
            {
                tail.clear();
                tail.resize(MAX_BLOCK, 0);
                if tx.send((at, Vec::new(), Vec::new(), true)).is_err() {
                    return;
                }
                at += PIECE as u64;
                continue;
            }
            // A recycled buffer is overwritten, not cleared: zeroing it would cost a pass.
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(want, 0);
            let have = tail.len().min(want);
            buf[..have].copy_from_slice(&tail[..have]);
            let (n, read_bad) = read_piece(&*source, at + have as u64, &mut buf[have..]);
            buf.truncate(have + n);
            tail.clear();
            tail.extend_from_slice(buf.get(PIECE..).unwrap_or(&[]));
            let next = at + PIECE as u64;
            let mut bad = std::mem::take(&mut tail_bad);
            for s in read_bad {
                if s < next {
                    bad.push(s);
                } else {
                    tail_bad.push(s);
                }
            }
            if tx.send((at, buf, bad, false)).is_err() {
                return;
            }
            at = next;
        }
    });
    let mut carry: Vec<Hit> = across.iter().map(Hit::across).collect();
    // Pieces waiting when the scanner comes round are searched in parallel; only the cheap
    // bookkeeping that links a piece to the previous one runs in order.
    while let Ok(first) = rx.recv() {
        cancel.check()?;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let found: Vec<Detected> = batch
            .par_iter()
            .map(|(at, buf, _, hole)| {
                if *hole {
                    // A hole: every sector is zero, nothing to search.
                    let len = ((end - at) as usize).min(PIECE);
                    return Detected {
                        hits: Vec::new(),
                        zero: vec![true; len.div_ceil(SECTOR as usize)],
                    };
                }
                detect(
                    buf,
                    *at,
                    ((end - at) as usize).min(PIECE).min(buf.len()),
                    keystream,
                )
            })
            .collect();
        for ((at, buf, bad, hole), det) in batch.into_iter().zip(found) {
            let len = if hole {
                ((end - at) as usize).min(PIECE)
            } else {
                ((end - at) as usize).min(PIECE).min(buf.len())
            };
            let piece = resolve(det, at, len, uids, &bad, &mut carry);
            let _ = back_tx.try_send(buf);
            sink(piece)?;
        }
    }
    reader.join().expect("scan reader panicked");
    cancel.check()
}

/// Read `buf.len()` bytes at byte `at` (fewer at the end) through the tolerant reader:
/// sectors that fail to read are zeroed and listed (as byte offsets of whole sectors).
fn read_piece(src: &dyn ReadAt, at: u64, buf: &mut [u8]) -> (usize, Vec<u64>) {
    let t = read_tolerant(src, at, buf);
    let mut bad = Vec::new();
    for r in t.unreadable {
        let mut s = r.start / SECTOR * SECTOR;
        while s < r.end {
            bad.push(s);
            s += SECTOR;
        }
    }
    (t.len, bad)
}

/// A block found by the signature search.
#[derive(Clone, Debug)]
struct Hit {
    offset: u64,
    len: u64,
    state: BlockState,
    /// The block was XORed with the password keystream.
    password: bool,
    /// The metadata payload, for valid metadata blocks.
    meta: Option<Vec<u8>>,
}

impl Hit {
    /// A block recorded before a resumed scan's restart point, as the search had found it.
    fn across(b: &BlockAcross) -> Hit {
        let h = Header {
            version: b.version,
            crc: 0,
            uid: b.uid,
            seq: b.seq,
        };
        Hit {
            offset: b.offset,
            len: b.len,
            state: if b.valid {
                BlockState::Valid(h)
            } else {
                BlockState::Damaged(h)
            },
            password: false,
            meta: None,
        }
    }

    /// Preference among hits at one offset (lower first): valid before damaged, plain before
    /// XORed.
    fn rank(&self) -> (bool, bool) {
        (!matches!(self.state, BlockState::Valid(_)), self.password)
    }
}

/// What the expensive search of one piece found: blocks starting in it, and which of its
/// sectors are all zero.
struct Detected {
    hits: Vec<Hit>,
    zero: Vec<bool>,
}

/// Find every block starting in `buf[..len]` (which starts at byte `at` of the source) and
/// note the all-zero sectors of `at..at+len`. Independent of other pieces. With a password,
/// both plain blocks and blocks XORed with its keystream are found.
fn detect(buf: &[u8], at: u64, len: usize, keystream: Option<&[u8]>) -> Detected {
    let zero: Vec<bool> = buf[..len].chunks(SECTOR as usize).map(is_zero).collect();
    // A block's signature lies in a sector that is not all zero: search only the stretches
    // of such sectors (most of an empty or sparse disk is skipped after one pass).
    let mut hits = Vec::new();
    let sector = SECTOR as usize;
    let mut i = 0;
    while i < zero.len() {
        if zero[i] {
            i += 1;
            continue;
        }
        let j = zero[i..]
            .iter()
            .position(|&z| z)
            .map_or(zero.len(), |n| i + n);
        let (a, b) = (i * sector, (j * sector).min(len));
        // The window goes on past the stretch so blocks starting in it are read whole.
        let window = &buf[a..];
        hits.extend(search(window, at + a as u64, b - a, None));
        if let Some(ks) = keystream.filter(|&ks| !zero_signature(ks)) {
            hits.extend(search(window, at + a as u64, b - a, Some(ks)));
        }
        i = j;
    }
    if let Some(ks) = keystream.filter(|&ks| zero_signature(ks)) {
        // A keystream that turns the signature into zeros: it may lie in a zero sector.
        hits.extend(search(buf, at, len, Some(ks)));
    }
    if keystream.is_some() {
        // Both signatures can agree (a keystream starting with zeros): keep the best reading.
        hits.sort_by_key(|h| (h.offset, h.rank()));
        hits.dedup_by_key(|h| h.offset);
    }
    Detected { hits, zero }
}

/// Whether `keystream` turns the signature into zero bytes.
fn zero_signature(keystream: &[u8]) -> bool {
    let mut sig = *SIGNATURE;
    password::apply(&mut sig, keystream);
    sig.iter().all(|&b| b == 0)
}

/// The blocks starting in `buf[..len]` whose signature is plain, or XORed with `keystream`.
fn search(buf: &[u8], at: u64, len: usize, keystream: Option<&[u8]>) -> Vec<Hit> {
    let mut sig = *SIGNATURE;
    if let Some(ks) = keystream {
        password::apply(&mut sig, ks);
    }
    // Only signatures starting in `..len`; the bytes after are read for their blocks.
    let haystack = &buf[..(len + sig.len() - 1).min(buf.len())];
    memmem::find_iter(haystack, &sig)
        .take_while(|&p| p < len)
        .filter_map(|p| {
            let avail = (buf.len() - p).min(MAX_BLOCK);
            // Without a password the block is read where it lies; with one, a plain copy.
            let plain: std::borrow::Cow<'_, [u8]> = match keystream {
                None => std::borrow::Cow::Borrowed(&buf[p..p + avail]),
                Some(ks) => {
                    let mut b = buf[p..p + avail].to_vec();
                    password::apply(&mut b, ks);
                    std::borrow::Cow::Owned(b)
                }
            };
            let block = &plain[..];
            let state = block::classify(block);
            let h = match state {
                BlockState::NotSbx => return None,
                BlockState::Valid(h) | BlockState::Damaged(h) => h,
            };
            let bs = h.version.block_size();
            let meta = (matches!(state, BlockState::Valid(_)) && h.seq == 0)
                .then(|| block[16..bs].to_vec());
            Some(Hit {
                offset: at + p as u64,
                len: bs.min(avail) as u64,
                state,
                password: keystream.is_some(),
                meta,
            })
        })
        .collect()
}

/// Turn what [`detect`] found in one piece into catalogue rows and sector runs. `carry` holds
/// blocks of earlier pieces that reach into this one, and receives those of this piece that
/// reach into the next.
fn resolve(
    found: Detected,
    at: u64,
    len: usize,
    uids: &[Uid],
    bad: &[u64],
    carry: &mut Vec<Hit>,
) -> Piece {
    let checked = found.hits.into_iter().map(Some);
    let mut piece = Piece {
        end: at + len as u64,
        blocks: Vec::new(),
        metas: Vec::new(),
        runs: Vec::new(),
        damaged: Vec::new(),
        // Sectors read past the piece's end (its overlap) are counted with the next piece.
        unreadable: bad
            .iter()
            .filter(|&&o| o >= at && o < at + len as u64)
            .count() as u64,
    };
    // Accept hits in order; a hit inside an accepted valid block is part of its payload.
    let mut accepted: Vec<Hit> = std::mem::take(carry);
    let mut covered_to = accepted
        .iter()
        .filter(|h| matches!(h.state, BlockState::Valid(_)))
        .map(|h| h.offset + h.len)
        .max()
        .unwrap_or(0);
    for hit in checked.flatten() {
        if hit.offset < covered_to {
            continue;
        }
        let h = match hit.state {
            BlockState::Valid(h) | BlockState::Damaged(h) => h,
            BlockState::NotSbx => continue,
        };
        if !uids.is_empty() && !uids.contains(&h.uid) {
            continue;
        }
        let row = BlockRow {
            offset: hit.offset,
            version: h.version,
            uid: h.uid,
            seq: h.seq,
            password: hit.password,
        };
        if matches!(hit.state, BlockState::Valid(_)) {
            covered_to = hit.offset + hit.len;
            piece.blocks.push(row);
            if let Some(m) = &hit.meta {
                piece.metas.push((hit.offset, h.uid, h.version, m.clone()));
            }
        } else {
            piece.damaged.push(DamagedRow {
                block: row,
                len: hit.len,
            });
        }
        accepted.push(hit);
    }
    piece.runs = layout(&found.zero, at, len, &accepted, bad);
    let end = at + len as u64;
    *carry = accepted
        .into_iter()
        .filter(|h| h.offset + h.len > end)
        .collect();
    piece
}

/// The sector classes of `at..at+len` as runs, from the all-zero flags of its sectors.
fn layout(zero: &[bool], at: u64, len: usize, hits: &[Hit], bad: &[u64]) -> Vec<Run> {
    let first = at / SECTOR;
    let sectors = (len as u64).div_ceil(SECTOR) as usize;
    let mut class: Vec<(SectorClass, Option<u64>)> = zero
        .iter()
        .map(|&z| {
            (
                if z {
                    SectorClass::Empty
                } else {
                    SectorClass::Other
                },
                None,
            )
        })
        .collect();
    for h in hits {
        // Metadata, data and parity alike: one run per piece of a container, its blocks'
        // kinds drawn from its block runs' geometry.
        let c = match h.state {
            BlockState::Valid(hd) => (SectorClass::SbxBlock, Some(uid_to_int(&hd.uid) as u64)),
            // Other data until settled: a damaged block only with evidence of its container.
            BlockState::Damaged(hd) => (SectorClass::Other, Some(uid_to_int(&hd.uid) as u64)),
            BlockState::NotSbx => (SectorClass::Other, None),
        };
        let a = (h.offset / SECTOR).max(first);
        let b = (h.offset + h.len)
            .div_ceil(SECTOR)
            .min(first + sectors as u64);
        for s in a..b {
            class[(s - first) as usize] = c;
        }
    }
    for &o in bad {
        if let Some(slot) = class.get_mut(((o - at) / SECTOR) as usize) {
            *slot = (SectorClass::Unreadable, None);
        }
    }
    let mut runs: Vec<Run> = Vec::new();
    for (i, (c, uid)) in class.into_iter().enumerate() {
        match runs.last_mut() {
            Some(r) if r.class == c && r.uid == uid => r.sectors += 1,
            _ => runs.push(Run {
                start_sector: first + i as u64,
                sectors: 1,
                class: c,
                uid,
            }),
        }
    }
    runs
}

/// `runs` with the sectors of a file system's structures (`structures`: sorted sector ranges
/// `start..end` that do not overlap) that hold other data (not SBX, not empty, readable)
/// turned into [`SectorClass::FsStructure`].
pub fn mark_structures(runs: &[Run], structures: &[(u64, u64)]) -> Vec<Run> {
    if structures.is_empty() {
        return runs.to_vec();
    }
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    let mut push = |r: Run| match out.last_mut() {
        Some(l)
            if l.class == r.class
                && l.uid == r.uid
                && l.start_sector + l.sectors == r.start_sector =>
        {
            l.sectors += r.sectors
        }
        _ => out.push(r),
    };
    for &r in runs {
        if r.class != SectorClass::Other || r.uid.is_some() {
            push(r);
            continue;
        }
        let (mut at, end) = (r.start_sector, r.start_sector + r.sectors);
        let first = structures.partition_point(|&(_, e)| e <= at);
        for &(s, e) in &structures[first..] {
            if s >= end {
                break;
            }
            if s > at {
                push(Run {
                    start_sector: at,
                    sectors: s - at,
                    ..r
                });
            }
            let (a, b) = (s.max(at), e.min(end));
            push(Run {
                start_sector: a,
                sectors: b - a,
                class: SectorClass::FsStructure,
                ..r
            });
            at = b;
        }
        if at < end {
            push(Run {
                start_sector: at,
                sectors: end - at,
                ..r
            });
        }
    }
    out
}

/// All zero bytes (written to vectorise: no early exit per byte).
fn is_zero(s: &[u8]) -> bool {
    // Sectors that hold data mostly say so in their first bytes (every SBX block does):
    // only a sector that starts with zeros is read whole.
    if s.iter().take(16).any(|&b| b != 0) {
        return false;
    }
    let (words, rest) = s.split_at(s.len() / 8 * 8);
    words.chunks_exact(8).fold(0u64, |a, c| {
        a | u64::from_ne_bytes(c.try_into().expect("8 bytes"))
    }) == 0
        && rest.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::source::{ByteRange, FaultySource};

    fn scan(src: FaultySource, end: u64) -> Vec<Piece> {
        let mut pieces = Vec::new();
        scan_source(
            Box::new(src),
            0,
            end,
            None,
            &[],
            &[],
            &CancelFlag::new(),
            |p| {
                pieces.push(p);
                Ok(())
            },
        )
        .unwrap();
        pieces
    }

    fn sectors_of(pieces: &[Piece], class: SectorClass) -> Vec<u64> {
        pieces
            .iter()
            .flat_map(|p| &p.runs)
            .filter(|r| r.class == class)
            .flat_map(|r| r.start_sector..r.start_sector + r.sectors)
            .collect()
    }

    #[test]
    fn structures_split_other_data_and_leave_the_rest() {
        let run = |s, n, class, uid| Run {
            start_sector: s,
            sectors: n,
            class,
            uid,
        };
        let runs = [
            run(0, 10, SectorClass::Other, None),
            run(10, 5, SectorClass::Empty, None),
            run(15, 10, SectorClass::Other, None),
            run(25, 3, SectorClass::SbxBlock, Some(7)),
        ];
        let got = mark_structures(&runs, &[(0, 1), (1, 4), (8, 20), (26, 27)]);
        assert_eq!(
            got,
            vec![
                run(0, 4, SectorClass::FsStructure, None),
                run(4, 4, SectorClass::Other, None),
                run(8, 2, SectorClass::FsStructure, None),
                run(10, 5, SectorClass::Empty, None),
                run(15, 5, SectorClass::FsStructure, None),
                run(20, 5, SectorClass::Other, None),
                run(25, 3, SectorClass::SbxBlock, Some(7)),
            ]
        );
    }

    #[test]
    fn unreadable_sectors_in_a_pieces_overlap_are_drawn_and_counted_once() {
        let size = 3 * PIECE as u64;
        let p = PIECE as u64;
        // One sector early in piece 0; two read with piece 0's overlap (which belong to
        // piece 1); one read with piece 1's overlap.
        let bad = vec![
            ByteRange::new(100 * 512, 101 * 512),
            ByteRange::new(p + 1024, p + 1536),
            ByteRange::new(p + 3584, p + 4096),
            ByteRange::new(2 * p + 512, 2 * p + 1000),
        ];
        let pieces = scan(FaultySource::new(vec![0x55; size as usize], bad), size);
        let want = vec![100, (p + 1024) / 512, (p + 3584) / 512, (2 * p + 512) / 512];
        assert_eq!(sectors_of(&pieces, SectorClass::Unreadable), want);
        assert_eq!(pieces.iter().map(|p| p.unreadable).sum::<u64>(), 4);
        // Nothing else went missing: every other sector is "other data".
        assert_eq!(
            sectors_of(&pieces, SectorClass::Other).len() as u64,
            size / 512 - 4
        );
    }

    #[test]
    fn unreadable_sectors_past_the_scanned_range_are_not_counted() {
        let p = PIECE as u64;
        let bad = vec![ByteRange::new(p + 512, p + 1024)];
        let pieces = scan(FaultySource::new(vec![0x55; 2 * PIECE], bad), p);
        assert_eq!(pieces.iter().map(|p| p.unreadable).sum::<u64>(), 0);
        assert!(sectors_of(&pieces, SectorClass::Unreadable).is_empty());
    }
}
