//! Repair into a copy in the same pass that checks the container: each batch of slots the
//! check reads is written to the copy at once, with the absent blocks of its block sets
//! rebuilt in memory first — one read of the container and large writes, instead of a raw
//! copy and a re-read of every damaged set block by block.
//!
//! Only sets the check has settled from their own slots are mended here, in set order; from
//! the first one that cannot be (its blocks past the end of the file, say) the caller's
//! block-by-block path takes over. A read error anywhere makes the caller start the copy
//! again the old way, so a failing disk gives exactly the copy it always did. Never writes
//! to the container.

use super::Mended;
use crate::engine::assemble::{AbsentBlock, Batch, BatchHook, SetReport};
use crate::engine::container::Container;
use crate::engine::job::{CancelFlag, Error};
use crate::engine::writer::Writer;
use crate::format::Version;
use crate::format::block::{self, Uid};
use crate::format::rs::{Codec, Layout};
use std::fs::File;
use std::path::Path;

/// Bytes copied at a time outside the container's slots.
const COPY: usize = 4 << 20;

pub(super) struct Mender<'a> {
    /// Writes to the copy on a thread of its own (checking, hashing and writing are three
    /// streams of work for two threads otherwise).
    writer: Writer,
    pub path: &'a Path,
    pub cancel: &'a CancelFlag,
    pub layout: Layout,
    pub codec: &'a Codec,
    pub uid: Uid,
    pub version: Version,
    /// The sets before this one were mended here (those that needed it).
    pub fast_until: u64,
    /// Still mending in memory (false from the first set left to the slow path).
    pub mending: bool,
    /// The copy holds the file's bytes up to here.
    pub copied_to: u64,
    /// Some bytes could not be read: the copy is to be made again the old way.
    pub broken: bool,
    pub mended: Mended,
    /// Buffers for the blocks a set's rebuild makes (kept for the next set).
    rebuilt: Vec<Vec<u8>>,
}

impl<'a> Mender<'a> {
    pub fn new(
        out: &'a File,
        path: &'a Path,
        cancel: &'a CancelFlag,
        c: &Container,
        codec: &'a Codec,
    ) -> Result<Mender<'a>, Error> {
        Ok(Mender {
            writer: Writer::new(out).map_err(Error::write(path))?,
            path,
            cancel,
            layout: c.layout,
            codec,
            uid: c.uid,
            version: c.version,
            fast_until: 0,
            mending: true,
            copied_to: 0,
            broken: false,
            mended: Mended::default(),
            rebuilt: Vec::new(),
        })
    }

    /// Wait for every write to the copy; the first error, if one failed.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.writer.finish().map_err(Error::write(self.path))
    }

    /// Copy the file's bytes `[copied_to, to)` as stored.
    pub fn copy_to(&mut self, c: &Container, to: u64) -> Result<(), Error> {
        let mut buf = vec![0u8; COPY.min(to.saturating_sub(self.copied_to) as usize)];
        while !self.broken && self.copied_to < to {
            self.cancel.check()?;
            let want = (COPY as u64).min(to - self.copied_to) as usize;
            let (n, bad) = c.read_raw(self.copied_to, &mut buf[..want]);
            if !bad.is_empty() {
                self.broken = true;
                break;
            }
            if n == 0 {
                break;
            }
            self.write(&buf[..n], self.copied_to)?;
            self.copied_to += n as u64;
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8], at: u64) -> Result<(), Error> {
        self.writer
            .write_at(bytes, at)
            .map_err(Error::write(self.path))
    }

    /// Rebuild the absent blocks of `set` into `b.bytes`. False when it cannot be done from
    /// the batch alone.
    fn mend(&mut self, b: &mut Batch<'_>, set: u64) -> bool {
        let l = self.layout;
        let (m, t, bs) = (l.data, l.shards(), l.version.block_size());
        let local = ((set - b.sets.start) * t as u64) as usize;
        let home = &b.home[local..local + t];
        let absent: Vec<usize> = (0..t).filter(|&j| home[j] == u32::MAX).collect();
        if absent.is_empty() || t - absent.len() < m {
            // Whole, or beyond repair: the check says so, and there is nothing to write.
            return true;
        }
        let seq = |j: usize| l.seq_of(set, j).expect("a set the check saw");
        let at = |j: usize| ((l.slot_of(seq(j)) - b.first_slot) as usize) * bs;
        if absent.iter().any(|&j| at(j) + bs > b.bytes.len()) {
            return false;
        }
        let shards: Vec<Option<&[u8]>> = home
            .iter()
            .map(|&i| {
                (i != u32::MAX).then(|| &b.bytes[i as usize * bs + 16..(i as usize + 1) * bs])
            })
            .collect();
        self.rebuilt
            .resize_with(absent.len().max(self.rebuilt.len()), Vec::new);
        if self
            .codec
            .rebuild(&shards, &absent, &mut self.rebuilt)
            .is_err()
        {
            return false;
        }
        let mut report = SetReport {
            set,
            first_seq: seq(0),
            last_seq: seq(t - 1),
            blocks: Vec::with_capacity(absent.len()),
        };
        for (k, &j) in absent.iter().enumerate() {
            let block = &mut b.bytes[at(j)..at(j) + bs];
            block[16..].copy_from_slice(&self.rebuilt[k]);
            block::write_header(block, self.version, &self.uid, seq(j));
            report.blocks.push(AbsentBlock {
                seq: seq(j),
                offset: Some(b.c.slot_offset(l.slot_of(seq(j)))),
            });
        }
        self.mended.add(report);
        true
    }
}

impl BatchHook for Mender<'_> {
    fn batch(&mut self, mut b: Batch<'_>) -> Result<(), Error> {
        if self.broken || b.unreadable {
            self.broken = true;
            return Ok(());
        }
        let offset = b.c.slot_offset(b.first_slot);
        if offset > self.copied_to {
            self.copy_to(b.c, offset)?;
        }
        if self.broken || offset != self.copied_to {
            self.broken = true;
            return Ok(());
        }
        if self.mending {
            for set in b.sets.start..b.settled_end {
                if set != self.fast_until || !self.mend(&mut b, set) {
                    self.mending = false;
                    break;
                }
                self.fast_until = set + 1;
            }
            if self.fast_until < b.sets.end {
                self.mending = false;
            }
        }
        self.write(b.bytes, offset)?;
        self.copied_to = offset + b.bytes.len() as u64;
        Ok(())
    }
}
