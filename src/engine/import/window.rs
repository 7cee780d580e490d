//! Reading the listed blocks of a source in offset order through a sliding window: one read
//! of a MiB serves every block in it, so checking a dense list costs about what reading the
//! source does, and a sparse list reads only around its blocks. Unreadable sectors are zeroed
//! and remembered (the block over them is dropped as unreadable). Read-only; memory bounded by
//! the window.

use crate::engine::source::{ByteRange, any_overlap, read_tolerant};
use std::fs::File;

/// Bytes read at a time.
const WINDOW: usize = 1 << 20;
/// The largest block: a window holds this much past its last block start.
const MAX_BLOCK: usize = 4096;

pub struct Window<'f> {
    file: &'f File,
    size: u64,
    at: u64,
    buf: Vec<u8>,
    bad: Vec<ByteRange>,
}

/// The bytes at an offset: up to a largest block (fewer at the end of the source).
pub struct Bytes<'w> {
    pub data: &'w [u8],
    /// Some of them could not be read (they are zeros).
    pub unreadable: bool,
}

impl<'f> Window<'f> {
    pub fn new(file: &'f File, size: u64) -> Window<'f> {
        Window {
            file,
            size,
            at: 0,
            buf: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// The bytes from `pos`, or `None` when it is at or past the end of the source.
    pub fn at(&mut self, pos: u64) -> Option<Bytes<'_>> {
        if pos >= self.size {
            return None;
        }
        let want = (self.size - pos).min(MAX_BLOCK as u64);
        let end = self.at + self.buf.len() as u64;
        if pos < self.at || pos + want > end {
            let len = (self.size - pos).min((WINDOW + MAX_BLOCK) as u64) as usize;
            self.buf.resize(len, 0);
            let t = read_tolerant(self.file, pos, &mut self.buf);
            self.buf.truncate(t.len);
            self.bad = t.unreadable;
            self.at = pos;
        }
        let from = (pos - self.at) as usize;
        let to = (from + want as usize).min(self.buf.len());
        Some(Bytes {
            data: &self.buf[from..to],
            unreadable: any_overlap(&self.bad, pos, pos + (to - from) as u64),
        })
    }
}
