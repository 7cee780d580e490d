//! What a reassembly records as it goes: each block looked at (valid in its slot, out of
//! place, duplicate, foreign, damaged), unreadable byte ranges, absent blocks, lost sets
//! and runs of missing data — counted in full, listed up to [`LIST_LIMIT`]. Never reads or
//! writes a file.

use super::state::State;
use super::{AbsentBlock, DamagedBlock, LIST_LIMIT, MissingRange, SetReport};
use crate::engine::container::Container;
use crate::engine::source::{ByteRange, push_merged};
use crate::format::block::{self, BlockState};
use crate::format::rs::Slot;

/// Add `item` to a report list while it has room (the caller counts every item).
pub(super) fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() < LIST_LIMIT {
        list.push(item);
    }
}

impl State {
    /// Classify the block at `offset` — slot `k`, or `None` before slot 0 — and record what
    /// it is. Returns the sequence number of the valid copy of a data/parity block of this
    /// container that is in its own slot.
    pub(super) fn look(
        &mut self,
        c: &Container,
        offset: u64,
        k: Option<u64>,
        bytes: &[u8],
        max_seq: u32,
        meta_valid: &mut Vec<u64>,
    ) -> Option<u32> {
        self.acct.block_positions += 1;
        let slot = k.map(|k| self.layout.slot(k));
        match block::classify(bytes) {
            BlockState::Valid(h) if h.uid == c.uid && h.version == c.version => {
                if h.seq == 0 {
                    self.acct.metadata_blocks += 1;
                    if let Some(k) = k
                        && slot == Some(Slot::Meta)
                        && meta_valid.len() < 256
                    {
                        meta_valid.push(k);
                    }
                } else if h.seq > max_seq {
                    self.acct.out_of_range_blocks += 1;
                } else if slot == Some(Slot::Seq(h.seq)) {
                    if self.seen.insert(h.seq) {
                        return Some(h.seq);
                    }
                    // A copy in its own slot beats a stray one seen before it (a block of an
                    // older container with the same UID, say): the stray one is dropped.
                    if self.misplaced.remove(&h.seq).is_some() {
                        self.acct.misplaced_blocks -= 1;
                        self.acct.duplicate_blocks += 1;
                        return Some(h.seq);
                    }
                    self.acct.duplicate_blocks += 1;
                } else if !self.seen.insert(h.seq) {
                    self.acct.duplicate_blocks += 1;
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

    /// Record byte ranges of `c` that could not be read (each read once, in file order).
    pub(super) fn unreadable(&mut self, c: &Container, ranges: &[ByteRange]) {
        let bs = self.layout.version.block_size() as u64;
        for r in ranges {
            self.acct.unreadable_bytes += r.len();
            push_merged(&mut self.acct.unreadable, *r, LIST_LIMIT);
            let first = r.start.saturating_sub(c.start) / bs;
            let last = (r.end - 1).saturating_sub(c.start) / bs;
            // Two bad ranges may share a block: count each block once.
            let from = match self.last_unreadable_slot {
                Some(k) if k >= first => k + 1,
                _ => first,
            };
            self.acct.unreadable_blocks += (last + 1).saturating_sub(from);
            self.last_unreadable_slot = Some(last);
        }
    }

    /// Block sets `from..to` have no block at all: count them lost without walking them
    /// (a hostile FSZ may claim billions), listing the first ones while the lists have room.
    pub(super) fn lost_sets(&mut self, from: u64, to: u64, offset_of: &dyn Fn(u32) -> Option<u64>) {
        let (m, t) = (self.layout.data as u64, self.layout.shards() as u64);
        let first_chunk = from * m;
        let chunks = self
            .chunks_total
            .map_or(to * m, |n| n.min(to * m))
            .saturating_sub(first_chunk);
        self.acct.failed_sets += to - from;
        self.acct.failed_blocks += (to - from) * t;
        self.acct.absent_blocks += (to - from) * t;
        let layout = self.layout;
        let seq_of = |set: u64, j: usize| layout.seq_of(set, j).unwrap_or(u32::MAX);
        for set in (from..to).take(LIST_LIMIT.saturating_sub(self.acct.failed.len())) {
            let blocks: Vec<AbsentBlock> = (0..t as usize)
                .map(|j| AbsentBlock {
                    seq: seq_of(set, j),
                    offset: offset_of(seq_of(set, j)),
                })
                .collect();
            for b in &blocks {
                push_capped(&mut self.acct.absent, b.clone());
            }
            self.acct.failed.push(SetReport {
                set,
                first_seq: seq_of(set, 0),
                last_seq: seq_of(set, t as usize - 1),
                blocks,
            });
        }
        self.acct.missing_blocks += chunks;
        if chunks > 0 {
            let payload = self.payload as u64;
            let last_chunk = first_chunk + chunks - 1;
            let seq = |chunk: u64| seq_of(chunk / m, (chunk % m) as usize);
            self.add_missing(MissingRange {
                first_seq: seq(first_chunk),
                last_seq: seq(last_chunk),
                blocks: chunks,
                byte_start: first_chunk * payload,
                byte_end: ((last_chunk + 1) * payload).min(self.fsz.unwrap_or(u64::MAX)),
            });
        }
        self.stall.get_or_insert(from);
    }

    pub(super) fn note_absent(&mut self, seq: u32, offset: Option<u64>) {
        self.acct.absent_blocks += 1;
        push_capped(&mut self.acct.absent, AbsentBlock { seq, offset });
    }

    /// Record the data chunks `js` of `set` as missing, merging runs.
    pub(super) fn missing(&mut self, set: u64, js: impl Iterator<Item = usize>) {
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
            self.add_missing(MissingRange {
                first_seq: seq,
                last_seq: seq,
                blocks: 1,
                byte_start: start,
                byte_end: end,
            });
        }
    }

    /// Add a run of missing data (already counted in `missing_blocks`): merged with the run
    /// before when they touch, whether or not that one made it into the capped list.
    fn add_missing(&mut self, run: MissingRange) {
        if self.missing_end == Some(run.byte_start) {
            self.missing_end = Some(run.byte_end);
            if let Some(last) = self.acct.missing.last_mut()
                && last.byte_end == run.byte_start
            {
                last.last_seq = run.last_seq;
                last.blocks += run.blocks;
                last.byte_end = run.byte_end;
            }
            return;
        }
        self.missing_end = Some(run.byte_end);
        self.acct.missing_ranges += 1;
        push_capped(&mut self.acct.missing, run);
    }
}
