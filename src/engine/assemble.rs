//! Put a container's data back together from its blocks: the shared core of decode and check.
//!
//! Each data block goes to the place its sequence number gives, whatever order the blocks
//! are in; the hash is computed while blocks arrive in order, and blocks that arrived out of
//! order are hashed afterwards in sequence order. Never writes to the container.

use super::container::{BlockRef, Container};
use super::hashpipe::HashPipe;
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::seqset::SeqSet;
use crate::format::hash::hex;
use crate::format::{BlockState, HashKind, StoredHash};
use serde::Serialize;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// At most this many damaged blocks are listed one by one (all are counted).
const LIST_LIMIT: usize = 1000;
/// Reassembled bytes handed to the hasher at a time.
const OUT_CHUNK: usize = 4 << 20;

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

/// A run of sequence numbers with no valid block, and the bytes of the original file they held.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MissingRange {
    pub first_seq: u32,
    pub last_seq: u32,
    /// Byte range of the original file, `start..end` (end exclusive).
    pub byte_start: u64,
    pub byte_end: u64,
}

/// What the stored hash said about the reassembled data.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
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
    /// Blocks are missing, so there is nothing whole to hash.
    NotChecked,
}

/// The account of one reassembly.
#[derive(Clone, Debug, Serialize)]
pub struct Assembly {
    pub block_positions: u64,
    pub valid_data_blocks: u64,
    pub metadata_blocks: u64,
    pub damaged_blocks: u64,
    pub damaged: Vec<DamagedBlock>,
    /// Valid blocks of another container (other UID or version).
    pub foreign_blocks: u64,
    pub duplicate_blocks: u64,
    /// Valid blocks whose sequence number lies past the end the metadata gives.
    pub out_of_range_blocks: u64,
    /// Data blocks the container should have (known from FSZ), if known.
    pub expected_data_blocks: Option<u64>,
    pub missing_blocks: u64,
    pub missing: Vec<MissingRange>,
    /// Length of the reassembled data.
    pub data_len: u64,
    /// Blocks were not in sequence order.
    pub reordered: bool,
    pub hash: HashCheck,
}

impl Assembly {
    pub fn complete(&self) -> bool {
        self.missing_blocks == 0
    }

    pub fn hash_ok(&self) -> bool {
        matches!(self.hash, HashCheck::Match { .. })
    }
}

/// Walk `c`, reassemble its data into `sink` (if any) and check it against the stored hash.
pub fn assemble(
    c: &mut Container,
    mut sink: Option<(&mut File, &Path)>,
    stage: Stage,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<Assembly, Error> {
    if c.version.uses_rs() {
        return Err(Error::Invalid(format!(
            "{}: version {} (Reed–Solomon) containers are not supported yet",
            c.path.display(),
            c.version
        )));
    }
    let meta = c.metadata.clone().unwrap_or_default();
    let payload = c.version.payload_size() as u64;
    let bs = c.block_size() as u64;
    let fsz = meta.file_size;
    let expected = fsz.map(|n| n.div_ceil(payload));
    // Without FSZ, no complete container can hold a sequence number above its block count.
    let max_seq = expected
        .unwrap_or_else(|| c.span().div_ceil(bs))
        .min(u64::from(u32::MAX)) as u32;
    let (hash_kind, stored) = match &meta.hash {
        Some(StoredHash::Known { kind, digest }) => (Some(*kind), Some(digest.clone())),
        _ => (None, None),
    };
    let (uid, version) = (c.uid, c.version);
    let span = c.span();

    let mut st = State {
        pipe: HashPipe::new(hash_kind, OUT_CHUNK),
        out: Vec::new(),
        out_start: 0,
        next: 1,
        seen: SeqSet::new(),
        pending: Vec::new(),
        acct: Assembly {
            block_positions: 0,
            valid_data_blocks: 0,
            metadata_blocks: 0,
            damaged_blocks: 0,
            damaged: Vec::new(),
            foreign_blocks: 0,
            duplicate_blocks: 0,
            out_of_range_blocks: 0,
            expected_data_blocks: expected,
            missing_blocks: 0,
            missing: Vec::new(),
            data_len: 0,
            reordered: false,
            hash: HashCheck::NotChecked,
        },
    };
    st.out = st.pipe.buffer();
    st.out.clear();
    let mut failure: Option<Error> = None;
    let mut throttle = Throttle::default();
    let valid_counter = std::cell::Cell::new(0u64);

    c.walk(
        cancel,
        |done| {
            throttle.report(
                progress,
                Progress {
                    stage,
                    bytes_done: done,
                    bytes_total: span,
                    items: valid_counter.get(),
                },
            )
        },
        |blocks| {
            for b in blocks {
                st.acct.block_positions += 1;
                let header = match b.state {
                    BlockState::Valid(h) if h.uid == uid && h.version == version => h,
                    BlockState::Valid(_) => {
                        st.acct.foreign_blocks += 1;
                        continue;
                    }
                    BlockState::Damaged(h) => {
                        st.damaged(b, h.seq, bs);
                        continue;
                    }
                    BlockState::NotSbx => {
                        if expected.is_some_and(|e| st.seen.len() >= e) {
                            // The container is whole and something else follows it.
                            return false;
                        }
                        continue;
                    }
                };
                if header.seq == 0 {
                    st.acct.metadata_blocks += 1;
                    continue;
                }
                if header.seq > max_seq {
                    st.acct.out_of_range_blocks += 1;
                    continue;
                }
                if !st.seen.insert(header.seq) {
                    st.acct.duplicate_blocks += 1;
                    continue;
                }
                st.acct.valid_data_blocks += 1;
                valid_counter.set(st.acct.valid_data_blocks);
                let data = clip(&b.bytes[16..], header.seq, payload, fsz);
                let at = u64::from(header.seq - 1) * payload;
                let result = if u64::from(header.seq) == st.next {
                    st.append(data, sink.as_mut())
                } else {
                    st.acct.reordered = true;
                    st.pending.push((header.seq, b.offset));
                    write_at(sink.as_mut(), at, data)
                };
                if let Err(e) = result {
                    failure = Some(e);
                    return false;
                }
            }
            true
        },
    )?;
    if let Some(e) = failure {
        return Err(e);
    }
    progress(Progress {
        stage,
        bytes_done: span,
        bytes_total: span,
        items: st.acct.valid_data_blocks,
    });
    st.flush(sink.as_mut(), true)?;

    let last = match expected {
        Some(e) => e.min(u64::from(u32::MAX)) as u32,
        None => st.seen.max().unwrap_or(0),
    };
    let gaps = st.seen.gaps(1, last);
    st.acct.missing_blocks = match expected {
        Some(e) => e - st.seen.len().min(e),
        None => gaps.iter().map(|(a, b)| u64::from(b - a) + 1).sum(),
    };
    let file_end = fsz.unwrap_or(u64::from(last) * payload);
    st.acct.missing = gaps
        .iter()
        .map(|&(a, b)| MissingRange {
            first_seq: a,
            last_seq: b,
            byte_start: u64::from(a - 1) * payload,
            byte_end: (u64::from(b) * payload).min(file_end),
        })
        .collect();
    st.acct.data_len = if st.acct.missing_blocks == 0 {
        file_end
    } else {
        0
    };
    if st.acct.missing_blocks > 0 {
        st.acct.hash = HashCheck::NotChecked;
        return Ok(st.acct);
    }

    // Blocks that came out of order: hash them now, in sequence order.
    st.pending.sort_unstable();
    let pending = std::mem::take(&mut st.pending);
    for (seq, offset) in pending {
        cancel.check()?;
        if u64::from(seq) < st.next {
            continue;
        }
        let block = c.read_block(offset)?;
        match crate::format::block::classify(&block) {
            BlockState::Valid(h) if h.seq == seq && h.uid == uid => {}
            _ => {
                return Err(Error::Invalid(format!(
                    "{}: block at offset {offset} changed while being read",
                    c.path.display()
                )));
            }
        }
        st.out
            .extend_from_slice(clip(&block[16..], seq, payload, fsz));
        st.next += 1;
        if st.out.len() >= OUT_CHUNK {
            st.flush(None, false)?;
        }
    }
    st.flush(None, false)?;
    let digest = st.pipe.finish();
    st.acct.hash = match (&meta.hash, hash_kind, stored, digest) {
        (None, ..) => HashCheck::NotStored,
        (Some(StoredHash::Unknown(raw)), ..) => HashCheck::UnknownKind { raw: hex(raw) },
        (_, Some(kind), Some(expected), Some(actual)) if expected == actual => HashCheck::Match {
            kind,
            digest: hex(&actual),
        },
        (_, Some(kind), Some(expected), Some(actual)) => HashCheck::Mismatch {
            kind,
            expected: hex(&expected),
            actual: hex(&actual),
        },
        _ => HashCheck::NotChecked,
    };
    Ok(st.acct)
}

struct State {
    pipe: HashPipe,
    /// Reassembled bytes not yet written/hashed; they start at byte `out_start`.
    out: Vec<u8>,
    out_start: u64,
    /// The next sequence number that continues the in-order stream.
    next: u64,
    seen: SeqSet,
    /// Blocks that arrived out of order: (seq, offset), hashed at the end.
    pending: Vec<(u32, u64)>,
    acct: Assembly,
}

impl State {
    fn damaged(&mut self, b: &BlockRef<'_>, seq: u32, bs: u64) {
        self.acct.damaged_blocks += 1;
        if self.acct.damaged.len() < LIST_LIMIT {
            self.acct.damaged.push(DamagedBlock {
                offset: b.offset,
                seq,
                cut_short: (b.bytes.len() as u64) < bs,
            });
        }
    }

    fn append(&mut self, data: &[u8], sink: Option<&mut (&mut File, &Path)>) -> Result<(), Error> {
        self.out.extend_from_slice(data);
        self.next += 1;
        if self.out.len() >= OUT_CHUNK {
            self.flush(sink, true)?;
        }
        Ok(())
    }

    /// Write the in-order bytes (when `write`) and hand them to the hasher.
    fn flush(&mut self, sink: Option<&mut (&mut File, &Path)>, write: bool) -> Result<(), Error> {
        if self.out.is_empty() {
            return Ok(());
        }
        if write {
            write_at(sink, self.out_start, &self.out)?;
        }
        self.out_start += self.out.len() as u64;
        let full = std::mem::take(&mut self.out);
        self.pipe.feed(full);
        self.out = self.pipe.buffer();
        self.out.clear();
        Ok(())
    }
}

/// The part of a data block's payload that belongs to the file (the last block is padded).
fn clip(payload: &[u8], seq: u32, payload_size: u64, fsz: Option<u64>) -> &[u8] {
    match fsz {
        Some(n) => {
            let start = u64::from(seq - 1) * payload_size;
            let keep = n.saturating_sub(start).min(payload_size) as usize;
            &payload[..keep]
        }
        None => payload,
    }
}

fn write_at(sink: Option<&mut (&mut File, &Path)>, at: u64, data: &[u8]) -> Result<(), Error> {
    if let Some((f, path)) = sink {
        f.seek(SeekFrom::Start(at)).map_err(Error::write(*path))?;
        f.write_all(data).map_err(Error::write(*path))?;
    }
    Ok(())
}
