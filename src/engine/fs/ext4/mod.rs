//! A read-only ext2/ext3/ext4 reader: superblock, group descriptors, inodes, extent trees
//! and block maps, directories — and its [`Volume`](super::Volume) implementation
//! (`volume.rs`) on which snapshots, verified recovery and the map's owners are built.
//!
//! Everything here only ever reads the image or device (`File::open`, positioned reads).
//! Malformed structures are collected as [`Problem`]s and skipped: never fatal, never a panic,
//! never an unbounded allocation or an endless loop.
//!
//! The snapshot modules (`snapshot`, `store`, `recover`, `owners`, …) live in `engine::fs`
//! and are re-exported here under their old names.

pub mod dir;
pub mod fs;
pub mod inode;
pub mod mapping;
pub mod present;
pub mod superblock;
pub mod volume;
pub mod walk;

pub use super::image;
pub use super::{outpath, owners, recover, snapshot, store, verdict};

pub use super::image::Image;
pub use super::store::{FileEntry, OwnerRun, RunKind, SnapshotInfo, Snapshots};
pub use super::{Problem, display_path};
pub(crate) use super::{le16, le32};
pub use fs::Fs;
pub use inode::{Inode, Kind};
pub use mapping::{Mapping, Run};
pub use volume::Ext4Volume;
pub use walk::{FileRec, Tree};
