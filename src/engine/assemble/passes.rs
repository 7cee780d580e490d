//! The two ways through a container: [`assemble`] walks one container file (pass 1 in slot
//! order, a look past its end and before its slot 0 when something is missing, then pass 2
//! fetching blocks wherever they were seen); [`assemble_fetched`] takes blocks from a
//! catalogue of several sources. Both leave the per-set work to [`State`]. Never writes to
//! the container.

use super::state::{Fetched, Mode, State};
use super::{Assembly, READ, Sink};
use crate::engine::container::Container;
use crate::engine::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use crate::format::Metadata;
use crate::format::block::{self, BlockState};
use crate::format::rs::Layout;
use std::ops::Range;

/// Walk `c`, reassemble its data into `sink` (if any) and check it against the stored hash.
pub fn assemble(
    c: &mut Container,
    sink: Sink<'_>,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    assemble_partial(c, sink, false, stage, cancel, progress)
}

/// One batch of slots as pass 1 read it, shown to a [`BatchHook`] after its block sets were
/// handled.
pub struct Batch<'a> {
    /// The container (to read more of it, never to write).
    pub c: &'a mut Container,
    /// Slot of the first block in `bytes`.
    pub first_slot: u64,
    /// The slots' bytes as read (a block with an unreadable byte reads as zeros; the last
    /// block may be cut short at the end of the file).
    pub bytes: &'a mut [u8],
    /// Some bytes of the batch could not be read.
    pub unreadable: bool,
    /// The block sets whose blocks all belong in these slots.
    pub sets: Range<u64>,
    /// Per sequence number of `sets` (from the first one's shard 0): the index in `bytes`
    /// of its valid block in its own slot, `u32::MAX` when there is none.
    pub home: &'a [u32],
    /// The first of `sets` that pass 1 has settled: the sets before it (and within `sets`)
    /// were accounted for from these slots alone and pass 2 will not look at them again.
    pub settled_end: u64,
}

/// Sees every batch of slots pass 1 reads: how repair copies and mends a container in the
/// same pass that checks it.
pub trait BatchHook {
    fn batch(&mut self, b: Batch<'_>) -> Result<(), Error>;
}

/// [`assemble`] with `hook` shown each batch of slots pass 1 reads.
pub fn assemble_hooked(
    c: &mut Container,
    hook: &mut dyn BatchHook,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    run_walk(c, None, false, Some(hook), stage, cancel, progress)
}

/// [`assemble`]; with `partial`, data found after a gap is still put at its place in the
/// sink (a decode that keeps an incomplete file), the gaps left as holes.
pub fn assemble_partial(
    c: &mut Container,
    sink: Sink<'_>,
    partial: bool,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    run_walk(c, sink, partial, None, stage, cancel, progress)
}

fn run_walk(
    c: &mut Container,
    mut sink: Sink<'_>,
    partial: bool,
    hook: Option<&mut dyn BatchHook>,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    let meta = c.metadata.clone().unwrap_or_default();
    check_size(c.layout, &meta)?;
    let mut w = Walk::new(c, &meta)?;
    w.st.partial = partial;
    let unread = w.pass1(&mut sink, hook, stage, cancel, progress)?;
    // The file ends before the sets the metadata gives (cut short, or its blocks elsewhere):
    // they are not whole.
    if w.st.stall.is_none() && w.plan.known_sets.is_some_and(|k| unread < k) {
        w.st.stall = Some(unread);
    }
    w.look_past_end(cancel)?;
    w.look_before_start(cancel)?;
    w.pass2(&mut sink, cancel)?;
    w.st.flush(&mut sink)?;
    w.absent_metadata();
    let span = w.plan.span;
    progress(Progress {
        stage,
        bytes_done: span,
        bytes_total: span,
        items: w.st.acct.valid_data_blocks,
    });
    Ok(w.st.finish(&meta))
}

/// What the walk over one container file needs to know, settled once from its metadata.
#[derive(Clone, Copy)]
struct Plan {
    layout: Layout,
    /// Block sets the metadata gives (from FSZ), if it gives any.
    known_sets: Option<u64>,
    /// Slots from slot 0 to the end of the file.
    in_file: u64,
    /// Slots pass 1 reads: those the metadata gives, within the file.
    slot_limit: u64,
    /// Blocks numbered past this are out of range.
    max_seq: u32,
    /// Byte offset of slot 0.
    start: u64,
    /// Bytes from slot 0 to the end of the file.
    span: u64,
    /// Slots read at a time.
    target: u64,
}

impl Plan {
    fn new(c: &Container, meta: &Metadata) -> Plan {
        let layout = c.layout;
        let known_sets = meta.file_size.map(|n| layout.sets_for(n));
        let in_file = c.slots_in_file();
        Plan {
            layout,
            known_sets,
            in_file,
            slot_limit: known_sets.map_or(in_file, |s| layout.slot_count(s).min(in_file)),
            max_seq: known_sets
                .map_or(in_file + 1, |s| s * layout.shards() as u64)
                .min(u64::from(u32::MAX)) as u32,
            start: c.start,
            span: c.span(),
            target: READ / layout.version.block_size() as u64,
        }
    }

    fn block_size(&self) -> usize {
        self.layout.version.block_size()
    }

    /// The byte offset of block `seq`'s own slot.
    fn home(&self, seq: u32) -> Option<u64> {
        Some(self.start + self.layout.slot_of(seq) * self.block_size() as u64)
    }
}

/// One walk over a container file: the container, the account being kept, and what the
/// passes share (the read buffer, the metadata slots found valid).
struct Walk<'c> {
    c: &'c mut Container,
    plan: Plan,
    st: State,
    buf: Vec<u8>,
    meta_valid: Vec<u64>,
}

impl<'c> Walk<'c> {
    fn new(c: &'c mut Container, meta: &Metadata) -> Result<Walk<'c>, Error> {
        let plan = Plan::new(c, meta);
        Ok(Walk {
            c,
            plan,
            st: State::new(plan.layout, meta)?,
            buf: Vec::new(),
            meta_valid: Vec::new(),
        })
    }

    /// Pass 1: slots in file order, a batch of whole groups at a time (large reads however
    /// small a super block set is), each set's data emitted while the stream is whole.
    /// Returns the first block set pass 1 has not reached.
    fn pass1(
        &mut self,
        sink: &mut Sink<'_>,
        mut hook: Option<&mut dyn BatchHook>,
        stage: Stage,
        cancel: &CancelFlag,
        progress: ProgressFn<'_>,
    ) -> Result<u64, Error> {
        let p = self.plan;
        let mut throttle = Throttle::default();
        let mut home: Vec<u32> = Vec::new();
        let mut unread = 0;
        let one = p.layout.group(1, p.target).0;
        let per_batch = (p.target / (one.end - one.start).max(1)).max(1);
        let mut g = 0;
        loop {
            cancel.check()?;
            let (first_slots, first_sets) = p.layout.group(g, p.target);
            if first_slots.start >= p.slot_limit {
                break;
            }
            // Whole groups that start within the slots pass 1 reads, up to a batch.
            let (mut slots, mut sets) = (first_slots, first_sets);
            g += 1;
            while g % per_batch != 0 {
                let (s, t) = p.layout.group(g, p.target);
                if s.start >= p.slot_limit {
                    break;
                }
                (slots.end, sets.end) = (s.end, t.end);
                g += 1;
            }
            unread = sets.end;
            let bad = self.read_group(&slots, &sets, &mut home)?;
            if self.st.stall.is_none() {
                self.emit_group(sets.clone(), &home, sink)?;
            }
            if let Some(h) = hook.as_deref_mut() {
                let settled_end = match (self.st.stall, p.known_sets) {
                    (_, None) => sets.start,
                    (Some(s), Some(k)) => s.min(k).clamp(sets.start, sets.end),
                    (None, Some(k)) => k.clamp(sets.start, sets.end),
                };
                h.batch(Batch {
                    c: self.c,
                    first_slot: slots.start,
                    bytes: &mut self.buf,
                    unreadable: bad,
                    sets: sets.clone(),
                    home: &home,
                    settled_end,
                })?;
            }
            throttle.report(
                progress,
                Progress {
                    stage,
                    bytes_done: self
                        .c
                        .slot_offset(slots.end)
                        .saturating_sub(self.c.start)
                        .min(p.span),
                    bytes_total: p.span,
                    items: self.st.acct.valid_data_blocks,
                },
            );
        }
        Ok(unread)
    }

    /// Read the group's slots and look at each block; `home` gets, per sequence number of
    /// the group's sets, the index of the block in its own slot (`u32::MAX`: none). Returns
    /// whether some bytes could not be read.
    fn read_group(
        &mut self,
        slots: &Range<u64>,
        sets: &Range<u64>,
        home: &mut Vec<u32>,
    ) -> Result<bool, Error> {
        let p = self.plan;
        let bad = self.c.read_slots(
            slots.start,
            slots.end.min(p.slot_limit) - slots.start,
            &mut self.buf,
        )?;
        self.st.unreadable(self.c, &bad);
        let first_seq = sets.start * p.layout.shards() as u64 + 1;
        home.clear();
        home.resize(
            ((sets.end - sets.start) * p.layout.shards() as u64) as usize,
            u32::MAX,
        );
        for (i, bytes) in self.buf.chunks(p.block_size()).enumerate() {
            let k = slots.start + i as u64;
            if let Some(seq) = self.st.look(
                self.c,
                self.c.slot_offset(k),
                Some(k),
                bytes,
                p.max_seq,
                &mut self.meta_valid,
            ) {
                home[(u64::from(seq) - first_seq) as usize] = i as u32;
            }
        }
        Ok(!bad.is_empty())
    }

    /// Emit the group's sets in order, up to the first one that cannot be completed here
    /// (pass 2 continues from it).
    fn emit_group(
        &mut self,
        sets: Range<u64>,
        home: &[u32],
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        let p = self.plan;
        let bs = p.block_size();
        let first_seq = sets.start * p.layout.shards() as u64 + 1;
        for set in sets {
            if p.known_sets.is_some_and(|k| set >= k) {
                break;
            }
            let local = ((set - (first_seq - 1) / p.layout.shards() as u64)
                * p.layout.shards() as u64) as usize;
            let shards: Vec<Option<&[u8]>> = (0..p.layout.shards())
                .map(|j| match home[local + j] {
                    u32::MAX => None,
                    i => self.buf.get(i as usize * bs + 16..(i as usize + 1) * bs),
                })
                .collect();
            if !self
                .st
                .set(&|seq| p.home(seq), set, shards, sink, Mode::Pass1)?
            {
                self.st.stall = Some(set);
                break;
            }
        }
        Ok(())
    }

    /// Blocks may sit past the end the metadata gives (appended, shifted): when something
    /// is missing, look at the rest of the file too.
    fn look_past_end(&mut self, cancel: &CancelFlag) -> Result<(), Error> {
        let p = self.plan;
        if self.st.stall.is_none() || p.slot_limit >= p.in_file {
            return Ok(());
        }
        let mut k = p.slot_limit;
        while k < p.in_file {
            cancel.check()?;
            let n = p.target.min(p.in_file - k);
            let bad = self.c.read_slots(k, n, &mut self.buf)?;
            self.st.unreadable(self.c, &bad);
            for (i, bytes) in self.buf.chunks(p.block_size()).enumerate() {
                let slot = k + i as u64;
                self.st.look(
                    self.c,
                    self.c.slot_offset(slot),
                    Some(slot),
                    bytes,
                    p.max_seq,
                    &mut self.meta_valid,
                );
            }
            k += n;
        }
        Ok(())
    }

    /// ... or before slot 0 (a container pieced together out of order, where most blocks
    /// put slot 0 after some of them): up to one container's length back, so a container
    /// deep inside a disk image does not read the whole disk before it block by block.
    fn look_before_start(&mut self, cancel: &CancelFlag) -> Result<(), Error> {
        if self.st.stall.is_none() {
            return Ok(());
        }
        let p = self.plan;
        let bs = p.block_size() as u64;
        let length = p.known_sets.map_or(u64::MAX, |s| p.layout.slot_count(s));
        let back = length.min(self.c.start / bs);
        let mut at = self.c.start - back * bs;
        while at + bs <= self.c.start {
            cancel.check()?;
            let bytes = self.c.read_block(at)?;
            self.st
                .look(self.c, at, None, &bytes, p.max_seq, &mut self.meta_valid);
            at += bs;
        }
        Ok(())
    }

    /// Pass 2: from the first block set pass 1 could not complete, fetch blocks wherever
    /// they are.
    fn pass2(&mut self, sink: &mut Sink<'_>, cancel: &CancelFlag) -> Result<(), Error> {
        let Some(from) = self.st.stall.take() else {
            return Ok(());
        };
        let seen = std::mem::take(&mut self.st.seen);
        let misplaced = std::mem::take(&mut self.st.misplaced);
        let p = self.plan;
        let c = &mut *self.c;
        let (uid, version) = (c.uid, c.version);
        let mut fetch = |seq: u32| -> Result<Option<Vec<u8>>, Error> {
            if !seen.contains(seq) {
                return Ok(None);
            }
            let offset = match misplaced.get(&seq) {
                Some(&o) => o,
                None => c.slot_offset(p.layout.slot_of(seq)),
            };
            let b = c.read_block(offset)?;
            Ok(match block::classify(&b) {
                BlockState::Valid(h) if h.seq == seq && h.uid == uid && h.version == version => {
                    Some(b[16..].to_vec())
                }
                _ => None,
            })
        };
        let blocks = Fetched {
            fetch: &mut fetch,
            next_known: None,
        };
        self.st
            .sets_fetched(from, seen.max(), blocks, &|seq| p.home(seq), sink, cancel)
    }

    /// Metadata copies that should be there and are not are absent blocks too.
    fn absent_metadata(&mut self) {
        let layout = self.plan.layout;
        if layout.is_rs() {
            for k in layout.meta_slots() {
                if !self.meta_valid.contains(&k) {
                    self.st.note_absent(0, Some(self.c.slot_offset(k)));
                }
            }
        } else if layout.meta_copies == 1 && self.c.metadata.is_none() {
            self.st.note_absent(0, Some(self.c.slot_offset(0)));
        }
    }
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
    let blocks = Fetched {
        fetch: &mut counted,
        next_known: Some(next_known),
    };
    st.sets_fetched(0, max_seq, blocks, &|_| None, &mut sink, cancel)?;
    st.flush(&mut sink)?;
    progress(Progress {
        stage,
        bytes_done: bytes_total,
        bytes_total,
        items: st.acct.valid_data_blocks,
    });
    Ok(st.finish(meta))
}
