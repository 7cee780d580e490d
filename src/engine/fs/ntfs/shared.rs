//! NTFS as a [`Volume`](crate::engine::fs::Volume): the MFT walk turned into the shared file
//! records (clusters are the blocks; resident data inline; sparse runs are holes; compressed
//! runs stay compressed), deleted records as notes, the structures for the map, `$Bitmap` as
//! "in use now", and "what is this path now" from one cached walk of the live volume.
//! Only reads the image.

use super::attrs::Data;
use super::runs::RunKind;
use super::volume::Volume as Opened;
use super::walk::{self, FileRec as NtfsFile, Tree as NtfsTree};
use crate::engine::fs::store::InodeRow;
use crate::engine::fs::{
    Extent, ExtentKind, FileRec, FsType, Now, Structure, Tree, Volume, VolumeInfo, display_path,
};
use crate::engine::job::{CancelFlag, Error};
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::OnceLock;

/// `FILE_ATTRIBUTE_COMPRESSED` / `FILE_ATTRIBUTE_ENCRYPTED`, kept in the row's flags.
pub const FLAG_COMPRESSED: u32 = 0x0800;
pub const FLAG_ENCRYPTED: u32 = 0x4000;

/// An opened NTFS volume with the live walk its answers need, taken once on first use.
pub struct NtfsVolume {
    pub vol: Opened,
    info: VolumeInfo,
    live: OnceLock<Live>,
}

struct Live {
    /// Path → the file in use there now.
    by_path: HashMap<Vec<u8>, NtfsFile>,
    structures: Vec<Structure>,
}

impl NtfsVolume {
    pub fn new(vol: Opened) -> NtfsVolume {
        let version = vol.version();
        let dirty = vol.dirty();
        let info = VolumeInfo {
            fs_type: FsType::Ntfs,
            uuid: format!("{:016X}", vol.geo.serial),
            label: vol.label.clone(),
            block_size: vol.geo.cluster_size,
            blocks_count: vol.geo.clusters,
            offset: vol.image.offset(),
            block_origin: vol.image.offset(),
            first_data_block: 0,
            features: version
                .map(|(a, b)| vec![format!("ntfs-{a}.{b}")])
                .unwrap_or_default(),
            clean: dirty == Some(false),
        };
        NtfsVolume {
            vol,
            info,
            live: OnceLock::new(),
        }
    }

    fn live(&self) -> &Live {
        self.live.get_or_init(|| {
            let t = walk::walk(&self.vol, &CancelFlag::new()).unwrap_or_default();
            let off = self.vol.image.offset();
            let structures = t
                .structures
                .iter()
                .map(|s| Structure {
                    byte_start: off + s.start,
                    byte_len: s.len,
                    what: s.what.clone(),
                })
                .collect();
            let mut by_path = HashMap::new();
            for f in t.files.into_values() {
                for p in &f.paths {
                    by_path.insert(p.clone(), f.clone());
                }
            }
            Live {
                by_path,
                structures,
            }
        })
    }
}

/// The shared runs of a file: sparse runs are holes (left out), compressed runs say so.
pub fn extents(data: &Data) -> Vec<Extent> {
    let Data::NonResident { runs, .. } = data else {
        return Vec::new();
    };
    runs.iter()
        .filter(|r| r.kind != RunKind::Sparse)
        .map(|r| Extent {
            logical: r.logical,
            physical: r.physical,
            len: r.len,
            kind: if r.kind == RunKind::Compressed {
                ExtentKind::Compressed
            } else {
                ExtentKind::Data
            },
        })
        .collect()
}

fn record(f: &NtfsFile) -> FileRec {
    let mut flags = 0;
    if let Data::NonResident {
        compressed,
        encrypted,
        ..
    } = &f.data
    {
        flags |= if *compressed { FLAG_COMPRESSED } else { 0 };
        flags |= if *encrypted { FLAG_ENCRYPTED } else { 0 };
    }
    FileRec {
        id: f.record,
        generation: u32::from(f.sequence),
        size: f.size,
        mode: 0o100644,
        nlink: f.paths.len() as u32,
        flags,
        mtime_ns: f.times.modified,
        ctime_ns: f.times.mft_changed,
        paths: f.paths.clone(),
        extents: extents(&f.data),
        meta: Vec::new(),
        meta_kind: "extent",
        inline: match &f.data {
            Data::Resident(b) => Some(b.clone()),
            Data::NonResident { .. } => None,
        },
    }
}

/// A deleted record's note: where it was and that its runs survive in the MFT.
fn deleted_note(f: &NtfsFile) -> String {
    let runs = match &f.data {
        Data::NonResident { runs, .. } => runs.len(),
        Data::Resident(_) => 0,
    };
    format!(
        "{}: deleted (MFT record {} not in use; {} bytes, {runs} runs still described)",
        f.paths.first().map(|p| display_path(p)).unwrap_or_default(),
        f.record,
        f.size
    )
}

pub fn tree(t: NtfsTree) -> Tree {
    let mut notes = t.notes;
    notes.extend(t.deleted.values().map(deleted_note));
    Tree {
        files: t.files.values().map(record).collect(),
        dirs: t.dirs,
        problems: t.problems,
        notes,
    }
}

impl Volume for NtfsVolume {
    fn info(&self) -> &VolumeInfo {
        &self.info
    }

    fn path(&self) -> &Path {
        self.vol.image.path()
    }

    fn read_blocks(&self, block: u64, buf: &mut [u8]) -> io::Result<()> {
        let pos = block
            .checked_mul(self.vol.geo.cluster_size)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "cluster past the end"))?;
        self.vol.image.read_exact_at(pos, buf)
    }

    fn walk(&self, cancel: &CancelFlag) -> Result<Tree, Error> {
        Ok(tree(walk::walk(&self.vol, cancel)?))
    }

    fn structures(&self) -> Vec<Structure> {
        self.live().structures.clone()
    }

    fn block_in_use(&self, block: u64) -> Option<bool> {
        self.vol.cluster_in_use(block)
    }

    fn now(&self, path: &[u8], row: &InodeRow) -> (Now, Vec<Extent>) {
        let Some(f) = self.live().by_path.get(path) else {
            return (Now::Deleted, Vec::new());
        };
        if f.record != row.ino || u32::from(f.sequence) != row.generation {
            return (Now::Deleted, Vec::new());
        }
        let now = if f.size != row.size || f.times.modified != row.mtime_ns {
            Now::Changed
        } else {
            Now::Same
        };
        (now, extents(&f.data))
    }

    fn file_reasons(&self, row: &InodeRow) -> Vec<String> {
        if row.flags & FLAG_ENCRYPTED != 0 {
            vec!["Recovered, but it is encrypted (EFS) and needs its key to be read.".into()]
        } else {
            Vec::new()
        }
    }
}
