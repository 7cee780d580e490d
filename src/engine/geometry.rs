//! Working out a container's geometry from its blocks when the metadata does not give it:
//! where slot 0 is, the burst level B (blkar stores none), and — when every metadata copy is
//! lost — the Reed–Solomon shard counts M and P, found by checking the parity.

use crate::format::rs::{Layout, MAX_INFERRED_BURST};
use std::collections::HashMap;

/// Valid blocks of one container seen near its start.
#[derive(Default)]
pub struct Sample {
    /// (byte offset, sequence number) of every valid data/parity block.
    pub blocks: Vec<(u64, u32)>,
    /// Byte offsets of the valid metadata blocks (copies sit at slots i·(1+B)).
    pub metas: Vec<u64>,
    /// Payloads of the blocks with small sequence numbers (the first block sets).
    pub payloads: HashMap<u32, Vec<u8>>,
}

/// Sequence numbers whose payloads a sample keeps (enough for block set 0 of any M + P).
pub const KEEP_PAYLOADS_UP_TO: u32 = 257;

/// Bytes of payload compared when testing parity (enough to make a false match hopeless).
const CHECK_BYTES: usize = 64;

/// The burst level and the container's start offset that put the most sampled blocks where
/// the layout says they belong: data blocks by their sequence numbers, metadata copies at
/// slots i·(1+B). `base` gives M and P. Ties go to a candidate `preferred(burst, start)`
/// accepts (say, one that explains the file's length), then to the smaller level, as in
/// blkar. Returns (burst, start, blocks that agree).
pub fn infer_burst_and_start(
    base: Layout,
    sample: &Sample,
    block_size: u64,
    candidates: impl Iterator<Item = u32>,
    preferred: impl Fn(u32, u64) -> bool,
) -> Option<(u32, u64, usize)> {
    let mut best: Option<(u32, u64, usize, bool)> = None;
    let mut starts = Vec::with_capacity(sample.blocks.len());
    for burst in candidates {
        let layout = Layout { burst, ..base };
        starts.clear();
        starts.extend(
            sample
                .blocks
                .iter()
                .filter_map(|&(offset, seq)| offset.checked_sub(layout.slot_of(seq) * block_size)),
        );
        starts.sort_unstable();
        let (start, count) = match mode(&starts) {
            Some(m) => m,
            None => {
                // Metadata copies only (an empty file): take the first one found as the
                // latest copy that still leaves the start inside the file, which is right
                // for a container file of its own.
                let first = *sample.metas.iter().min()?;
                let step = (1 + u64::from(burst)) * block_size;
                let copy = (first / step).min(base.parity as u64);
                (first - copy * step, 0)
            }
        };
        let metas = sample
            .metas
            .iter()
            .filter(|&&o| {
                o.checked_sub(start).is_some_and(|d| {
                    d % block_size == 0 && layout.meta_slots().any(|k| k == d / block_size)
                })
            })
            .count();
        let score = count + metas;
        let liked = preferred(burst, start);
        if best.is_none_or(|b| (score, liked) > (b.2, b.3)) {
            best = Some((burst, start, score, liked));
        }
    }
    best.map(|(b, s, n, _)| (b, s, n))
}

/// The most frequent value of a sorted slice and its count (the smallest on ties).
fn mode(sorted: &[u64]) -> Option<(u64, usize)> {
    let mut best: Option<(u64, usize)> = None;
    let mut i = 0;
    while i < sorted.len() {
        let j = i + sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
        if best.is_none_or(|b| j - i > b.1) {
            best = Some((sorted[i], j - i));
        }
        i = j;
    }
    best
}

/// M and P from block set 0 when no metadata survives: M is the smallest count of data
/// shards whose first parity row reproduces the block after them, P the number of blocks
/// after the data that keep verifying as further parity rows. Every M up to 255 may be
/// tried, so each try must be cheap ([`Nodes`]), never a codec built (an M×M matrix
/// inverted): a crafted run of 257 blocks must not keep a reader busy for minutes.
pub fn infer_shards(sample: &Sample) -> Option<(usize, usize)> {
    let shard = |seq: u32| -> Option<&[u8]> {
        sample
            .payloads
            .get(&seq)
            .map(|p| &p[..CHECK_BYTES.min(p.len())])
    };
    let window = |m: usize| -> Option<Vec<&[u8]>> { (1..=m as u32 + 1).map(shard).collect() };
    let fits = |nodes: &Nodes, s: &[&[u8]]| {
        let m = nodes.len();
        parity_row_holds(&s[..m], &nodes.weights(m), s[m])
    };
    // Identical shards (a file of zeros, say) verify under any M and prove nothing; with
    // M = 1 the parity is a copy, so that case is only taken when nothing else fits.
    let mut nodes = Nodes::with(1);
    let data_shards = (2..=255usize)
        .find(|&m| {
            nodes.push();
            window(m).is_some_and(|s| s.iter().any(|x| *x != s[0]) && fits(&nodes, &s))
        })
        .or_else(|| {
            window(1)
                .is_some_and(|s| fits(&Nodes::with(1), &s))
                .then_some(1)
        })?;
    let nodes = Nodes::with(data_shards);
    let data: Vec<&[u8]> = (1..=data_shards as u32).map(shard).collect::<Option<_>>()?;
    let mut parity = 1;
    while data_shards + parity < 256 {
        let holds = shard((data_shards + parity + 1) as u32)
            .is_some_and(|row| parity_row_holds(&data, &nodes.weights(data_shards + parity), row));
        if !holds {
            break;
        }
        parity += 1;
    }
    Some((data_shards, parity))
}

/// The interpolation nodes 0, 1, …, M−1 of the code blkar and we use (reed-solomon-erasure
/// over GF(2⁸): a Vandermonde matrix with those nodes, made systematic). Its parity row for
/// node x holds the Lagrange weights of the data nodes at x — parity is the polynomial through
/// the data evaluated further along — so rows are checked without building a codec. The
/// denominators Π_{j≠r} (r − j) are kept as M grows, one node at a time (O(M) each).
struct Nodes {
    denominators: Vec<u8>,
}

impl Nodes {
    fn with(m: usize) -> Nodes {
        let mut n = Nodes {
            denominators: Vec::with_capacity(m),
        };
        for _ in 0..m {
            n.push();
        }
        n
    }

    fn len(&self) -> usize {
        self.denominators.len()
    }

    /// Add the next node (subtraction in GF(2⁸) is XOR).
    fn push(&mut self) {
        use crate::format::gf256::mul;
        let m = self.denominators.len();
        let mut own = 1u8;
        for (r, d) in self.denominators.iter_mut().enumerate() {
            let gap = (r ^ m) as u8;
            *d = mul(*d, gap);
            own = mul(own, gap);
        }
        self.denominators.push(own);
    }

    /// The weights w_r = Π_{j≠r} (x − j) / (r − j) of every node at `x` (not a node, ≤ 255).
    fn weights(&self, x: usize) -> Vec<u8> {
        use crate::format::gf256::{div, mul};
        let m = self.len();
        let all = (0..m).fold(1u8, |p, j| mul(p, (x ^ j) as u8));
        (0..m)
            .map(|r| div(all, mul((x ^ r) as u8, self.denominators[r])))
            .collect()
    }
}

/// Whether `row` equals Σ weights[r]·data[r] (compared over the shortest length).
fn parity_row_holds(data: &[&[u8]], weights: &[u8], row: &[u8]) -> bool {
    use crate::format::gf256::mul;
    let len = data
        .iter()
        .map(|d| d.len())
        .min()
        .unwrap_or(0)
        .min(row.len());
    (0..len).all(|b| {
        let value = data
            .iter()
            .zip(weights)
            .fold(0u8, |acc, (d, &w)| acc ^ mul(w, d[b]));
        value == row[b]
    })
}

/// Every burst level a reader tries on its own.
pub fn all_bursts() -> impl Iterator<Item = u32> {
    0..=MAX_INFERRED_BURST
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Version;
    use crate::format::rs::Codec;

    #[test]
    fn burst_and_start_come_back_from_positions_alone() {
        let truth = Layout::rs(Version::V17, 10, 2, 12).unwrap();
        let start = 7 * 512 + 3;
        let sample = Sample {
            blocks: (1..=300u32)
                .filter(|n| n % 7 != 0) // some blocks lost
                .map(|n| (start + truth.slot_of(n) * 512, n))
                .collect(),
            metas: vec![start + 13 * 512],
            payloads: HashMap::new(),
        };
        let base = Layout { burst: 0, ..truth };
        let (b, s, n) =
            infer_burst_and_start(base, &sample, 512, all_bursts(), |_, _| false).unwrap();
        assert_eq!((b, s), (12, start));
        assert_eq!(n, sample.blocks.len() + 1);
        // An empty file's container has metadata copies only: their spacing tells B.
        let only_metas = Sample {
            metas: vec![start, start + 13 * 512, start + 26 * 512],
            ..Sample::default()
        };
        let (b, s, _) =
            infer_burst_and_start(base, &only_metas, 512, all_bursts(), |_, _| false).unwrap();
        assert_eq!((b, s), (12, start));
    }

    #[test]
    fn lagrange_rows_are_the_codec_parity() {
        for (m, p) in [
            (1usize, 1usize),
            (2, 3),
            (10, 2),
            (31, 5),
            (128, 4),
            (250, 5),
            (255, 1),
        ] {
            let codec = Codec::new(m, p).unwrap();
            let data: Vec<Vec<u8>> = (0..m)
                .map(|i| (0..40).map(|b| (i * 131 + b * 7 + 3) as u8).collect())
                .collect();
            let mut par = vec![vec![0u8; 40]; p];
            let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
            let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
            codec.encode(&refs, &mut outs);
            let nodes = Nodes::with(m);
            for (i, row) in par.iter().enumerate() {
                let w = nodes.weights(m + i);
                assert!(parity_row_holds(&refs, &w, row), "M {m}, P {p}: row {i}");
                let mut wrong = row.clone();
                wrong[39] ^= 1;
                assert!(
                    !parity_row_holds(&refs, &w, &wrong),
                    "M {m}, P {p}: row {i} altered"
                );
            }
        }
    }

    #[test]
    fn shard_counts_come_back_from_the_parity() {
        for (m, p) in [(10usize, 2usize), (3, 2), (1, 1), (4, 3)] {
            let codec = Codec::new(m, p).unwrap();
            let data: Vec<Vec<u8>> = (0..m).map(|i| vec![(i * 37 + 11) as u8; 100]).collect();
            let mut par = vec![vec![0u8; 100]; p];
            let refs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
            let mut outs: Vec<&mut [u8]> = par.iter_mut().map(|x| &mut x[..]).collect();
            codec.encode(&refs, &mut outs);
            let mut sample = Sample::default();
            for (i, d) in data.iter().chain(par.iter()).enumerate() {
                sample.payloads.insert(i as u32 + 1, d.clone());
            }
            // The next set's first block: data, not parity.
            sample.payloads.insert((m + p) as u32 + 1, vec![0x5A; 100]);
            assert_eq!(infer_shards(&sample), Some((m, p)));
        }
    }
}
