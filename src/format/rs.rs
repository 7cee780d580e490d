//! Block sets, the on-disk layout and the Reed–Solomon code of a container.
//!
//! One [`Layout`] describes every version: versions 1–3 are block sets of one data shard and
//! no parity; versions 17–19 (blkar's) group M data + P parity shards, replicate the metadata
//! block 1+P times and may interleave blocks with a burst level B. The sequence number ↔
//! position maps exist only here, in both directions. The RS code itself ([`Codec`], blkar's
//! code over GF(2^8) with polynomial 0x11D) lives in `rs_codec`, `rs_matrix` and `gf256`.

pub use super::rs_codec::Codec;
use super::version::Version;

/// Largest burst level a reader infers on its own (as blkar does).
pub const MAX_INFERRED_BURST: u32 = 1000;

/// Where a container's blocks go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub version: Version,
    /// M: data shards per block set (1 for versions 1–3).
    pub data: usize,
    /// P: parity shards per block set (0 for versions 1–3).
    pub parity: usize,
    /// B: burst resistance level (0 = sequential).
    pub burst: u32,
    /// Number of metadata copies at the front (1+P for RS; 1 or 0 for versions 1–3).
    pub meta_copies: usize,
}

/// What a sequence number holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqKind {
    Meta,
    /// Data chunk `chunk` (0-based, in file order; chunks past the file are padding).
    Data {
        chunk: u64,
    },
    /// Parity shard `index` (0-based) of block set `set`.
    Parity {
        set: u64,
        index: usize,
    },
}

/// What a block position (slot index from the container's start) should hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Meta,
    Seq(u32),
}

impl Layout {
    /// The layout of a plain (non-RS) container.
    pub fn plain(version: Version, has_meta: bool) -> Layout {
        Layout {
            version,
            data: 1,
            parity: 0,
            burst: 0,
            meta_copies: usize::from(has_meta),
        }
    }

    /// The layout of an RS container. Fails for shard counts the code cannot have.
    pub fn rs(version: Version, data: usize, parity: usize, burst: u32) -> Result<Layout, String> {
        if !version.uses_rs() {
            return Err(format!("version {version} has no Reed–Solomon parity"));
        }
        if data == 0 || parity == 0 || data + parity > 256 {
            return Err(format!(
                "Reed–Solomon needs 1 ≤ data, 1 ≤ parity and data + parity ≤ 256 (got {data} + {parity})"
            ));
        }
        Ok(Layout {
            version,
            data,
            parity,
            burst,
            meta_copies: 1 + parity,
        })
    }

    /// T = M + P: blocks per block set.
    pub fn shards(&self) -> usize {
        self.data + self.parity
    }

    pub fn is_rs(&self) -> bool {
        self.parity > 0
    }

    /// Block set and shard index (0-based) of data/parity sequence number `seq` (≥ 1).
    pub fn set_of(&self, seq: u32) -> (u64, usize) {
        let idx = u64::from(seq - 1);
        let t = self.shards() as u64;
        (idx / t, (idx % t) as usize)
    }

    /// The sequence number of shard `shard` of block set `set`, if it fits in 32 bits.
    pub fn seq_of(&self, set: u64, shard: usize) -> Option<u32> {
        u32::try_from(1 + set * self.shards() as u64 + shard as u64).ok()
    }

    pub fn kind(&self, seq: u32) -> SeqKind {
        if seq == 0 {
            return SeqKind::Meta;
        }
        let (set, shard) = self.set_of(seq);
        if shard < self.data {
            SeqKind::Data {
                chunk: set * self.data as u64 + shard as u64,
            }
        } else {
            SeqKind::Parity {
                set,
                index: shard - self.data,
            }
        }
    }

    /// Data chunks (payload-sized pieces, the last padded) of a file of `size` bytes.
    pub fn chunks_for(&self, size: u64) -> u64 {
        size.div_ceil(self.version.payload_size() as u64)
    }

    /// Block sets of a file of `size` bytes (the last one completed with padding blocks).
    pub fn sets_for(&self, size: u64) -> u64 {
        self.chunks_for(size).div_ceil(self.data as u64)
    }

    /// Whether a file of `size` bytes fits this layout: its blocks need sequence numbers, and
    /// those are 32-bit. A stored size beyond that can only come from damage.
    pub fn holds(&self, size: u64) -> bool {
        self.sets_for(size)
            .checked_mul(self.shards() as u64)
            .is_some_and(|n| n <= u64::from(u32::MAX))
    }

    /// Slot indices of the metadata copies.
    pub fn meta_slots(&self) -> impl Iterator<Item = u64> + '_ {
        let step = if self.is_rs() {
            1 + u64::from(self.burst)
        } else {
            1
        };
        (0..self.meta_copies as u64).map(move |i| i * step)
    }

    /// Blocks per super block set (B block sets written column by column); 0 when B = 0.
    fn super_set(&self) -> u64 {
        self.shards() as u64 * u64::from(self.burst)
    }

    /// The slot (block index from the container's start) of data/parity seq `seq` ≥ 1.
    pub fn slot_of(&self, seq: u32) -> u64 {
        let idx = u64::from(seq - 1);
        let meta = self.meta_copies as u64;
        let s = self.super_set();
        if s == 0 || !self.is_rs() {
            return meta + idx;
        }
        let b = u64::from(self.burst);
        let t = self.shards() as u64;
        let (q, r) = (idx / s, idx % s);
        let (row, col) = (r / t, r % t);
        let before = if q == 0 && col < meta { 1 + col } else { meta };
        before + q * s + col * b + row
    }

    /// What slot `k` should hold (the inverse of [`Layout::slot_of`] and the metadata slots).
    pub fn slot(&self, k: u64) -> Slot {
        let meta = self.meta_copies as u64;
        let s = self.super_set();
        if s == 0 || !self.is_rs() {
            return if k < meta {
                Slot::Meta
            } else {
                seq_slot(1 + k - meta)
            };
        }
        let b = u64::from(self.burst);
        let t = self.shards() as u64;
        let front = meta * (1 + b);
        if k < front && k % (1 + b) == 0 {
            return Slot::Meta;
        }
        let before = if k < front { 1 + k / (1 + b) } else { meta };
        let j = k - before;
        let (q, rem) = (j / s, j % s);
        let (col, row) = (rem / b, rem % b);
        seq_slot(1 + q * s + row * t + col)
    }

    /// Slots a container of `sets` block sets spans: one past the last slot written.
    pub fn slot_count(&self, sets: u64) -> u64 {
        let last_meta = self.meta_slots().last().map_or(0, |k| k + 1);
        // No container has more sets than 32-bit sequence numbers allow.
        let sets = sets.min(u64::from(u32::MAX) / self.shards() as u64);
        if sets == 0 {
            return last_meta;
        }
        let t = self.shards() as u64;
        let seqs = sets * t;
        // The largest slot belongs to one of the last T sequence numbers (the last row of
        // the last super set is written in every column).
        let last = (seqs.saturating_sub(t) + 1..=seqs)
            .filter_map(|n| u32::try_from(n).ok())
            .map(|n| self.slot_of(n) + 1)
            .max()
            .unwrap_or(0);
        last.max(last_meta)
    }

    /// Groups of slots that hold whole block sets, in file order, for reading a container in
    /// large pieces: a super block set when B ≥ 1, else about `target_slots` slots.
    /// Returns (slot range, block-set range) of group `g`.
    pub fn group(&self, g: u64, target_slots: u64) -> (std::ops::Range<u64>, std::ops::Range<u64>) {
        let meta = self.meta_copies as u64;
        let t = self.shards() as u64;
        let (sets_per, slots_per) = if self.is_rs() && self.burst > 0 {
            (u64::from(self.burst), self.super_set())
        } else {
            let sets = (target_slots / t).max(1);
            (sets, sets * t)
        };
        let start = if g == 0 { 0 } else { meta + g * slots_per };
        let end = meta + (g + 1) * slots_per;
        (start..end, g * sets_per..(g + 1) * sets_per)
    }
}

fn seq_slot(n: u64) -> Slot {
    // Positions past the 32-bit sequence space hold nothing; report them as a seq that
    // can never match a real block.
    Slot::Seq(u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(m: usize, p: usize, b: u32) -> Layout {
        Layout::rs(Version::V17, m, p, b).unwrap()
    }

    /// The worked layouts of spec §6: `M` = metadata, numbers = seq, `-` = a hole.
    fn drawn(l: &Layout, seqs: u32) -> String {
        let slots = l.slot_count(u64::from(seqs) / l.shards() as u64);
        let mut cells = vec!["-".to_string(); slots as usize];
        for k in l.meta_slots() {
            cells[k as usize] = "M".into();
        }
        for n in 1..=seqs {
            cells[l.slot_of(n) as usize] = n.to_string();
        }
        cells.join(" ")
    }

    #[test]
    fn worked_layouts_from_the_spec() {
        assert_eq!(drawn(&layout(2, 1, 3), 9), "M 1 4 7 M 2 5 8 3 6 9");
        assert_eq!(
            drawn(&layout(2, 1, 3), 12),
            "M 1 4 7 M 2 5 8 3 6 9 10 - - 11 - - 12"
        );
        let d = drawn(&layout(3, 2, 5), 75);
        assert!(
            d.starts_with(
                "M 1 6 11 16 21 M 2 7 12 17 22 M 3 8 13 18 23 4 9 14 19 24 5 10 15 20 25 26 31"
            ),
            "{d}"
        );
        assert!(drawn(&layout(10, 2, 0), 12).starts_with("M M M 1 2 3"));
        let l = layout(10, 2, 12);
        assert_eq!(
            [1, 2, 12, 13, 144, 145].map(|n| l.slot_of(n)),
            [1, 14, 135, 2, 146, 147]
        );
        assert_eq!(l.meta_slots().collect::<Vec<_>>(), [0, 13, 26]);
    }

    #[test]
    fn container_sizes_match_the_blkar_vectors() {
        let l = layout(10, 2, 12);
        assert_eq!(l.slot_count(0), 27);
        assert_eq!(l.slot_count(l.sets_for(1)), 136);
        assert_eq!(l.chunks_for(1_000_000), 2017);
        assert_eq!(l.sets_for(1_000_000), 202);
        assert_eq!(l.slot_count(202), 2449);
        let plain = Layout::plain(Version::V1, true);
        assert_eq!(plain.slot_count(plain.sets_for(100_000)), 203);
    }

    #[test]
    fn slot_and_seq_maps_are_inverse_for_many_geometries() {
        for (m, p, b) in [
            (10, 2, 12),
            (3, 2, 5),
            (4, 2, 0),
            (1, 1, 1),
            (2, 1, 3),
            (7, 5, 9),
        ] {
            let l = layout(m, p, b);
            let sets = 40;
            let mut used = std::collections::HashSet::new();
            for k in l.meta_slots() {
                assert_eq!(l.slot(k), Slot::Meta);
                assert!(used.insert(k));
            }
            for n in 1..=(sets * l.shards()) as u32 {
                let k = l.slot_of(n);
                assert_eq!(l.slot(k), Slot::Seq(n), "{m}+{p} B{b} seq {n}");
                assert!(used.insert(k), "two blocks in slot {k}");
            }
            // Groups tile the slots and hold whole block sets.
            for g in 0..5 {
                let (slots, set_range) = l.group(g, 100);
                for s in set_range {
                    for shard in 0..l.shards() {
                        let k = l.slot_of(l.seq_of(s, shard).unwrap());
                        assert!(
                            slots.contains(&k),
                            "{m}+{p} B{b}: set {s} outside group {g}"
                        );
                    }
                }
            }
        }
        let plain = Layout::plain(Version::V2, false);
        assert_eq!(plain.slot_of(1), 0);
        assert_eq!(plain.slot(0), Slot::Seq(1));
    }

    #[test]
    fn parity_rows_match_the_spec() {
        // With one data shard set to 1 and the rest 0, the parity bytes are the matrix column.
        let rows = |m: usize, p: usize| -> Vec<Vec<u8>> {
            let codec = Codec::new(m, p).unwrap();
            let mut out = vec![vec![0u8; m]; p];
            #[allow(clippy::needless_range_loop)]
            for i in 0..m {
                let data: Vec<Vec<u8>> = (0..m).map(|j| vec![u8::from(i == j)]).collect();
                let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
                let mut par = vec![vec![0u8; 1]; p];
                let mut prefs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
                codec.encode(&refs, &mut prefs);
                for (row, parity) in out.iter_mut().zip(&par) {
                    row[i] = parity[0];
                }
            }
            out
        };
        assert_eq!(
            rows(10, 2),
            [
                vec![0x81, 0x96, 0xAF, 0xB8, 0xD2, 0xC4, 0xFE, 0xE8, 0x03, 0x02],
                vec![0x96, 0x81, 0xB8, 0xAF, 0xC4, 0xD2, 0xE8, 0xFE, 0x02, 0x03]
            ]
        );
        assert_eq!(
            rows(10, 3)[2],
            [0xBF, 0xD6, 0x62, 0x0A, 0x06, 0x6F, 0xDF, 0xB7, 0x05, 0x04]
        );
        assert_eq!(
            rows(4, 2),
            [vec![0x1B, 0x1C, 0x12, 0x14], vec![0x1C, 0x1B, 0x14, 0x12]]
        );
        assert_eq!(rows(3, 2), [vec![1, 1, 1], vec![0x0F, 0x08, 0x06]]);
        assert_eq!(rows(1, 1), [vec![1]]);
    }
}
