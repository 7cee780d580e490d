//! Put a container's data back together from its blocks: the shared core of decode, check
//! and repair.
//!
//! Pass 1 reads the container in groups of slots that hold whole block sets (a super block
//! set when blocks are interleaved), takes each block from the slot the layout gives it,
//! rebuilds block sets with Reed–Solomon where shards are missing, and streams the data in
//! file order to the output and the hash thread. When a block set cannot be completed there
//! (its blocks are elsewhere, or it is beyond repair), pass 2 continues from it, fetching each
//! block wherever pass 1 saw it. Never writes to the container.

use super::container::Container;
use super::hashpipe::HashPipe;
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::seqset::SeqSet;
use crate::format::block::{self, BlockState};
use crate::format::hash::hex;
use crate::format::metadata::PAD;
use crate::format::rs::{Codec, Layout, Slot};
use crate::format::{HashKind, Metadata, StoredHash};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// At most this many entries are listed one by one in each list (all are counted).
const LIST_LIMIT: usize = 1000;
/// Reassembled bytes handed to the hasher at a time.
const OUT_CHUNK: usize = 4 << 20;
/// Bytes of slots read at a time (rounded to whole block sets).
const READ: u64 = 4 << 20;

/// A block position that has the SBX signature but fails its CRC (or is cut short).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DamagedBlock {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// The sequence number its (possibly damaged) header claims.
    pub seq: u32,
    /// The file ends inside this block.
    pub cut_short: bool,
}

/// A block the container should have and does not (no valid copy anywhere).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AbsentBlock {
    pub seq: u32,
    /// Where it belongs in the file (when reading one container file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A block set that Reed–Solomon completed (`repaired`) or could not (`failed`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SetReport {
    pub set: u64,
    pub first_seq: u32,
    pub last_seq: u32,
    /// The blocks that were absent: rebuilt when repaired, lost when failed.
    pub blocks: Vec<AbsentBlock>,
}

/// A run of data the file had and no block can give back.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MissingRange {
    /// Sequence numbers of the first and last missing data block of the run (with RS, the
    /// parity blocks between them are not counted as missing data).
    pub first_seq: u32,
    pub last_seq: u32,
    pub blocks: u64,
    /// Byte range of the original file, `start..end` (end exclusive).
    pub byte_start: u64,
    pub byte_end: u64,
}

/// What the stored hash said about the reassembled data.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum HashCheck {
    Match {
        kind: HashKind,
        digest: String,
    },
    Mismatch {
        kind: HashKind,
        expected: String,
        actual: String,
    },
    /// The container stores no hash (no metadata, or no HSH field).
    NotStored,
    /// The container stores a hash of a kind we cannot compute.
    UnknownKind {
        raw: String,
    },
    /// Data is missing, so there is nothing whole to hash.
    #[default]
    NotChecked,
}

/// The account of one reassembly.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Assembly {
    /// Block positions (slots) read.
    pub block_positions: u64,
    /// Valid data blocks that hold part of the file (padding and parity not counted).
    pub valid_data_blocks: u64,
    /// Valid metadata blocks seen (RS containers have 1 + P copies).
    pub metadata_blocks: u64,
    pub damaged_blocks: u64,
    pub damaged: Vec<DamagedBlock>,
    /// Valid blocks of another container (other UID or version).
    pub foreign_blocks: u64,
    pub duplicate_blocks: u64,
    /// Valid blocks not in the slot the layout gives them (still used).
    pub misplaced_blocks: u64,
    /// Valid blocks numbered past the end the metadata gives.
    pub out_of_range_blocks: u64,
    /// Data blocks the file needs (known from FSZ), if known.
    pub expected_data_blocks: Option<u64>,
    /// Blocks (data, padding, parity, metadata copies) that should be there and are not.
    pub absent_blocks: u64,
    pub absent: Vec<AbsentBlock>,
    /// Block sets completed by Reed–Solomon, and those beyond repair.
    pub repaired_sets: u64,
    pub repaired: Vec<SetReport>,
    pub failed_sets: u64,
    pub failed: Vec<SetReport>,
    /// Data blocks of the file that could not be had.
    pub missing_blocks: u64,
    pub missing: Vec<MissingRange>,
    /// Length of the reassembled data (when complete).
    pub data_len: u64,
    /// Blocks were not where the layout puts them.
    pub reordered: bool,
    pub hash: HashCheck,
    /// Every block set with an absent or damaged shard that Reed–Solomon can rebuild, for
    /// `repair` (not in reports).
    #[serde(skip)]
    pub repairable_sets: Vec<u64>,
}

impl Assembly {
    pub fn complete(&self) -> bool {
        self.missing_blocks == 0
    }

    pub fn hash_ok(&self) -> bool {
        matches!(self.hash, HashCheck::Match { .. })
    }
}

/// Where the output goes while reassembling (none for a check).
pub type Sink<'a> = Option<(&'a mut File, &'a Path)>;

/// Walk `c`, reassemble its data into `sink` (if any) and check it against the stored hash.
pub fn assemble(
    c: &mut Container,
    mut sink: Sink<'_>,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    let layout = c.layout;
    let meta = c.metadata.clone().unwrap_or_default();
    check_size(layout, &meta)?;
    let known_sets = meta.file_size.map(|n| layout.sets_for(n));
    let in_file = c.slots_in_file();
    let slot_limit = known_sets.map_or(in_file, |s| layout.slot_count(s).min(in_file));
    let max_seq = known_sets
        .map_or(in_file + 1, |s| s * layout.shards() as u64)
        .min(u64::from(u32::MAX)) as u32;
    let mut st = State::new(layout, &meta)?;
    let (start, block_size) = (c.start, layout.version.block_size() as u64);
    let offsets = move |seq: u32| Some(start + layout.slot_of(seq) * block_size);
    let bs = layout.version.block_size();
    let span = c.span();
    let mut throttle = Throttle::default();
    let target = READ / bs as u64;

    // Pass 1: slots in file order, group by group.
    let mut buf = Vec::new();
    let mut home: Vec<u32> = Vec::new();
    let mut meta_valid: Vec<u64> = Vec::new();
    for g in 0.. {
        cancel.check()?;
        let (slots, sets) = layout.group(g, target);
        if slots.start >= slot_limit {
            break;
        }
        c.read_slots(
            slots.start,
            slots.end.min(slot_limit) - slots.start,
            &mut buf,
        )?;
        let first_seq = sets.start * layout.shards() as u64 + 1;
        home.clear();
        home.resize(
            ((sets.end - sets.start) * layout.shards() as u64) as usize,
            u32::MAX,
        );
        for (i, bytes) in buf.chunks(bs).enumerate() {
            let k = slots.start + i as u64;
            if let Some(seq) = st.look(c, k, bytes, max_seq, &mut meta_valid)
                && layout.slot(k) == Slot::Seq(seq)
            {
                home[(u64::from(seq) - first_seq) as usize] = i as u32;
            }
        }
        if st.stall.is_none() {
            for set in sets {
                if known_sets.is_some_and(|k| set >= k) {
                    break;
                }
                let local = ((set - (first_seq - 1) / layout.shards() as u64)
                    * layout.shards() as u64) as usize;
                let shards: Vec<Option<&[u8]>> = (0..layout.shards())
                    .map(|j| match home[local + j] {
                        u32::MAX => None,
                        i => buf.get(i as usize * bs + 16..(i as usize + 1) * bs),
                    })
                    .collect();
                if !st.set(&offsets, set, shards, &mut sink, Mode::Pass1)? {
                    st.stall = Some(set);
                    break;
                }
            }
        }
        throttle.report(
            progress,
            Progress {
                stage,
                bytes_done: c.slot_offset(slots.end).saturating_sub(c.start).min(span),
                bytes_total: span,
                items: st.acct.valid_data_blocks,
            },
        );
    }

    // Blocks may sit past the end the metadata gives (appended, shifted): when something is
    // missing, look at the rest of the file too.
    if st.stall.is_some() && slot_limit < in_file {
        let mut k = slot_limit;
        while k < in_file {
            cancel.check()?;
            let n = target.min(in_file - k);
            c.read_slots(k, n, &mut buf)?;
            for (i, bytes) in buf.chunks(bs).enumerate() {
                st.look(c, k + i as u64, bytes, max_seq, &mut meta_valid);
            }
            k += n;
        }
    }

    // Pass 2: from the first block set pass 1 could not complete, fetch blocks wherever
    // they are.
    if let Some(from) = st.stall.take() {
        let seen = std::mem::take(&mut st.seen);
        let misplaced = std::mem::take(&mut st.misplaced);
        let (uid, version) = (c.uid, c.version);
        let mut fetch = |seq: u32| -> Result<Option<Vec<u8>>, Error> {
            if !seen.contains(seq) {
                return Ok(None);
            }
            let offset = match misplaced.get(&seq) {
                Some(&o) => o,
                None => c.slot_offset(layout.slot_of(seq)),
            };
            let b = c.read_block(offset)?;
            Ok(match block::classify(&b) {
                BlockState::Valid(h) if h.seq == seq && h.uid == uid && h.version == version => {
                    Some(b[16..].to_vec())
                }
                _ => None,
            })
        };
        let fetched = Fetched {
            fetch: &mut fetch,
            next_known: None,
        };
        st.sets_fetched(from, seen.max(), fetched, &offsets, &mut sink, cancel)?;
    }
    st.flush(&mut sink)?;
    if layout.is_rs() {
        for k in layout.meta_slots() {
            if !meta_valid.contains(&k) {
                st.note_absent(0, Some(c.slot_offset(k)));
            }
        }
    } else if layout.meta_copies == 1 && c.metadata.is_none() {
        st.note_absent(0, Some(c.slot_offset(0)));
    }
    progress(Progress {
        stage,
        bytes_done: span,
        bytes_total: span,
        items: st.acct.valid_data_blocks,
    });
    Ok(st.finish(&meta))
}

/// Refuse a stored file size no container of this layout can have (more blocks than 32-bit
/// sequence numbers count): a metadata block that says so is damaged, and every size, range
/// and progress figure derived from it would overflow.
fn check_size(layout: Layout, meta: &Metadata) -> Result<(), Error> {
    match meta.file_size {
        Some(n) if !layout.holds(n) => Err(Error::Invalid(format!(
            "the metadata block says the file has {n} bytes, more than a version {} container{} can hold: the metadata is damaged",
            layout.version,
            if layout.is_rs() {
                format!(" with {} + {} shards", layout.data, layout.parity)
            } else {
                String::new()
            }
        ))),
        _ => Ok(()),
    }
}

/// Reassemble a container whose blocks come from anywhere (a catalogue of several sources):
/// `fetch(seq)` gives the payload of a valid copy of block `seq`, or none. `max_seq` is the
/// largest sequence number known to exist; `next_known(s)` the smallest one ≥ `s` that
/// `fetch` may have (none past the last), so that block sets without any block — however
/// many a stray high sequence number implies — are accounted for in one step, not walked.
#[allow(clippy::too_many_arguments)]
pub fn assemble_fetched(
    layout: Layout,
    meta: &Metadata,
    max_seq: Option<u32>,
    partial: bool,
    fetch: &mut dyn FnMut(u32) -> Result<Option<Vec<u8>>, Error>,
    next_known: &dyn Fn(u32) -> Option<u32>,
    mut sink: Sink<'_>,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    check_size(layout, meta)?;
    let mut st = State::new(layout, meta)?;
    st.partial = partial;
    let total = meta
        .file_size
        .map(|n| layout.sets_for(n))
        .unwrap_or_else(|| u64::from(max_seq.unwrap_or(0)).div_ceil(layout.shards() as u64));
    let bytes_total = total * layout.data as u64 * layout.version.payload_size() as u64;
    let mut throttle = Throttle::default();
    let mut counted = |seq: u32| -> Result<Option<Vec<u8>>, Error> {
        let r = fetch(seq)?;
        if seq % 1024 == 0 {
            throttle.report(
                progress,
                Progress {
                    stage,
                    bytes_done: (u64::from(seq) / layout.shards() as u64)
                        * layout.data as u64
                        * layout.version.payload_size() as u64,
                    bytes_total,
                    items: u64::from(seq),
                },
            );
        }
        Ok(r)
    };
    let fetched = Fetched {
        fetch: &mut counted,
        next_known: Some(next_known),
    };
    st.sets_fetched(0, max_seq, fetched, &|_| None, &mut sink, cancel)?;
    st.flush(&mut sink)?;
    progress(Progress {
        stage,
        bytes_done: bytes_total,
        bytes_total,
        items: st.acct.valid_data_blocks,
    });
    Ok(st.finish(meta))
}

/// Where pass 2 and recovery get blocks from: `fetch(seq)` a valid block's payload, and,
/// when known, `next_known(s)` the smallest sequence number ≥ `s` it may have.
struct Fetched<'a> {
    fetch: &'a mut dyn FnMut(u32) -> Result<Option<Vec<u8>>, Error>,
    next_known: Option<&'a dyn Fn(u32) -> Option<u32>>,
}

fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() < LIST_LIMIT {
        list.push(item);
    }
}

/// How a block set is handled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// First pass: emit the data if the set can be completed; otherwise leave it (and its
    /// accounting) to pass 2.
    Pass1,
    /// Second pass while the stream is whole: account and emit.
    Emit,
    /// Second pass after a set was lost: account only.
    Quiet,
}

struct State {
    layout: Layout,
    payload: usize,
    fsz: Option<u64>,
    chunks_total: Option<u64>,
    /// Without FSZ, whole all-0x1A chunks at the end are RS padding blocks: hold them back
    /// until real data follows.
    trim_padding: bool,
    held_pads: u64,
    codec: Option<Codec>,
    pipe: HashPipe,
    /// Reassembled bytes not yet written/hashed; they start at byte `out_start`.
    out: Vec<u8>,
    out_start: u64,
    seen: SeqSet,
    /// Valid blocks seen outside their slot: seq → offset of the first copy.
    misplaced: HashMap<u32, u64>,
    /// The first block set the data stream could not pass.
    stall: Option<u64>,
    /// Write what data there is even when some is missing (holes stay zero).
    partial: bool,
    acct: Assembly,
}

impl State {
    fn new(layout: Layout, meta: &Metadata) -> Result<State, Error> {
        let fsz = meta.file_size;
        let hash_kind = match &meta.hash {
            Some(StoredHash::Known { kind, .. }) => Some(*kind),
            _ => None,
        };
        let codec = if layout.is_rs() {
            Some(Codec::new(layout.data, layout.parity).map_err(Error::Invalid)?)
        } else {
            None
        };
        let mut st = State {
            layout,
            payload: layout.version.payload_size(),
            fsz,
            chunks_total: fsz.map(|n| layout.chunks_for(n)),
            trim_padding: fsz.is_none() && layout.is_rs(),
            held_pads: 0,
            codec,
            pipe: HashPipe::new(hash_kind, OUT_CHUNK),
            out: Vec::new(),
            out_start: 0,
            seen: SeqSet::new(),
            misplaced: HashMap::new(),
            stall: None,
            partial: false,
            acct: Assembly {
                expected_data_blocks: fsz.map(|n| layout.chunks_for(n)),
                ..Default::default()
            },
        };
        st.out = st.pipe.buffer();
        st.out.clear();
        Ok(st)
    }

    /// Block sets from `from` on, with blocks from `fetch`: emit while the data is whole,
    /// account for every set. Sets past the one holding `max_seq` have no block at all and
    /// are accounted for in one step, however many a (possibly hostile) FSZ claims; so are
    /// stretches of sets before the next known block, when `next_known` tells.
    fn sets_fetched(
        &mut self,
        from: u64,
        max_seq: Option<u32>,
        blocks: Fetched<'_>,
        offset_of: &dyn Fn(u32) -> Option<u64>,
        sink: &mut Sink<'_>,
        cancel: &CancelFlag,
    ) -> Result<(), Error> {
        let layout = self.layout;
        let total = match self.chunks_total {
            Some(_) => self.fsz.map_or(0, |n| layout.sets_for(n)),
            None => u64::from(max_seq.unwrap_or(0)).div_ceil(layout.shards() as u64),
        };
        let seen_end = max_seq
            .map_or(0, |n| layout.set_of(n).0 + 1)
            .clamp(from, total.max(from));
        let Fetched { fetch, next_known } = blocks;
        let mut set = from;
        while set < seen_end {
            cancel.check()?;
            // The first set from here holding a known block: the ones before it hold none.
            // A long stretch of them is accounted for at once (short ones are walked, so
            // their blocks are still listed one by one).
            let empty_to = next_known.map_or(set, |next| {
                next(layout.seq_of(set, 0).unwrap_or(u32::MAX))
                    .map_or(seen_end, |s| layout.set_of(s).0)
                    .clamp(set, seen_end)
            });
            if empty_to - set >= LIST_LIMIT as u64 {
                self.lost_sets(set, empty_to);
                set = empty_to;
                continue;
            }
            let owned: Vec<Option<Vec<u8>>> = (0..layout.shards())
                .map(|j| fetch(layout.seq_of(set, j).unwrap_or(u32::MAX)))
                .collect::<Result<_, _>>()?;
            let shards = owned.iter().map(Option::as_deref).collect();
            let mode = if self.stall.is_none() {
                Mode::Emit
            } else {
                Mode::Quiet
            };
            if !self.set(offset_of, set, shards, sink, mode)? && mode == Mode::Emit {
                self.stall = Some(set);
            }
            set += 1;
        }
        if seen_end < total {
            self.lost_sets(seen_end, total);
        }
        Ok(())
    }

    /// The account, with the hash verdict.
    fn finish(self, meta: &Metadata) -> Assembly {
        let complete = self.acct.missing_blocks == 0 && self.stall.is_none();
        let digest = self.pipe.finish();
        let mut acct = self.acct;
        acct.reordered = acct.misplaced_blocks > 0;
        acct.data_len = if complete { self.out_start } else { 0 };
        acct.hash = if !complete {
            HashCheck::NotChecked
        } else {
            match (&meta.hash, digest) {
                (None, _) => HashCheck::NotStored,
                (Some(StoredHash::Unknown(raw)), _) => HashCheck::UnknownKind { raw: hex(raw) },
                (
                    Some(StoredHash::Known {
                        kind,
                        digest: expected,
                    }),
                    Some(actual),
                ) => {
                    if *expected == actual {
                        HashCheck::Match {
                            kind: *kind,
                            digest: hex(&actual),
                        }
                    } else {
                        HashCheck::Mismatch {
                            kind: *kind,
                            expected: hex(expected),
                            actual: hex(&actual),
                        }
                    }
                }
                _ => HashCheck::NotChecked,
            }
        };
        acct
    }

    /// Account for block set `set` and emit its data (see [`Mode`]). `shards` are the
    /// payloads found for its T shards. Returns false when the set's data cannot be had.
    fn set(
        &mut self,
        offset_of: &dyn Fn(u32) -> Option<u64>,
        set: u64,
        shards: Vec<Option<&[u8]>>,
        sink: &mut Sink<'_>,
        mode: Mode,
    ) -> Result<bool, Error> {
        let (m, t) = (self.layout.data, self.layout.shards());
        let first_chunk = set * m as u64;
        let real = match self.chunks_total {
            Some(n) => n.saturating_sub(first_chunk).min(m as u64) as usize,
            None => m,
        };
        let absent: Vec<usize> = (0..t).filter(|&j| shards[j].is_none()).collect();
        let data_ok = (0..real).all(|j| shards[j].is_some());
        let rebuildable = self.codec.is_some() && t - absent.len() >= m;
        if mode == Mode::Pass1 && !data_ok && !rebuildable {
            return Ok(false);
        }
        let quiet = mode == Mode::Quiet;
        let layout = self.layout;
        let seq_of = |j: usize| layout.seq_of(set, j).unwrap_or(u32::MAX);
        for &j in &absent {
            let seq = seq_of(j);
            self.note_absent(seq, offset_of(seq));
        }
        if !absent.is_empty() && rebuildable {
            self.acct.repairable_sets.push(set);
        }
        let report = |blocks: &[usize]| SetReport {
            set,
            first_seq: seq_of(0),
            last_seq: seq_of(t - 1),
            blocks: blocks
                .iter()
                .map(|&j| AbsentBlock {
                    seq: seq_of(j),
                    offset: offset_of(seq_of(j)),
                })
                .collect(),
        };
        if data_ok {
            self.acct.valid_data_blocks += real as u64;
            for (j, shard) in shards.iter().take(real).enumerate() {
                let payload = shard.expect("present");
                if quiet {
                    self.write_partial(first_chunk + j as u64, payload, sink)?;
                } else {
                    self.emit(first_chunk + j as u64, payload, sink)?;
                }
            }
            return Ok(true);
        }
        if !rebuildable {
            self.acct.failed_sets += 1;
            let r = report(&absent);
            push_capped(&mut self.acct.failed, r);
            self.missing(set, (0..real).filter(|&j| shards[j].is_none()));
            self.acct.valid_data_blocks +=
                (0..real).filter(|&j| shards[j].is_some()).count() as u64;
            for (j, shard) in shards.iter().take(real).enumerate() {
                if let Some(payload) = shard {
                    self.write_partial(first_chunk + j as u64, payload, sink)?;
                }
            }
            return Ok(false);
        }
        let mut owned: Vec<Option<Vec<u8>>> =
            shards.iter().map(|s| s.map(<[u8]>::to_vec)).collect();
        let codec = self.codec.as_ref().expect("rebuildable needs a codec");
        codec.reconstruct(&mut owned).map_err(Error::Invalid)?;
        self.acct.repaired_sets += 1;
        let r = report(&absent);
        push_capped(&mut self.acct.repaired, r);
        self.acct.valid_data_blocks += real as u64;
        for (j, shard) in owned.iter().take(real).enumerate() {
            let payload = shard.as_deref().expect("rebuilt");
            if quiet {
                self.write_partial(first_chunk + j as u64, payload, sink)?;
            } else {
                self.emit(first_chunk + j as u64, payload, sink)?;
            }
        }
        Ok(true)
    }

    /// Classify the block in slot `k` and record what it is. Returns the sequence number of
    /// a first valid copy of a data/parity block of this container that is in its own slot.
    fn look(
        &mut self,
        c: &Container,
        k: u64,
        bytes: &[u8],
        max_seq: u32,
        meta_valid: &mut Vec<u64>,
    ) -> Option<u32> {
        let offset = c.slot_offset(k);
        self.acct.block_positions += 1;
        match block::classify(bytes) {
            BlockState::Valid(h) if h.uid == c.uid && h.version == c.version => {
                if h.seq == 0 {
                    self.acct.metadata_blocks += 1;
                    if self.layout.slot(k) == Slot::Meta && meta_valid.len() < 256 {
                        meta_valid.push(k);
                    }
                } else if h.seq > max_seq {
                    self.acct.out_of_range_blocks += 1;
                } else if !self.seen.insert(h.seq) {
                    self.acct.duplicate_blocks += 1;
                } else if self.layout.slot(k) == Slot::Seq(h.seq) {
                    return Some(h.seq);
                } else {
                    self.misplaced.insert(h.seq, offset);
                    self.acct.misplaced_blocks += 1;
                }
            }
            BlockState::Valid(_) => self.acct.foreign_blocks += 1,
            BlockState::Damaged(h) => {
                self.acct.damaged_blocks += 1;
                let cut_short = bytes.len() < self.layout.version.block_size();
                push_capped(
                    &mut self.acct.damaged,
                    DamagedBlock {
                        offset,
                        seq: h.seq,
                        cut_short,
                    },
                );
            }
            BlockState::NotSbx => {}
        }
        None
    }

    /// Block sets `from..to` have no block at all: count them lost without walking them
    /// (their blocks are counted, not listed one by one; the data they held is one range).
    fn lost_sets(&mut self, from: u64, to: u64) {
        let (m, t) = (self.layout.data as u64, self.layout.shards() as u64);
        let first_chunk = from * m;
        let chunks = self
            .chunks_total
            .map_or(to * m, |n| n.min(to * m))
            .saturating_sub(first_chunk);
        self.acct.failed_sets += to - from;
        self.acct.absent_blocks += (to - from) * t;
        self.acct.missing_blocks += chunks;
        if chunks > 0 {
            let payload = self.payload as u64;
            let last_chunk = first_chunk + chunks - 1;
            let seq = |chunk: u64| {
                self.layout
                    .seq_of(chunk / m, (chunk % m) as usize)
                    .unwrap_or(u32::MAX)
            };
            let range = MissingRange {
                first_seq: seq(first_chunk),
                last_seq: seq(last_chunk),
                blocks: chunks,
                byte_start: first_chunk * payload,
                byte_end: ((last_chunk + 1) * payload).min(self.fsz.unwrap_or(u64::MAX)),
            };
            match self.acct.missing.last_mut() {
                Some(last) if last.byte_end == range.byte_start => {
                    last.last_seq = range.last_seq;
                    last.blocks += range.blocks;
                    last.byte_end = range.byte_end;
                }
                _ => push_capped(&mut self.acct.missing, range),
            }
        }
        self.stall.get_or_insert(from);
    }

    fn note_absent(&mut self, seq: u32, offset: Option<u64>) {
        self.acct.absent_blocks += 1;
        push_capped(&mut self.acct.absent, AbsentBlock { seq, offset });
    }

    /// Record the data chunks `js` of `set` as missing, merging runs.
    fn missing(&mut self, set: u64, js: impl Iterator<Item = usize>) {
        let payload = self.payload as u64;
        for j in js {
            let chunk = set * self.layout.data as u64 + j as u64;
            let seq = self.layout.seq_of(set, j).unwrap_or(u32::MAX);
            let start = chunk * payload;
            let end = match self.fsz {
                Some(n) => (start + payload).min(n),
                None => start + payload,
            };
            self.acct.missing_blocks += 1;
            match self.acct.missing.last_mut() {
                Some(last) if last.byte_end == start => {
                    last.last_seq = seq;
                    last.blocks += 1;
                    last.byte_end = end;
                }
                _ => push_capped(
                    &mut self.acct.missing,
                    MissingRange {
                        first_seq: seq,
                        last_seq: seq,
                        blocks: 1,
                        byte_start: start,
                        byte_end: end,
                    },
                ),
            }
        }
    }

    /// When writing partial results, put data chunk `chunk` at its place in the output
    /// (outside the hashed stream, which is broken by then).
    fn write_partial(
        &mut self,
        chunk: u64,
        payload: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        if !self.partial {
            return Ok(());
        }
        self.flush(sink)?;
        let at = chunk * self.payload as u64;
        let keep = match self.fsz {
            Some(n) => n.saturating_sub(at).min(self.payload as u64) as usize,
            None => payload.len(),
        };
        if let Some((f, path)) = sink {
            f.seek(SeekFrom::Start(at)).map_err(Error::write(*path))?;
            f.write_all(&payload[..keep]).map_err(Error::write(*path))?;
        }
        Ok(())
    }

    /// Append data chunk `chunk` (its payload) to the stream, clipped to the file size.
    fn emit(&mut self, chunk: u64, payload: &[u8], sink: &mut Sink<'_>) -> Result<(), Error> {
        let keep = match self.fsz {
            Some(n) => n
                .saturating_sub(chunk * self.payload as u64)
                .min(self.payload as u64) as usize,
            None => payload.len(),
        };
        if self.trim_padding {
            if payload.iter().all(|&b| b == PAD) {
                self.held_pads += 1;
                return Ok(());
            }
            while self.held_pads > 0 {
                self.held_pads -= 1;
                self.out.extend(std::iter::repeat_n(PAD, self.payload));
                self.maybe_flush(sink)?;
            }
        }
        self.out.extend_from_slice(&payload[..keep]);
        self.maybe_flush(sink)
    }

    fn maybe_flush(&mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        if self.out.len() >= OUT_CHUNK {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Write the in-order bytes and hand them to the hasher.
    fn flush(&mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        if self.out.is_empty() {
            return Ok(());
        }
        if let Some((f, path)) = sink {
            f.seek(SeekFrom::Start(self.out_start))
                .map_err(Error::write(*path))?;
            f.write_all(&self.out).map_err(Error::write(*path))?;
        }
        self.out_start += self.out.len() as u64;
        let full = std::mem::take(&mut self.out);
        self.pipe.feed(full);
        self.out = self.pipe.buffer();
        self.out.clear();
        Ok(())
    }
}
