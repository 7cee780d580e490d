//! What the maths allows, worked out from the damage alone — never from the engine.
//!
//! A block counts when a copy of it is still there byte for byte where a reader can find it.
//! With Reed–Solomon a block set comes back when at most P of its M + P blocks are gone
//! (layout and interleave from `format::rs::Layout`); a plain container needs every data
//! block; and both need their metadata, since without it neither the size nor the hash is
//! known. A copy that is a valid block of the same UID but holds other bytes (an older
//! container's) is a *conflicting* copy: where only such a copy is left, no reader can know
//! the right bytes, and the only right answer is to refuse.

use super::art::{Artefact, Encoded, UID};
use seqbox::format::block::{self, BlockState, SIGNATURE};
use seqbox::format::rs::Slot;
use std::collections::HashSet;
use std::ops::Range;

/// The one right outcome of a case, on one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The file comes back bit-exact, and the tool says it succeeded.
    Exact,
    /// The tool says it failed and lists exactly these byte ranges of the file as missing.
    Missing(Vec<Range<u64>>),
    /// No exact answer exists (the size or the right bytes are unknowable): the tool must
    /// say it failed — or give back the exact file, where it can tell it is right. The flag:
    /// our copies alone would give the file back (an older version with the same UID is
    /// what makes it ambiguous), so a tool that returns the older version instead drops
    /// ours without a word.
    Refuse(&'static str, bool),
    /// A plain container whose metadata is gone without a trace (cut out, or overwritten by
    /// other data): no reader can tell it from one made without metadata (`--no-meta`). The
    /// tool may refuse, or give back every data block with the last one's padding kept (what
    /// a container without metadata decodes to), saying that no metadata was found.
    LikeNoMeta,
}

impl Expect {
    pub fn label(&self) -> String {
        match self {
            Expect::Exact => "exact".into(),
            Expect::Missing(r) => format!("missing {}", show(r)),
            Expect::Refuse(why, _) => format!("refuse ({why})"),
            Expect::LikeNoMeta => "refuse, or the blocks as if made without metadata".into(),
        }
    }
}

pub fn show(ranges: &[Range<u64>]) -> String {
    let mut parts: Vec<String> = ranges
        .iter()
        .take(6)
        .map(|r| format!("{}–{}", r.start, r.end))
        .collect();
    if ranges.len() > 6 {
        parts.push(format!("… ({} ranges)", ranges.len()));
    }
    format!("[{}]", parts.join(", "))
}

/// How a reader finds blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Decode/check of one file: block positions in step with the container's first slot.
    Aligned,
    /// Scan + recover: a block at any byte offset of any image.
    Anywhere,
}

/// The sequence numbers (0 = metadata) that have a good copy, and those with a conflicting one.
#[derive(Default)]
pub struct Copies {
    pub good: HashSet<u32>,
    pub conflicting: HashSet<u32>,
    /// Conflicting copies a reader cannot tell from ours: for a reader of one file, those in
    /// the very slot our block was laid in (an older block where ours was); for scan +
    /// recover, which knows no slots, every one.
    pub undecidable: HashSet<u32>,
    /// The metadata is 1 MiB or more past the first block a reader meets (issue 11, defect 1).
    pub meta_far: bool,
    /// Where block 0 would lie before a good copy of block 1, erased bytes (zeros) or a block
    /// that fails its CRC remain: a trace that the metadata was there.
    pub meta_trace: bool,
}

pub fn copies(new: &Encoded, arts: &[&Artefact], reader: Reader) -> Copies {
    let mut c = Copies::default();
    for a in arts {
        let (mut first, mut first_meta) = (u64::MAX, u64::MAX);
        // Our blocks' own slots, from where our slot 0 was laid (followed through the cuts).
        let bs = a.block_size;
        let home = |offset: u64, seq: u32| {
            a.start.is_some_and(|start| {
                offset >= start && (offset - start) % bs == 0 && {
                    let want = if seq == 0 { Slot::Meta } else { Slot::Seq(seq) };
                    new.layout.slot((offset - start) / bs) == want
                }
            })
        };
        // Every valid block of ours in the bytes as they are now — not only the copies laid
        // there: a cut can stitch two blocks into a third that is valid (with M = 1 the
        // parity block holds the data block's payload, so a cut through both can leave the
        // data block whole).
        for (offset, seq, bytes) in blocks_in(a) {
            if reader == Reader::Aligned && offset % a.block_size != a.align {
                continue;
            }
            first = first.min(offset);
            if seq == 1 && same_content(new, seq, bytes) {
                c.meta_trace |= trace_before(a, offset);
            }
            if same_content(new, seq, bytes) {
                c.good.insert(seq);
                if seq == 0 {
                    first_meta = first_meta.min(offset);
                }
            } else {
                c.conflicting.insert(seq);
                if reader == Reader::Anywhere || home(offset, seq) {
                    c.undecidable.insert(seq);
                }
            }
        }
        if first_meta != u64::MAX && first_meta - first >= 1 << 20 {
            c.meta_far = true;
        }
    }
    c
}

/// Whether the block-sized slot before `offset` holds zeros or a CRC-failing block.
fn trace_before(a: &Artefact, offset: u64) -> bool {
    let bs = a.block_size;
    let Some(at) = offset.checked_sub(bs) else {
        return false;
    };
    let b = &a.bytes[at as usize..offset as usize];
    b.iter().all(|&x| x == 0) || matches!(block::classify(b), BlockState::Damaged(_))
}

/// Whether `bytes` give the same file as our block `seq`: the same block, or — for a plain
/// container, where no parity is computed from it — a data block that differs only past the
/// end of the file (an older, longer version's last block), which no reader keeps.
fn same_content(new: &Encoded, seq: u32, bytes: &[u8]) -> bool {
    let Some(ours) = new.block(seq) else {
        return false;
    };
    if ours == bytes {
        return true;
    }
    if new.layout.is_rs() || seq == 0 {
        return false;
    }
    let payload = new.layout.version.payload_size() as u64;
    let start = u64::from(seq - 1) * payload;
    let keep = (new.data.len() as u64).saturating_sub(start).min(payload) as usize;
    // Same header but for the CRC (bytes 4–5), same payload as far as the file goes.
    ours[..4] == bytes[..4] && ours[6..16 + keep] == bytes[6..16 + keep]
}

/// (offset, sequence number, bytes) of every valid block of the matrix's container (its UID
/// and version) in `a`, at any byte offset.
fn blocks_in(a: &Artefact) -> impl Iterator<Item = (u64, u32, &[u8])> + '_ {
    let bs = a.block_size as usize;
    let bytes = &a.bytes;
    (0..bytes.len().saturating_sub(bs - 1)).filter_map(move |i| {
        if &bytes[i..i + 3] != SIGNATURE {
            return None;
        }
        match block::classify(&bytes[i..i + bs]) {
            BlockState::Valid(h) if h.uid == UID && h.version.block_size() == bs => {
                Some((i as u64, h.seq, &bytes[i..i + bs]))
            }
            _ => None,
        }
    })
}

/// The outcome the maths allows, given the copies a reader can find.
pub fn expect(new: &Encoded, c: &Copies) -> Expect {
    // Would our copies alone, with no other version around, give the file back?
    let ours_whole = || {
        let alone = Copies {
            good: c.good.clone(),
            ..Copies::default()
        };
        expect(new, &alone) == Expect::Exact
    };
    if !c.good.contains(&0) {
        if c.conflicting.contains(&0) {
            return Expect::Refuse("only another version's metadata", false);
        }
        let all_data = (1..=new.layout.chunks_for(new.data.len() as u64) as u32)
            .all(|s| c.good.contains(&s) && !c.undecidable.contains(&s));
        return if !new.layout.is_rs() && !c.meta_trace && all_data {
            Expect::LikeNoMeta
        } else {
            Expect::Refuse("metadata lost", false)
        };
    }
    if c.conflicting.contains(&0) {
        return Expect::Refuse("two versions' metadata", ours_whole());
    }
    let layout = new.layout;
    let seqs = layout.sets_for(new.data.len() as u64) * layout.shards() as u64;
    if c.undecidable.iter().any(|&s| u64::from(s) <= seqs) {
        return Expect::Refuse(
            "an older version's copy of a block no reader can tell from ours",
            ours_whole(),
        );
    }
    let size = new.data.len() as u64;
    let chunks = layout.chunks_for(size);
    let (m, t) = (layout.data, layout.shards());
    let payload = layout.version.payload_size() as u64;
    let mut missing: Vec<Range<u64>> = Vec::new();
    let mut poisoned = false;
    for set in 0..layout.sets_for(size) {
        let seqs: Vec<u32> = (0..t).map(|j| layout.seq_of(set, j).unwrap()).collect();
        let good = |s: &u32| c.good.contains(s);
        if seqs.iter().filter(|s| good(s)).count() >= m {
            continue;
        }
        poisoned |= seqs.iter().any(|s| !good(s) && c.conflicting.contains(s));
        let real = (chunks - set * m as u64).min(m as u64) as usize;
        for (j, s) in seqs.iter().enumerate().take(real) {
            if !good(s) {
                let chunk = set * m as u64 + j as u64;
                let r = chunk * payload..((chunk + 1) * payload).min(size);
                match missing.last_mut() {
                    Some(last) if last.end == r.start => last.end = r.end,
                    _ => missing.push(r),
                }
            }
        }
    }
    if poisoned {
        Expect::Refuse("only an older version's copy of some block", false)
    } else if missing.is_empty() {
        Expect::Exact
    } else {
        Expect::Missing(missing)
    }
}
