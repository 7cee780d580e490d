//! Read-only file-system readers behind one trait, [`Volume`], and what is built on it:
//! snapshots (paths, physical extents, a digest per block, a SHA-256 per file) in SQLite,
//! recovery verified against them, and the block map's "which file owns these bytes".
//!
//! A reader (ext2/3/4 in `ext4/`, FAT12/16/32 in `fat/`, NTFS) only ever reads the image or
//! device; the only files written are the snapshot database and recovered files in another
//! folder. Damage is collected as [`Problem`]s and skipped: never fatal, never a panic, never
//! an unbounded allocation or an endless loop.

pub mod ext4;
pub mod fat;
pub mod image;
pub mod ntfs;
pub mod outpath;
pub mod owners;
pub mod recover;
pub mod snapshot;
pub mod store;
pub mod verdict;

pub use image::Image;
pub use store::{FileEntry, InodeRow, OwnerRun, RunKind, SnapshotInfo, Snapshots};

use crate::engine::job::{CancelFlag, Error};
use serde::{Serialize, Serializer};
use std::fmt;
use std::io;
use std::path::Path;

/// The kinds of file system a [`Volume`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FsType {
    Ext2,
    Ext3,
    Ext4,
    Fat12,
    Fat16,
    Fat32,
    Ntfs,
}

impl FsType {
    /// The name stored in the database and shown to people (`ext4`, `FAT32`, `NTFS`).
    pub fn name(self) -> &'static str {
        match self {
            FsType::Ext2 => "ext2",
            FsType::Ext3 => "ext3",
            FsType::Ext4 => "ext4",
            FsType::Fat12 => "FAT12",
            FsType::Fat16 => "FAT16",
            FsType::Fat32 => "FAT32",
            FsType::Ntfs => "NTFS",
        }
    }

    /// The type named `s` (as [`FsType::name`] writes it); unknown names read as ext4, which
    /// is what every snapshot taken before the column existed was.
    pub fn from_name(s: &str) -> FsType {
        [
            FsType::Ext2,
            FsType::Ext3,
            FsType::Ext4,
            FsType::Fat12,
            FsType::Fat16,
            FsType::Fat32,
            FsType::Ntfs,
        ]
        .into_iter()
        .find(|t| t.name().eq_ignore_ascii_case(s))
        .unwrap_or(FsType::Ext4)
    }

    pub fn is_fat(self) -> bool {
        matches!(self, FsType::Fat12 | FsType::Fat16 | FsType::Fat32)
    }
}

impl fmt::Display for FsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What identifies a volume (recovery refuses another one) and its geometry.
///
/// Blocks are the volume's allocation units (ext4 blocks, FAT and NTFS clusters); block `n`
/// starts at image byte `block_origin + n × block_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VolumeInfo {
    pub fs_type: FsType,
    /// ext: the superblock UUID; FAT: the volume serial `ABCD-1234`; NTFS: its serial number.
    pub uuid: String,
    pub label: String,
    pub block_size: u64,
    /// Blocks in the volume (block numbers are `0..blocks_count`).
    pub blocks_count: u64,
    /// Byte offset of the volume in the image or device.
    pub offset: u64,
    /// Byte offset in the image of block 0 (ext4, NTFS: `offset`; FAT: the data area, so
    /// block `n` is cluster `n + 2`).
    pub block_origin: u64,
    /// The first block that can hold file data (where a search for moved blocks starts).
    pub first_data_block: u64,
    /// Feature names, as the file system's own tools print them.
    pub features: Vec<String>,
    /// Cleanly unmounted (no journal to replay, no "dirty" flag).
    pub clean: bool,
}

/// How a run of a file's blocks holds its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtentKind {
    /// The file's bytes, one block per block.
    Data,
    /// Allocated but reads as zeros (ext4 unwritten extents).
    Unwritten,
    /// Compressed on disk (NTFS): the blocks do not hold the file's bytes one for one.
    Compressed,
}

impl ExtentKind {
    pub fn name(self) -> &'static str {
        match self {
            ExtentKind::Data => "data",
            ExtentKind::Unwritten => "unwritten",
            ExtentKind::Compressed => "compressed",
        }
    }

    pub fn from_name(s: &str) -> ExtentKind {
        match s {
            "unwritten" => ExtentKind::Unwritten,
            "compressed" => ExtentKind::Compressed,
            _ => ExtentKind::Data,
        }
    }
}

/// A run of a file's blocks: file blocks `logical..logical+len` lie in volume blocks
/// `physical..physical+len`. Holes (sparse ranges) are the gaps between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Extent {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    pub kind: ExtentKind,
}

/// A regular file of a volume, with every path that names it and where its bytes are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRec {
    /// Stable within a volume: ext inode number, FAT directory-entry position, MFT record.
    pub id: u64,
    /// Tells a reused id apart (ext: `i_generation`; FAT: the first cluster; NTFS: the
    /// record's sequence number).
    pub generation: u32,
    pub size: u64,
    pub mode: u32,
    pub nlink: u32,
    pub flags: u32,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    /// Absolute paths as raw bytes (`/dir/name`), sorted.
    pub paths: Vec<Vec<u8>>,
    /// Runs cut at the file's size, by logical block.
    pub extents: Vec<Extent>,
    /// Blocks that map the file (ext4 extent-tree or indirect blocks), of kind `meta_kind`.
    pub meta: Vec<u64>,
    /// `extent` or `indirect` (the database's names).
    pub meta_kind: &'static str,
    /// Bytes kept inside the metadata (ext4 inline data, NTFS resident data): no blocks.
    pub inline: Option<Vec<u8>>,
}

/// Everything a walk found.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Regular files, sorted by id.
    pub files: Vec<FileRec>,
    pub dirs: u64,
    pub problems: Vec<Problem>,
    /// Things skipped on purpose (symlinks, devices, deleted entries), in words.
    pub notes: Vec<String>,
}

/// A file-system structure (boot sector, FATs, root directory, `$MFT` …) in image bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Structure {
    pub byte_start: u64,
    pub byte_len: u64,
    pub what: String,
}

/// What became of a snapshot's file in the current file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Now {
    /// The path leads to the same file, unchanged (size and modification time).
    Same,
    /// The path leads to the same file, edited since the snapshot.
    Changed,
    /// No file at that path any more, or another file took its name: deleted since the
    /// snapshot.
    Deleted,
}

/// A read-only file system. Implementations never write, never panic on damage and bound
/// every loop and allocation by the volume's size.
pub trait Volume: Send + Sync {
    fn info(&self) -> &VolumeInfo;

    /// The image or device path as opened.
    fn path(&self) -> &Path;

    /// Fill `buf` from block `block` on (the whole range must lie inside the volume).
    fn read_blocks(&self, block: u64, buf: &mut [u8]) -> io::Result<()>;

    /// Every regular file reachable from the root, with its paths and extents.
    fn walk(&self, cancel: &CancelFlag) -> Result<Tree, Error>;

    /// The file system's own structures, in image bytes (the map's "file-system structures").
    fn structures(&self) -> Vec<Structure>;

    /// Whether block `block` is allocated now (`None` when that cannot be told).
    fn block_in_use(&self, block: u64) -> Option<bool>;

    /// What the snapshot's file at `path` (its row `row`) is now, and, when it is still
    /// there, the extents it has now (those blocks are not "reused by another file").
    fn now(&self, path: &[u8], row: &InodeRow) -> (Now, Vec<Extent>);

    /// Extra plain-language reasons for a recovered file (e.g. "encrypted, needs its key").
    fn file_reasons(&self, _row: &InodeRow) -> Vec<String> {
        Vec::new()
    }

    /// Whether bytes of a file that no extent covers read as zeros (ext4 and NTFS holes). On
    /// FAT they cannot exist: a chain shorter than the size means the rest is unknown, so
    /// the file gets no SHA-256 and recovery says it cannot be verified.
    fn gaps_are_holes(&self) -> bool {
        true
    }
}

/// Open the volume in `path`: at `offset`, or at 0, or in the one MBR/GPT partition that holds
/// a file system this crate reads (several: an error listing them). The type is detected.
pub fn open(path: &Path, offset: Option<u64>) -> Result<Box<dyn Volume>, Error> {
    let image = Image::open(path, offset)?;
    match image.kind() {
        Some(image::Kind::Ext) => Ok(Box::new(ext4::Ext4Volume::new(ext4::Fs::open(image)?))),
        Some(image::Kind::Fat) => Ok(Box::new(fat::FatVolume::open(image)?)),
        Some(image::Kind::Ntfs) => ntfs_volume(image),
        None => Err(Error::Invalid(format!(
            "{}: no ext2/3/4, FAT or NTFS file system at byte {}",
            path.display(),
            image.offset()
        ))),
    }
}

/// The NTFS reader's entry point.
fn ntfs_volume(image: Image) -> Result<Box<dyn Volume>, Error> {
    Ok(Box::new(ntfs::NtfsVolume::new(ntfs::Volume::open(image)?)))
}

/// A malformed or unsupported structure met while reading, skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file concerned (its id; 0 when it is about the file system as a whole).
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

pub(crate) fn path_text<S: Serializer>(p: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display_path(p))
}
