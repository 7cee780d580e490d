//! Put a container's data back together from its blocks: the shared core of decode, check
//! and repair.
//!
//! Pass 1 reads the container in groups of slots that hold whole block sets (a super block
//! set when blocks are interleaved), takes each block from the slot the layout gives it,
//! rebuilds block sets with Reed–Solomon where shards are missing, and streams the data in
//! file order to the output and the hash thread. When a block set cannot be completed there
//! (its blocks are elsewhere, or it is beyond repair), pass 2 continues from it, fetching each
//! block wherever pass 1 saw it. Never writes to the container.
//!
//! - `passes.rs`: the walks ([`assemble`] over a container file, [`assemble_fetched`] over
//!   blocks from a catalogue);
//! - `state.rs`: one block set at a time — rebuilt, emitted, or counted lost;
//! - `ledger.rs`: the account of what was seen, absent and missing;
//! - `stream.rs`: the in-order output and the hash thread's feed;
//! - `report.rs`: the report types ([`Assembly`] and its lists).

mod ledger;
mod passes;
mod report;
mod state;
mod stream;

pub use passes::{Batch, BatchHook, assemble, assemble_fetched, assemble_hooked, assemble_partial};
pub use report::{AbsentBlock, Assembly, DamagedBlock, HashCheck, MissingRange, SetReport};

use std::fs::File;
use std::path::Path;

/// At most this many entries are listed one by one in each list (all are counted).
pub const LIST_LIMIT: usize = 1000;
/// Reassembled bytes handed to the hasher at a time.
const OUT_CHUNK: usize = 1 << 20;
/// Bytes of slots read at a time (rounded to whole block sets).
const READ: u64 = 1 << 20;

/// Where the output goes while reassembling (none for a check).
pub type Sink<'a> = Option<(&'a mut File, &'a Path)>;
