//! A read-only ext2/ext3/ext4 reader, snapshots of a file system's files (paths, inodes,
//! physical extents and per-block digests) in SQLite, and recovery verified against them.
//!
//! Everything here only ever reads the image or device (`File::open`, positioned reads); the
//! only files written are the snapshot database and recovered files in another folder.
//! Malformed structures are collected as [`Problem`]s and skipped: never fatal, never a panic,
//! never an unbounded allocation or an endless loop.

pub mod dir;
pub mod fs;
pub mod image;
pub mod inode;
pub mod mapping;
pub mod outpath;
pub mod owners;
pub mod present;
pub mod recover;
pub mod snapshot;
pub mod store;
pub mod superblock;
pub mod verdict;
pub mod walk;

pub use fs::Fs;
pub use image::Image;
pub use inode::{Inode, Kind};
pub use mapping::{Mapping, Run};
pub use store::{FileEntry, OwnerRun, RunKind, SnapshotInfo, Snapshots};
pub use walk::{FileRec, Tree};

use serde::Serialize;
use std::fmt;

/// A malformed or unsupported structure met while reading, skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The inode concerned (0 when it is about the file system as a whole).
    pub ino: u64,
    /// What is wrong, in words.
    pub what: String,
    /// Where: a path, a block number, a structure.
    pub place: String,
}

impl Problem {
    pub fn new(ino: u64, what: impl Into<String>, place: impl Into<String>) -> Problem {
        Problem {
            ino,
            what: what.into(),
            place: place.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ino != 0 {
            write!(f, "inode {}: ", self.ino)?;
        }
        write!(f, "{}", self.what)?;
        if !self.place.is_empty() {
            write!(f, " ({})", self.place)?;
        }
        Ok(())
    }
}

/// Little-endian field readers that never panic: bytes past the end read as zero. Callers
/// check lengths where a short structure matters.
pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(crate) fn le64(b: &[u8], off: usize) -> u64 {
    u64::from(le32(b, off)) | (u64::from(le32(b, off + 4)) << 32)
}

/// A path as people read it: UTF-8 where it is, `\xNN` escapes where it is not.
pub fn display_path(p: &[u8]) -> String {
    p.utf8_chunks()
        .flat_map(|c| {
            let mut s = c.valid().to_string();
            for b in c.invalid() {
                s.push_str(&format!("\\x{b:02x}"));
            }
            [s]
        })
        .collect()
}
