//! The sources of a recovery: read-only handles on the scanned images, each read through a
//! read-ahead window with the tolerant reader, and the account of where unreadable sectors
//! cost a container blocks — sectors that failed while recovering, and sectors the scan
//! could not read where the container's missing blocks would lie.
//!
//! Never opens a source for writing.

use super::catalog::{Catalog, Copy};
use super::geometry::{self, Sample};
use super::job::Error;
use super::seqset::SeqSet;
use super::source::{ByteRange, ReadAt, any_overlap, push_merged, read_tolerant};
use crate::format::block::{self, BlockState, Uid};
use crate::format::rs::{Layout, Slot};
use crate::format::{Metadata, Version, password};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

/// Bytes read ahead around a block, so containers laid out in order read sequentially.
const READ_AHEAD: usize = 1 << 20;
/// At most this many ranges are listed per container (all are counted).
const LIST_LIMIT: usize = 1000;
/// At most this many unreadable runs of one source are looked at.
const RUNS_LIMIT: usize = 100_000;
/// At most this many placements (pieces) of one container on one source are looked at.
const ANCHORS_LIMIT: usize = 4096;

/// How a recovery opens a source (read-only); tests put a failing disk here.
pub type OpenFn = dyn Fn(&Path) -> io::Result<Box<dyn ReadAt>> + Sync;

/// Open a source file read-only.
pub fn open_file(path: &Path) -> io::Result<Box<dyn ReadAt>> {
    Ok(Box::new(crate::engine::granted::open(path)?))
}

/// Bytes of one source that could not be read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SourceRange {
    pub source: PathBuf,
    /// Byte range of the source, `start..end` (end exclusive).
    pub start: u64,
    pub end: u64,
}

/// A source's read-ahead window: bytes `start..start + buf.len()` and which of them failed.
struct Window {
    src: Box<dyn ReadAt>,
    start: u64,
    buf: Vec<u8>,
    bad: Vec<ByteRange>,
}

/// What reading a block's bytes gave.
enum Bytes<'a> {
    Read(&'a [u8]),
    /// Part of the block could not be read: these ranges (clipped to the block).
    Unreadable(Vec<ByteRange>),
    /// The source ends before the block does.
    Short,
}

/// The slot before a block 1: room for nothing, erased, unreadable, a block that fails its
/// CRC, or other data (another file, another container).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotBefore {
    NoRoom,
    Zero,
    Unreadable,
    DamagedBlock,
    Other,
}

pub struct Sources<'o> {
    open: &'o OpenFn,
    windows: HashMap<i64, Window>,
    /// Path and size of each source, as the catalogue has them.
    rows: HashMap<i64, (PathBuf, u64)>,
    /// Unreadable ranges each source's scan recorded (loaded when first needed).
    scanned_bad: HashMap<i64, Vec<ByteRange>>,
    /// Unreadable bytes met while reading copies: (seq, source, range).
    hits: Vec<(u32, i64, ByteRange)>,
}

impl<'o> Sources<'o> {
    pub fn new(catalog: &Catalog, open: &'o OpenFn) -> Result<Sources<'o>, Error> {
        Ok(Sources {
            open,
            windows: HashMap::new(),
            rows: catalog
                .sources()?
                .into_iter()
                .map(|s| (s.id, (s.path, s.size)))
                .collect(),
            scanned_bad: HashMap::new(),
            hits: Vec::new(),
        })
    }

    /// The payload of copy `c` if it still holds a valid block of (`uid`, `version`). A
    /// copy with an unreadable byte gives none, and is remembered for [`Sources::unreadable`].
    pub fn payload(
        &mut self,
        c: &Copy,
        uid: Uid,
        version: Version,
        keystream: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, Error> {
        let bs = version.block_size();
        let raw = match self.block(c.source_id, c.offset, bs)? {
            Bytes::Read(raw) => raw,
            Bytes::Short => return Ok(None),
            Bytes::Unreadable(bad) => {
                // Only the start of a new container's account is cleared (new_container).
                for r in bad {
                    if self.hits.len() < 64 * LIST_LIMIT {
                        self.hits.push((c.seq, c.source_id, r));
                    }
                }
                return Ok(None);
            }
        };
        let mut owned;
        let bytes: &[u8] = match (c.password, keystream) {
            (true, Some(ks)) => {
                owned = raw.to_vec();
                password::apply(&mut owned, ks);
                &owned
            }
            _ => raw,
        };
        Ok(match block::classify(bytes) {
            BlockState::Valid(h) if h.uid == uid && h.version == version && h.seq == c.seq => {
                Some(bytes[16..].to_vec())
            }
            _ => None,
        })
    }

    /// What lies in the block-sized slot just before copy `c`: where a container's metadata
    /// block would be when `c` is its block 1.
    pub fn slot_before(&mut self, c: &Copy, bs: usize) -> Result<SlotBefore, Error> {
        let Some(at) = c.offset.checked_sub(bs as u64) else {
            return Ok(SlotBefore::NoRoom);
        };
        Ok(match self.block(c.source_id, at, bs)? {
            Bytes::Short => SlotBefore::NoRoom,
            Bytes::Unreadable(_) => SlotBefore::Unreadable,
            Bytes::Read(b) if b.iter().all(|&x| x == 0) => SlotBefore::Zero,
            Bytes::Read(b) => match block::classify(b) {
                BlockState::Damaged(_) => SlotBefore::DamagedBlock,
                _ => SlotBefore::Other,
            },
        })
    }

    /// Forget the unreadable copies met so far: a new container starts.
    pub fn new_container(&mut self) {
        self.hits.clear();
    }

    fn block(&mut self, source: i64, offset: u64, len: usize) -> Result<Bytes<'_>, Error> {
        let (path, size) = self.rows.get(&source).cloned().unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(slot) = self.windows.entry(source) {
            let src = (self.open)(&path).map_err(Error::read(&path))?;
            slot.insert(Window {
                src,
                start: 0,
                buf: Vec::new(),
                bad: Vec::new(),
            });
        }
        let w = self.windows.get_mut(&source).expect("just opened");
        let end = offset + len as u64;
        if offset < w.start || end > w.start + w.buf.len() as u64 {
            // Clip to the size the scan saw, so an unreadable last sector ends there.
            let want =
                (READ_AHEAD.max(len) as u64).min(size.saturating_sub(offset).max(len as u64));
            w.buf.resize(want as usize, 0);
            let t = read_tolerant(&*w.src, offset, &mut w.buf);
            w.buf.truncate(t.len);
            w.bad = t.unreadable;
            w.start = offset;
        }
        if any_overlap(&w.bad, offset, end) {
            return Ok(Bytes::Unreadable(
                w.bad.iter().filter_map(|r| r.clip(offset, end)).collect(),
            ));
        }
        let from = (offset - w.start) as usize;
        Ok(w.buf
            .get(from..from + len)
            .map_or(Bytes::Short, Bytes::Read))
    }

    /// Where unreadable sectors cost container (`uid`, `version`) blocks that no copy gave
    /// back (`came_back` holds those that did): copies that failed to read while recovering,
    /// and sectors its scan could not read where a missing block would lie going by the
    /// container's blocks around them. Returns (bytes, ranges; the first 1000 listed).
    #[allow(clippy::too_many_arguments)]
    pub fn unreadable(
        &mut self,
        catalog: &Catalog,
        layout: Layout,
        meta: &Metadata,
        copies: &[Copy],
        came_back: &SeqSet,
        meta_lost: bool,
    ) -> Result<(u64, Vec<SourceRange>), Error> {
        let mut per_source: BTreeMap<i64, Vec<ByteRange>> = BTreeMap::new();
        for &(seq, source, r) in &self.hits {
            if !came_back.contains(seq) {
                per_source.entry(source).or_default().push(r);
            }
        }
        let mut by_source: BTreeMap<i64, Vec<&Copy>> = BTreeMap::new();
        for c in copies {
            by_source.entry(c.source_id).or_default().push(c);
        }
        let bs = layout.version.block_size() as u64;
        let max_seq = copies.last().map_or(0, |c| c.seq);
        let sets = meta.file_size.map_or_else(
            || u64::from(max_seq).div_ceil(layout.shards() as u64),
            |n| layout.sets_for(n),
        );
        for (source, on_source) in by_source {
            let bad: &[ByteRange] = match self.scanned_bad.entry(source) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(catalog.unreadable(source, RUNS_LIMIT)?)
                }
            };
            if bad.is_empty() {
                continue;
            }
            let layout = placed_layout(layout, meta, &on_source, bs);
            let total = layout.slot_count(sets);
            let lost = |k: u64| match layout.slot(k) {
                Slot::Meta => meta_lost,
                Slot::Seq(seq) => !came_back.contains(seq),
            };
            for (anchor, lo, hi) in anchors(layout, &on_source, bs) {
                for r in bad {
                    for hit in lost_in(r, anchor, lo, hi, total, bs, &lost) {
                        per_source.entry(source).or_default().push(hit);
                    }
                }
            }
        }
        let (mut bytes, mut out) = (0, Vec::new());
        for (source, mut ranges) in per_source {
            ranges.sort_unstable();
            let mut merged = Vec::new();
            for r in ranges {
                push_merged(&mut merged, r, usize::MAX);
            }
            let path = self
                .rows
                .get(&source)
                .map(|r| r.0.clone())
                .unwrap_or_default();
            for r in merged {
                bytes += r.len();
                if out.len() < LIST_LIMIT {
                    out.push(SourceRange {
                        source: path.clone(),
                        start: r.start,
                        end: r.end,
                    });
                }
            }
        }
        Ok((bytes, out))
    }
}

/// The layout with the burst level the copies on one source were written with: the stored
/// one, else the one that puts the most of them on one grid (versions 1–3 have none).
fn placed_layout(layout: Layout, meta: &Metadata, copies: &[&Copy], bs: u64) -> Layout {
    if !layout.is_rs() {
        return layout;
    }
    if let Some(b) = meta.burst {
        return Layout { burst: b, ..layout };
    }
    let sample = Sample {
        blocks: copies.iter().take(512).map(|c| (c.offset, c.seq)).collect(),
        ..Sample::default()
    };
    match geometry::infer_burst_and_start(layout, &sample, bs, geometry::all_bursts(), |_, _| false)
    {
        Some((burst, _, _)) => Layout { burst, ..layout },
        None => layout,
    }
}

/// The placements of a container on one source: for each byte offset its slot 0 would be
/// at going by some copy, the lowest and highest slot of the copies that agree.
fn anchors(layout: Layout, copies: &[&Copy], bs: u64) -> Vec<(u64, u64, u64)> {
    let mut at: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for c in copies {
        let k = layout.slot_of(c.seq);
        let Some(a) = c.offset.checked_sub(k * bs) else {
            continue;
        };
        if at.len() >= ANCHORS_LIMIT && !at.contains_key(&a) {
            continue;
        }
        let e = at.entry(a).or_insert((k, k));
        e.0 = e.0.min(k);
        e.1 = e.1.max(k);
    }
    at.into_iter().map(|(a, (lo, hi))| (a, lo, hi)).collect()
}

/// The parts of unreadable range `r` that hold slots (of the placement at `anchor`, whose
/// copies span slots `lo..=hi`) that are `lost`. Only slots next to or inside the span
/// count, so a piece's grid is not laid over unrelated data far away.
fn lost_in(
    r: &ByteRange,
    anchor: u64,
    lo: u64,
    hi: u64,
    total: u64,
    bs: u64,
    lost: &dyn Fn(u64) -> bool,
) -> Vec<ByteRange> {
    if r.end <= anchor || total == 0 {
        return Vec::new();
    }
    let k0 = (r.start.max(anchor) - anchor) / bs;
    let k1 = ((r.end - 1 - anchor) / bs).min(total - 1);
    if k0 > k1 {
        return Vec::new();
    }
    let reach = k1 - k0 + 1;
    if k1 + reach < lo || k0 > hi + reach {
        return Vec::new();
    }
    let mut out = Vec::new();
    for k in k0..=k1 {
        if lost(k)
            && let Some(part) = r.clip(anchor + k * bs, anchor + (k + 1) * bs)
        {
            push_merged(&mut out, part, usize::MAX);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_slots_next_to_a_piece_are_attributed_and_far_ones_are_not() {
        let lost = |k: u64| (10..20).contains(&k);
        // Slots 10..20 of a placement at byte 1000 (512-byte blocks) are lost; its copies
        // span slots 0..=9 and 20..=99.
        let r = ByteRange::new(1000 + 12 * 512 + 7, 1000 + 14 * 512);
        let got = lost_in(&r, 1000, 0, 99, 100, 512, &lost);
        assert_eq!(got, vec![r]);
        // A range over slots 8..12: only the lost slots' bytes.
        let r = ByteRange::new(1000 + 8 * 512, 1000 + 12 * 512);
        let got = lost_in(&r, 1000, 0, 99, 100, 512, &lost);
        assert_eq!(got, vec![ByteRange::new(1000 + 10 * 512, 1000 + 12 * 512)]);
        // Far beyond the copies of this piece: not this container's.
        let far = |_| true;
        let r = ByteRange::new(1000 + 5000 * 512, 1000 + 5001 * 512);
        assert!(lost_in(&r, 1000, 0, 99, 10_000, 512, &far).is_empty());
        // Right after the last copy (a lost tail): attributed.
        let r = ByteRange::new(1000 + 100 * 512, 1000 + 101 * 512);
        assert_eq!(lost_in(&r, 1000, 0, 99, 200, 512, &far), vec![r]);
        // Past the container's end: not.
        assert!(lost_in(&r, 1000, 0, 99, 100, 512, &far).is_empty());
    }
}
