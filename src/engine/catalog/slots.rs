//! Block runs as ranges of container *slots*: a run is `count` valid blocks one right after
//! the other that are slots `slot..slot + count` of one container geometry (version, M, P,
//! B). Sequence numbers — and so metadata/data/parity — follow from the geometry
//! (`format::rs::Layout`), so a container lying in one piece is one run whatever its
//! version, size or burst level. Also how a scan picks the geometry of a new run (from the
//! metadata the catalogue knows, else from the blocks' own sequence numbers), and the
//! class of a sequence number the map counts with. Pure: no SQL, no I/O.

use super::{BlockRow, SectorClass};
use crate::format::Version;
use crate::format::block::Uid;
use crate::format::rs::{Layout, MAX_INFERRED_BURST, Slot};

/// The geometry a run's slots are read with. `PLAIN` (1 + 0, B = 0, one metadata slot) puts
/// sequence number n in slot n: the geometry of versions 1–3, and the fallback for blocks of
/// any version whose geometry is not known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry {
    pub data: u16,
    pub parity: u16,
    pub burst: u32,
}

impl Geometry {
    pub const PLAIN: Geometry = Geometry {
        data: 1,
        parity: 0,
        burst: 0,
    };

    /// The layout of this geometry for `version`; `None` for one no container has.
    pub fn layout(self, version: Version) -> Option<Layout> {
        if self == Geometry::PLAIN {
            return Some(Layout::plain(version, true));
        }
        Layout::rs(version, self.data.into(), self.parity.into(), self.burst).ok()
    }
}

/// The sequence number slot `k` of `layout` holds (0 for a metadata slot).
pub fn seq_at(layout: &Layout, k: u64) -> u32 {
    match layout.slot(k) {
        Slot::Meta => 0,
        Slot::Seq(n) => n,
    }
}

/// A run of blocks being built (or a stored one being extended): `count` blocks from
/// `first`, slots `slot..slot + count`.
#[derive(Clone, Copy, Debug)]
pub struct SlotRun {
    pub first: BlockRow,
    pub count: u64,
    pub slot: u64,
    pub geometry: Geometry,
    layout: Layout,
}

impl SlotRun {
    /// A run already in the catalogue, to be extended by the next blocks; `None` when its
    /// geometry is none a scan writes.
    pub fn stored(first: BlockRow, count: u64, slot: u64, geometry: Geometry) -> Option<Self> {
        Some(SlotRun {
            first,
            count,
            slot,
            geometry,
            layout: geometry.layout(first.version)?,
        })
    }

    fn block_size(&self) -> u64 {
        self.first.version.block_size() as u64
    }

    pub fn end_offset(&self) -> u64 {
        self.first.offset + self.count * self.block_size()
    }

    /// Whether `b` is the next slot of this run, right after its last block.
    fn takes(&self, b: &BlockRow) -> bool {
        b.offset == self.end_offset()
            && b.version == self.first.version
            && b.uid == self.first.uid
            && b.password == self.first.password
            && seq_at(&self.layout, self.slot + self.count) == b.seq
    }
}

/// Blocks looked at ahead of a new run to infer its burst level and choose its geometry:
/// enough to see a whole column of the largest burst level a reader infers.
const LOOK: usize = 2 * MAX_INFERRED_BURST as usize + 4;

/// Group `blocks` (in offset order) into slot runs, continuing `open` (the last run stored
/// for the source) when the first blocks are its next slots. `known(uid, version)` gives
/// the geometries the catalogue's metadata tells for a container (burst `None` when the
/// metadata does not say).
pub fn slot_runs(
    open: Option<SlotRun>,
    blocks: &[BlockRow],
    mut known: impl FnMut(Uid, Version) -> Vec<(u16, u16, Option<u32>)>,
) -> Vec<SlotRun> {
    let mut runs: Vec<SlotRun> = open.into_iter().collect();
    for (i, b) in blocks.iter().enumerate() {
        if let Some(r) = runs.last_mut()
            && r.takes(b)
        {
            r.count += 1;
            continue;
        }
        let ahead = chain(&blocks[i..]);
        let (slot, geometry, layout) = choose(ahead, &known(b.uid, b.version));
        runs.push(SlotRun {
            first: *b,
            count: 1,
            slot,
            geometry,
            layout,
        });
    }
    runs
}

/// The blocks from the first that lie one right after the other in one container (at most
/// LOOK of them).
fn chain(blocks: &[BlockRow]) -> &[BlockRow] {
    let b0 = &blocks[0];
    let bs = b0.version.block_size() as u64;
    let n = blocks
        .iter()
        .take(LOOK)
        .enumerate()
        .take_while(|(j, b)| {
            b.offset == b0.offset + *j as u64 * bs
                && b.version == b0.version
                && b.uid == b0.uid
                && b.password == b0.password
        })
        .count();
    &blocks[..n.max(1)]
}

/// The geometry and first slot under which the most of `chain` are consecutive slots:
/// the metadata's geometries first, then one inferred from the sequence numbers, then plain.
fn choose(chain: &[BlockRow], known: &[(u16, u16, Option<u32>)]) -> (u64, Geometry, Layout) {
    let version = chain[0].version;
    let mut cands: Vec<Geometry> = Vec::new();
    if version.uses_rs() {
        let inferred = infer_steps(chain);
        for &(m, p, b) in known {
            let t = u32::from(m) + u32::from(p);
            let bursts = match b {
                Some(b) => vec![b],
                None => {
                    let mut v = vec![0, 1];
                    if let Some((it, ib)) = inferred
                        && it == t
                    {
                        v.insert(0, ib);
                    }
                    v
                }
            };
            for burst in bursts {
                cands.push(Geometry {
                    data: m,
                    parity: p,
                    burst,
                });
            }
        }
        // Without metadata the front (where P matters) is not in this piece: any split of
        // T into M + P reproduces the sequence numbers of the rest.
        if let Some((t, b)) = inferred
            && (2..=256).contains(&t)
        {
            cands.push(Geometry {
                data: (t - 1) as u16,
                parity: 1,
                burst: b,
            });
        }
    }
    cands.push(Geometry::PLAIN);
    let mut best: Option<(usize, u64, Geometry, Layout)> = None;
    for g in cands {
        let Some(layout) = g.layout(version) else {
            continue;
        };
        let seq = chain[0].seq;
        let slots: Vec<u64> = if seq == 0 {
            layout.meta_slots().collect()
        } else {
            vec![layout.slot_of(seq)]
        };
        for k in slots {
            let fit = chain
                .iter()
                .enumerate()
                .take_while(|(j, b)| seq_at(&layout, k + *j as u64) == b.seq)
                .count();
            if best.as_ref().is_none_or(|(f, ..)| fit > *f) {
                best = Some((fit, k, g, layout));
            }
        }
    }
    let (_, k, g, l) = best.expect("the plain geometry always has a slot");
    (k, g, l)
}

/// Infer (T, B) of an interleaved RS container from blocks one right after the other: down
/// a column sequence numbers step by T, B blocks to a column. Metadata blocks interrupt
/// columns at the front. `None` when the blocks show no whole column.
fn infer_steps(chain: &[BlockRow]) -> Option<(u32, u32)> {
    let pairs = || {
        chain
            .windows(2)
            .map(|w| (i64::from(w[0].seq), i64::from(w[1].seq)))
    };
    let t = pairs()
        .find(|&(a, b)| a != 0 && b != 0 && b - a > 1)
        .map(|(a, b)| b - a)?;
    // Columns: maximal stretches whose steps are T, bounded by other steps or metadata.
    let mut len = 0i64;
    let mut bounded = false;
    for (a, b) in pairs() {
        if a == 0 {
            bounded = true;
            len = 0;
            continue;
        }
        len += 1;
        if b == 0 || b - a != t {
            if bounded && len > 1 {
                return u32::try_from(len).ok().map(|b| (t as u32, b));
            }
            bounded = true;
            len = 0;
        }
    }
    None
}

/// The class of sequence number `seq` of a container of `version` whose metadata gives
/// (M, P) (`None`: not known).
pub fn class_of(seq: u32, version: Version, shards: Option<(i64, i64)>) -> SectorClass {
    match (seq, shards) {
        (0, _) => SectorClass::SbxMeta,
        _ if !version.uses_rs() => SectorClass::SbxData,
        (n, Some((m, p))) if m > 0 && p >= 0 && (i64::from(n) - 1) % (m + p) >= m => {
            SectorClass::SbxParity
        }
        (_, Some(_)) => SectorClass::SbxData,
        _ => SectorClass::SbxBlock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(version: Version, seqs: &[u32]) -> Vec<BlockRow> {
        let bs = version.block_size() as u64;
        seqs.iter()
            .enumerate()
            .map(|(i, &seq)| BlockRow {
                offset: 1000 + i as u64 * bs,
                version,
                uid: [1; 6],
                seq,
                password: false,
            })
            .collect()
    }

    fn container(layout: &Layout, sets: u64) -> Vec<u32> {
        (0..layout.slot_count(sets))
            .map(|k| seq_at(layout, k))
            .collect()
    }

    #[test]
    fn a_whole_container_is_one_run_of_any_burst_level() {
        for (m, p, b) in [(10, 2, 0), (10, 2, 1), (10, 2, 7), (3, 5, 40), (200, 56, 3)] {
            let l = Layout::rs(Version::V17, m, p, b).unwrap();
            let seqs = container(&l, 60);
            let with_meta = |bur| vec![(m as u16, p as u16, bur)];
            for known in [with_meta(Some(b)), with_meta(None)] {
                let runs = slot_runs(None, &blocks(Version::V17, &seqs), |_, _| known.clone());
                assert_eq!(runs.len(), 1, "{m}+{p} B={b} {known:?}: {runs:?}");
                assert_eq!((runs[0].slot, runs[0].count), (0, seqs.len() as u64));
            }
        }
    }

    #[test]
    fn without_metadata_a_piece_of_an_interleaved_container_is_one_run() {
        let l = Layout::rs(Version::V19, 10, 2, 9).unwrap();
        let seqs = container(&l, 300);
        let piece = &seqs[1000..3000];
        let runs = slot_runs(None, &blocks(Version::V19, piece), |_, _| Vec::new());
        assert_eq!(runs.len(), 1, "{runs:?}");
        let r = runs[0];
        let seqs_back: Vec<u32> = (0..r.count)
            .map(|i| seq_at(&r.layout, r.slot + i))
            .collect();
        assert_eq!(seqs_back, piece);
    }

    #[test]
    fn every_block_keeps_its_sequence_number_whatever_the_order() {
        let seqs = [5, 0, 9, 1, 2, 3, 0, 0, 77, 78, 12, 24, 36, 13, 25];
        for v in [Version::V1, Version::V17] {
            let bl = blocks(v, &seqs);
            let runs = slot_runs(None, &bl, |_, _| vec![(11, 1, None)]);
            let back: Vec<u32> = runs
                .iter()
                .flat_map(|r| (0..r.count).map(move |i| seq_at(&r.layout, r.slot + i)))
                .collect();
            assert_eq!(back, seqs);
        }
    }
}
