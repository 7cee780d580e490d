//! What a snapshot path is in the file system as it is now: the same file (perhaps edited),
//! gone (deleted since the snapshot), or a different file under the same name. Looks paths up
//! from the root, one directory read per folder (cached), so recovering many files of one
//! folder reads it once. Only reads the image; damaged directories count as "not found".

use super::dir::read_dir;
use super::fs::Fs;
pub use crate::engine::fs::Now;
use crate::engine::fs::store::InodeRow;
use std::collections::HashMap;

/// Path lookups in the live file system, with each directory's entries read once.
#[derive(Default)]
pub struct Lookup {
    /// Directory inode → its entries (name → inode).
    dirs: HashMap<u32, HashMap<Vec<u8>, u32>>,
}

const ROOT: u32 = 2;

impl Lookup {
    /// The inode `path` (absolute, raw bytes) leads to now, if any.
    pub fn resolve(&mut self, fs: &Fs, path: &[u8]) -> Option<u32> {
        let mut at = ROOT;
        for name in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            at = *self.entries(fs, at).get(name)?;
        }
        Some(at)
    }

    fn entries(&mut self, fs: &Fs, dir: u32) -> &HashMap<Vec<u8>, u32> {
        self.dirs.entry(dir).or_insert_with(|| {
            let Ok(inode) = fs.inode(dir) else {
                return HashMap::new();
            };
            if inode.is_deleted() || inode.kind() != super::Kind::Dir {
                return HashMap::new();
            }
            read_dir(fs, &inode, &mut Vec::new())
                .into_iter()
                .map(|e| (e.name, e.ino))
                .collect()
        })
    }

    /// What the snapshot's file at `path` (its inode row `row`) is now.
    pub fn now(&mut self, fs: &Fs, path: &[u8], row: &InodeRow) -> Now {
        if self.resolve(fs, path) != Some(row.ino as u32) {
            return Now::Deleted;
        }
        match fs.inode(row.ino as u32) {
            Ok(i) if !i.is_deleted() && i.generation == row.generation => {
                if i.size != row.size || i.mtime_ns != row.mtime_ns {
                    Now::Changed
                } else {
                    Now::Same
                }
            }
            _ => Now::Deleted,
        }
    }
}
