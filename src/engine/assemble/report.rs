//! What one reassembly found: the report types of decode, check, repair and recover
//! (blocks damaged, absent, out of place; block sets repaired or lost; missing byte ranges;
//! the hash verdict). Plain data, serialisable; never judged here (that is `words`).

use crate::engine::source::ByteRange;
use crate::format::HashKind;
use serde::Serialize;

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
    /// Bytes of the container that could not be read (I/O errors). The blocks holding them
    /// count as absent (filled by Reed–Solomon where it can), never as damaged.
    pub unreadable_bytes: u64,
    /// Block positions with at least one unreadable byte.
    pub unreadable_blocks: u64,
    /// Where: byte ranges of the file, merged, in order (the first 1000 listed).
    pub unreadable: Vec<ByteRange>,
    /// Blocks absent from the failed sets: all of them, however many the list leaves out.
    pub failed_blocks: u64,
    /// Data blocks of the file that could not be had.
    pub missing_blocks: u64,
    pub missing: Vec<MissingRange>,
    /// Runs of missing data: all of them (`missing` lists the first ones).
    pub missing_ranges: u64,
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
