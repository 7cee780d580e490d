//! ext2/3/4 as a [`Volume`]: the reader's walk and mappings turned into the shared file
//! records, the block bitmap as "in use now", and path lookups for "what is this file now".
//! Only reads the image.

use super::fs::{BitmapCache, Fs};
use super::inode::{FLAG_ENCRYPT, Inode};
use super::mapping::{self, Run};
use super::present::Lookup;
use super::superblock::{COMPAT_HAS_JOURNAL, INCOMPAT_64BIT, INCOMPAT_EXTENTS, INCOMPAT_FLEX_BG};
use crate::engine::fs::{
    Extent, ExtentKind, FileRec, FsType, InodeRow, Now, Structure, Tree, Volume, VolumeInfo,
};
use crate::engine::job::{CancelFlag, Error};
use std::io;
use std::path::Path;
use std::sync::Mutex;

/// An opened ext file system with the caches its [`Volume`] answers need.
pub struct Ext4Volume {
    pub fs: Fs,
    info: VolumeInfo,
    bitmaps: Mutex<BitmapCache>,
    lookup: Mutex<Lookup>,
}

impl Ext4Volume {
    pub fn new(fs: Fs) -> Ext4Volume {
        let sb = &fs.sb;
        let fs_type = if sb.has(INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG) {
            FsType::Ext4
        } else if sb.compat & COMPAT_HAS_JOURNAL != 0 {
            FsType::Ext3
        } else {
            FsType::Ext2
        };
        let info = VolumeInfo {
            fs_type,
            uuid: sb.uuid_string(),
            label: sb.label_string(),
            block_size: sb.block_size,
            blocks_count: sb.blocks_count,
            offset: fs.image.offset(),
            block_origin: fs.image.offset(),
            first_data_block: sb.first_data_block,
            features: sb.features(),
            clean: sb.clean(),
        };
        Ext4Volume {
            fs,
            info,
            bitmaps: Mutex::default(),
            lookup: Mutex::default(),
        }
    }
}

/// The shared runs of an ext mapping.
pub(crate) fn extents(runs: &[Run]) -> Vec<Extent> {
    runs.iter()
        .map(|r| Extent {
            logical: r.logical,
            physical: r.physical,
            len: r.len,
            kind: if r.unwritten {
                ExtentKind::Unwritten
            } else {
                ExtentKind::Data
            },
        })
        .collect()
}

fn record(
    fs: &Fs,
    i: &Inode,
    paths: Vec<Vec<u8>>,
    problems: &mut Vec<crate::engine::fs::Problem>,
) -> FileRec {
    let m = mapping::map(fs, i, problems);
    FileRec {
        id: u64::from(i.ino),
        generation: i.generation,
        size: i.size,
        mode: u32::from(i.mode),
        nlink: u32::from(i.links),
        flags: i.flags,
        mtime_ns: i.mtime_ns,
        ctime_ns: i.ctime_ns,
        paths,
        extents: extents(&m.runs),
        meta: m.meta,
        meta_kind: if i.has_extents() {
            "extent"
        } else {
            "indirect"
        },
        inline: i.is_inline().then(|| i.inline_data()),
    }
}

impl Volume for Ext4Volume {
    fn info(&self) -> &VolumeInfo {
        &self.info
    }

    fn path(&self) -> &Path {
        self.fs.image.path()
    }

    fn read_blocks(&self, block: u64, buf: &mut [u8]) -> io::Result<()> {
        self.fs.read_blocks(block, buf)
    }

    fn walk(&self, cancel: &CancelFlag) -> Result<Tree, Error> {
        let t = super::walk::walk(&self.fs, cancel)?;
        let mut problems = t.problems;
        let mut files = Vec::with_capacity(t.files.len());
        for rec in t.files.into_values() {
            cancel.check()?;
            files.push(record(&self.fs, &rec.inode, rec.paths, &mut problems));
        }
        Ok(Tree {
            files,
            dirs: t.dirs,
            problems,
            notes: t.notes,
        })
    }

    fn structures(&self) -> Vec<Structure> {
        // The map names ext metadata through the snapshot's mapping blocks; group
        // structures are not listed yet.
        Vec::new()
    }

    fn block_in_use(&self, block: u64) -> Option<bool> {
        let mut cache = self.bitmaps.lock().ok()?;
        self.fs.block_in_use(block, &mut cache)
    }

    fn now(&self, path: &[u8], row: &InodeRow) -> (Now, Vec<Extent>) {
        let Ok(mut lookup) = self.lookup.lock() else {
            return (Now::Deleted, Vec::new());
        };
        let now = lookup.now(&self.fs, path, row);
        if now == Now::Deleted {
            return (now, Vec::new());
        }
        let runs = match self.fs.inode(row.ino as u32) {
            Ok(i) => extents(&mapping::map(&self.fs, &i, &mut Vec::new()).runs),
            Err(_) => Vec::new(),
        };
        (now, runs)
    }

    fn file_reasons(&self, row: &InodeRow) -> Vec<String> {
        if row.flags & FLAG_ENCRYPT != 0 {
            vec!["Recovered, but it is encrypted (fscrypt) and needs its key to be read.".into()]
        } else {
            Vec::new()
        }
    }
}
