//! The per-set core of a reassembly: [`State`] takes each block set's shards, rebuilds what
//! Reed–Solomon can, emits the data in file order while the stream is whole (or, for a
//! partial output, at its place), and keeps the account; [`State::finish`] gives the
//! account with its hash verdict. Block classification and the lists it keeps are in
//! `ledger.rs`, the output stream in `stream.rs`. Never reads the container itself.

use super::ledger::push_capped;
use super::{AbsentBlock, Assembly, HashCheck, LIST_LIMIT, OUT_CHUNK, SetReport, Sink};
use crate::engine::hashpipe::HashPipe;
use crate::engine::job::{CancelFlag, Error};
use crate::engine::seqset::SeqSet;
use crate::format::hash::hex;
use crate::format::rs::{Codec, Layout};
use crate::format::{Metadata, StoredHash};
use std::collections::HashMap;

/// Where pass 2 and recovery get blocks from: `fetch(seq)` a valid block's payload, and,
/// when known, `next_known(s)` the smallest sequence number ≥ `s` it may have.
pub(super) struct Fetched<'a> {
    pub fetch: &'a mut dyn FnMut(u32) -> Result<Option<Vec<u8>>, Error>,
    pub next_known: Option<&'a dyn Fn(u32) -> Option<u32>>,
}

/// How a block set is handled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// First pass: emit the data if the set can be completed; otherwise leave it (and its
    /// accounting) to pass 2.
    Pass1,
    /// Second pass while the stream is whole: account and emit.
    Emit,
    /// Second pass after a set was lost: account only.
    Quiet,
}

/// The account of one reassembly while it runs, and the stream of its data.
pub(super) struct State {
    pub(super) layout: Layout,
    pub(super) payload: usize,
    pub(super) fsz: Option<u64>,
    pub(super) chunks_total: Option<u64>,
    /// Without FSZ, whole all-0x1A chunks at the end are RS padding blocks: hold them back
    /// until real data follows.
    pub(super) trim_padding: bool,
    pub(super) held_pads: u64,
    pub(super) codec: Option<Codec>,
    pub(super) pipe: HashPipe,
    /// Reassembled bytes not yet written/hashed; they start at byte `out_start`.
    pub(super) out: Vec<u8>,
    pub(super) out_start: u64,
    pub(super) seen: SeqSet,
    /// Valid blocks seen outside their slot: seq → offset of the first copy.
    pub(super) misplaced: HashMap<u32, u64>,
    /// The first block set the data stream could not pass.
    pub(super) stall: Option<u64>,
    /// Where the last run of missing data ends (listed or not), to merge the next one.
    pub(super) missing_end: Option<u64>,
    /// Write what data there is even when some is missing (holes stay zero).
    pub(super) partial: bool,
    /// The last slot counted as unreadable.
    pub(super) last_unreadable_slot: Option<u64>,
    pub(super) acct: Assembly,
    /// Buffers for the data shards a set's rebuild makes (kept for the next set).
    pub(super) rebuilt: Vec<Vec<u8>>,
}

impl State {
    pub(super) fn new(layout: Layout, meta: &Metadata) -> Result<State, Error> {
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
            rebuilt: Vec::new(),
            out: Vec::new(),
            out_start: 0,
            seen: SeqSet::new(),
            misplaced: HashMap::new(),
            stall: None,
            missing_end: None,
            partial: false,
            last_unreadable_slot: None,
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
    pub(super) fn sets_fetched(
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
                self.lost_sets(set, empty_to, offset_of);
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
            self.lost_sets(seen_end, total, offset_of);
        }
        Ok(())
    }

    /// The account, with the hash verdict.
    pub(super) fn finish(self, meta: &Metadata) -> Assembly {
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
    pub(super) fn set(
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
        for &j in &absent {
            let seq = seq_of(self.layout, set, j);
            self.note_absent(seq, offset_of(seq));
        }
        if !absent.is_empty() && rebuildable {
            self.acct.repairable_sets.push(set);
        }
        if data_ok {
            self.acct.valid_data_blocks += real as u64;
            let payloads = shards.iter().take(real).map(|s| s.expect("present"));
            self.emit_set(first_chunk, payloads, sink, mode)?;
            return Ok(true);
        }
        let report = set_report(self.layout, set, &absent, offset_of);
        if !rebuildable {
            self.fail_set(set, report, absent.len() as u64, &shards[..real], sink)?;
            return Ok(false);
        }
        // Only the missing data shards are rebuilt, from the payloads where they lie.
        let want: Vec<usize> = (0..real).filter(|&j| shards[j].is_none()).collect();
        let mut rebuilt = std::mem::take(&mut self.rebuilt);
        rebuilt.resize_with(want.len().max(rebuilt.len()), Vec::new);
        let codec = self.codec.as_ref().expect("rebuildable needs a codec");
        codec
            .rebuild(&shards, &want, &mut rebuilt)
            .map_err(Error::Invalid)?;
        self.acct.repaired_sets += 1;
        push_capped(&mut self.acct.repaired, report);
        self.acct.valid_data_blocks += real as u64;
        let mut next = rebuilt.iter();
        let payloads = shards.iter().take(real).map(|s| match s {
            Some(p) => *p,
            None => next.next().expect("rebuilt").as_slice(),
        });
        let emitted = self.emit_set(first_chunk, payloads, sink, mode);
        self.rebuilt = rebuilt;
        emitted?;
        Ok(true)
    }

    /// The whole data of a set, chunk `first_chunk` on: into the stream, or (quiet, the
    /// stream broken before it) at its place in a partial output.
    fn emit_set<'p>(
        &mut self,
        first_chunk: u64,
        payloads: impl Iterator<Item = &'p [u8]>,
        sink: &mut Sink<'_>,
        mode: Mode,
    ) -> Result<(), Error> {
        for (j, payload) in payloads.enumerate() {
            if mode == Mode::Quiet {
                self.write_partial(first_chunk + j as u64, payload, sink)?;
            } else {
                self.emit(first_chunk + j as u64, payload, sink)?;
            }
        }
        Ok(())
    }

    /// A set beyond repair: count it and its `absent` blocks, record its missing data, and
    /// put the data blocks it has (`shards`, its real data shards) at their place in a
    /// partial output.
    fn fail_set(
        &mut self,
        set: u64,
        report: SetReport,
        absent: u64,
        shards: &[Option<&[u8]>],
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        self.acct.failed_sets += 1;
        self.acct.failed_blocks += absent;
        push_capped(&mut self.acct.failed, report);
        self.missing(set, (0..shards.len()).filter(|&j| shards[j].is_none()));
        self.acct.valid_data_blocks += shards.iter().filter(|s| s.is_some()).count() as u64;
        let first_chunk = set * self.layout.data as u64;
        for (j, shard) in shards.iter().enumerate() {
            if let Some(payload) = shard {
                self.write_partial(first_chunk + j as u64, payload, sink)?;
            }
        }
        Ok(())
    }
}

/// The sequence number of shard `j` of block set `set`.
fn seq_of(layout: Layout, set: u64, j: usize) -> u32 {
    layout.seq_of(set, j).unwrap_or(u32::MAX)
}

/// Block set `set` with its shards `blocks` (absent ones), for the repaired/failed lists.
fn set_report(
    layout: Layout,
    set: u64,
    blocks: &[usize],
    offset_of: &dyn Fn(u32) -> Option<u64>,
) -> SetReport {
    SetReport {
        set,
        first_seq: seq_of(layout, set, 0),
        last_seq: seq_of(layout, set, layout.shards() - 1),
        blocks: blocks
            .iter()
            .map(|&j| AbsentBlock {
                seq: seq_of(layout, set, j),
                offset: offset_of(seq_of(layout, set, j)),
            })
            .collect(),
    }
}
