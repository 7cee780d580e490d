//! A read-only FAT12/16/32 reader as a [`Volume`]: the boot sector, both FATs, directories
//! with long names, cluster chains, deleted entries noted. Block `n` of the volume is cluster
//! `n + 2` (the data area starts at block 0), so snapshots store clusters as blocks.
//!
//! Reads the image only, through `Image`'s positioned reads. Damage (a looping chain, a
//! cluster past the end, FAT copies that disagree, a size that does not match its chain) is a
//! [`Problem`], never a panic; every loop is bounded by the volume's cluster count.

pub mod dir;
pub mod table;

use self::dir::Entry;
use self::table::{Bits, Bpb, Chain, Next, Table, chain};
use crate::engine::fs::{
    Extent, ExtentKind, FileRec, FsType, Image, InodeRow, Now, Problem, Structure, Tree, Volume,
    VolumeInfo, display_path,
};
use crate::engine::job::{CancelFlag, Error};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::path::Path;
use std::sync::Mutex;

/// The largest directory FAT allows: 65 536 entries of 32 bytes.
const MAX_DIR_BYTES: u64 = 65_536 * 32;

/// Where a directory's entries are: the fixed FAT12/16 root, or a cluster chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum DirAt {
    FixedRoot,
    Chain(u32),
}

/// An opened FAT volume.
pub struct FatVolume {
    image: Image,
    pub bpb: Bpb,
    fat: Table,
    info: VolumeInfo,
    /// Problems met while opening (a damaged first FAT, copies that differ).
    pub problems: Vec<Problem>,
    /// Directory entries read for path lookups, by directory.
    dirs: Mutex<HashMap<DirAt, Vec<Entry>>>,
}

impl FatVolume {
    pub fn open(image: Image) -> Result<FatVolume, Error> {
        let mut boot = vec![0u8; 512];
        image
            .read_exact_at(0, &mut boot)
            .map_err(Error::read(image.path()))?;
        let bpb = Bpb::parse(&boot, image.len())
            .map_err(|e| Error::Invalid(format!("{}: FAT: {e}", image.path().display())))?;
        let (fat, problems) = read_fats(&image, &bpb)?;
        let clean = match bpb.bits {
            Bits::Twelve => true,
            Bits::Sixteen => fat.entry(1) & 0x8000 != 0,
            Bits::ThirtyTwo => fat.entry(1) & 0x0800_0000 != 0,
        };
        let info = VolumeInfo {
            fs_type: match bpb.bits {
                Bits::Twelve => FsType::Fat12,
                Bits::Sixteen => FsType::Fat16,
                Bits::ThirtyTwo => FsType::Fat32,
            },
            uuid: format!("{:04X}-{:04X}", bpb.serial >> 16, bpb.serial & 0xFFFF),
            label: bpb.label.clone(),
            block_size: bpb.cluster_size,
            blocks_count: bpb.cluster_count,
            offset: image.offset(),
            block_origin: image.offset() + bpb.data_start(),
            first_data_block: 0,
            features: vec![bpb.bits.name().to_string()],
            clean,
        };
        Ok(FatVolume {
            image,
            bpb,
            fat,
            info,
            problems,
            dirs: Mutex::default(),
        })
    }

    /// The chain from `first`, at most `limit` clusters long.
    fn chain(&self, first: u32, limit: u64, id: u64, place: &str, p: &mut Vec<Problem>) -> Chain {
        chain(
            &self.fat,
            self.bpb.cluster_count,
            first,
            limit,
            id,
            place,
            p,
        )
    }

    /// A directory's bytes and the volume byte offset of each of its clusters (to turn an
    /// entry's position into a stable id).
    fn dir_bytes(&self, at: DirAt, place: &str, p: &mut Vec<Problem>) -> (Vec<u8>, Vec<u64>) {
        match at {
            DirAt::FixedRoot => {
                let (start, len) = self.bpb.root_dir();
                let mut b = vec![0u8; len as usize];
                if let Err(e) = self.image.read_exact_at(start, &mut b) {
                    p.push(Problem::new(
                        0,
                        format!("root directory unreadable: {e}"),
                        "/",
                    ));
                    return (Vec::new(), Vec::new());
                }
                let starts = (0..len.div_ceil(self.bpb.cluster_size))
                    .map(|k| start + k * self.bpb.cluster_size)
                    .collect();
                (b, starts)
            }
            DirAt::Chain(first) => {
                let c = self.dir_chain(first, place, p);
                let cs = self.bpb.cluster_size;
                let mut b = Vec::new();
                let mut starts = Vec::new();
                for (s, n) in c.runs {
                    let at = b.len();
                    b.resize(at + (n * cs) as usize, 0);
                    if let Err(e) = self.read_blocks(u64::from(s) - 2, &mut b[at..]) {
                        p.push(Problem::new(0, format!("directory unreadable: {e}"), place));
                        b.truncate(at);
                        break;
                    }
                    starts.extend((0..n).map(|k| self.block_byte(u64::from(s) - 2 + k)));
                }
                (b, starts)
            }
        }
    }

    /// A directory's clusters: at most the 65 536 entries FAT allows (2 MiB), so a hostile
    /// chain cannot make a directory as big as the volume.
    fn dir_chain(&self, first: u32, place: &str, p: &mut Vec<Problem>) -> Chain {
        let limit = (MAX_DIR_BYTES).div_ceil(self.bpb.cluster_size);
        let c = self.chain(first, limit, 0, place, p);
        if c.clusters >= limit && !c.broken && self.fat.next(last_cluster(&c)) != Next::End {
            p.push(Problem::new(
                0,
                "directory longer than FAT allows (65 536 entries); the rest is not read",
                place,
            ));
        }
        c
    }

    /// Volume byte offset of block `b`.
    fn block_byte(&self, b: u64) -> u64 {
        self.bpb.data_start() + b * self.bpb.cluster_size
    }

    /// The entries of a directory (deleted ones included), with ids: the volume byte offset
    /// of each 8.3 entry / 32.
    fn entries(&self, at: DirAt, place: &str, p: &mut Vec<Problem>) -> Vec<Entry> {
        let (bytes, starts) = self.dir_bytes(at, place, p);
        let mut orphans = 0;
        let mut out = dir::parse(&bytes, &mut orphans);
        if orphans > 0 {
            p.push(Problem::new(
                0,
                format!(
                    "{orphans} long name(s) did not match their entry (checksum); short names used"
                ),
                place,
            ));
        }
        let cs = self.bpb.cluster_size;
        for e in &mut out {
            let k = (e.at / cs) as usize;
            e.at = starts.get(k).copied().unwrap_or(0) + e.at % cs;
        }
        out
    }

    /// A file's extents from its chain, cut at its size; a chain shorter or longer than the
    /// size is a Problem.
    fn extents_of(&self, e: &Entry, id: u64, place: &str, p: &mut Vec<Problem>) -> Vec<Extent> {
        if e.first_cluster == 0 {
            if e.size > 0 {
                p.push(Problem::new(
                    id,
                    format!("{} bytes but no first cluster", e.size),
                    place,
                ));
            }
            return Vec::new();
        }
        // An empty file that still names a cluster owns none of it.
        let need = e.size.div_ceil(self.bpb.cluster_size);
        if need == 0 {
            return Vec::new();
        }
        let c = self.chain(e.first_cluster, need, id, place, p);
        if c.clusters < need {
            p.push(Problem::new(
                id,
                format!(
                    "the chain holds {} of the {need} clusters its size needs",
                    c.clusters
                ),
                place,
            ));
        } else if !c.broken && !matches!(self.fat.next(last_cluster(&c)), Next::End) {
            p.push(Problem::new(
                id,
                "the chain goes on past the file's size",
                place,
            ));
        }
        let mut logical = 0;
        c.runs
            .iter()
            .map(|&(s, n)| {
                let x = Extent {
                    logical,
                    physical: u64::from(s) - 2,
                    len: n,
                    kind: ExtentKind::Data,
                };
                logical += n;
                x
            })
            .collect()
    }

    fn root(&self) -> DirAt {
        match self.bpb.bits {
            Bits::ThirtyTwo => DirAt::Chain(self.bpb.root_cluster),
            _ => DirAt::FixedRoot,
        }
    }

    /// The live entry at `path`, looked up from the root (directories cached).
    fn resolve(&self, path: &[u8]) -> Option<Entry> {
        let mut dirs = self.dirs.lock().ok()?;
        let mut at = self.root();
        let mut found = None;
        for name in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            if found.as_ref().is_some_and(|e: &Entry| !e.is_dir()) {
                return None;
            }
            if let Some(e) = &found {
                at = DirAt::Chain(e.first_cluster);
            }
            let list = dirs
                .entry(at)
                .or_insert_with(|| self.entries(at, "", &mut Vec::new()));
            found = list
                .iter()
                .find(|e| !e.deleted && e.name.eq_ignore_ascii_case(name))
                .cloned();
            found.as_ref()?;
        }
        found
    }
}

fn last_cluster(c: &Chain) -> u32 {
    c.runs.last().map_or(0, |&(s, n)| s + n as u32 - 1)
}

/// Read the FAT copies: the first that is readable and passes the media check is used; a
/// damaged first copy, or copies that differ, are said.
fn read_fats(image: &Image, bpb: &Bpb) -> Result<(Table, Vec<Problem>), Error> {
    let mut problems = Vec::new();
    let mut copies = Vec::new();
    for i in 0..bpb.fats {
        let mut raw = vec![0u8; bpb.fat_bytes() as usize];
        let t = image
            .read_exact_at(bpb.fat_start(i), &mut raw)
            .ok()
            .map(|()| Table {
                bits: bpb.bits,
                raw,
            })
            .filter(|t| t.media_ok(bpb.media));
        if t.is_none() {
            problems.push(Problem::new(
                0,
                format!(
                    "FAT copy {} is unreadable or damaged (its first entry is not the media byte)",
                    i + 1
                ),
                format!("byte {}", image.offset() + bpb.fat_start(i)),
            ));
        }
        copies.push(t);
    }
    let Some((used, t)) = copies
        .iter()
        .enumerate()
        .find_map(|(i, c)| Some((i, c.clone()?)))
    else {
        return Err(Error::Invalid(format!(
            "{}: no FAT copy is readable",
            image.path().display()
        )));
    };
    if used > 0 {
        problems.push(Problem::new(
            0,
            format!("FAT copy {} used instead", used + 1),
            "",
        ));
    }
    for (i, other) in copies.iter().enumerate().skip(used + 1) {
        if let Some(o) = other
            && o.raw != t.raw
        {
            let differ = (2..bpb.cluster_count as u32 + 2)
                .filter(|&n| o.entry(n) != t.entry(n))
                .count();
            problems.push(Problem::new(
                0,
                format!(
                    "FAT copy {} differs from copy {} in {differ} entries; copy {} is used",
                    i + 1,
                    used + 1,
                    used + 1
                ),
                "",
            ));
        }
    }
    Ok((t, problems))
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = parent.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

impl Volume for FatVolume {
    fn info(&self) -> &VolumeInfo {
        &self.info
    }

    fn path(&self) -> &Path {
        self.image.path()
    }

    fn read_blocks(&self, block: u64, buf: &mut [u8]) -> io::Result<()> {
        let count = (buf.len() as u64).div_ceil(self.bpb.cluster_size);
        if block
            .checked_add(count)
            .is_none_or(|end| end > self.bpb.cluster_count)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("cluster {} is outside the volume", block.saturating_add(2)),
            ));
        }
        self.image.read_exact_at(self.block_byte(block), buf)
    }

    fn walk(&self, cancel: &CancelFlag) -> Result<Tree, Error> {
        let mut t = Tree {
            problems: self.problems.clone(),
            ..Tree::default()
        };
        let mut seen = HashSet::new();
        let mut names: HashSet<Vec<u8>> = HashSet::new();
        if let DirAt::Chain(root) = self.root() {
            seen.insert(root);
        }
        let mut queue = VecDeque::from([(self.root(), b"/".to_vec())]);
        while let Some((at, path)) = queue.pop_front() {
            cancel.check()?;
            t.dirs += 1;
            let place = display_path(&path);
            for e in self.entries(at, &place, &mut t.problems) {
                let id = e.at / 32;
                let mut p = join(&path, &e.name);
                if !e.deleted && !names.insert(p.clone()) {
                    // A damaged folder can name two entries alike: both are kept, apart.
                    t.problems.push(Problem::new(
                        id,
                        "another entry of this folder has the same name; recorded with its entry number",
                        display_path(&p),
                    ));
                    p.extend_from_slice(format!(" (entry {id})").as_bytes());
                    names.insert(p.clone());
                }
                if e.deleted {
                    t.notes.push(format!(
                        "{}: deleted entry (first cluster {}, {} bytes; its chain is gone)",
                        display_path(&p),
                        e.first_cluster,
                        e.size
                    ));
                } else if e.is_dir() {
                    if e.first_cluster < 2 || !seen.insert(e.first_cluster) {
                        t.problems.push(Problem::new(
                            id,
                            "directory reached twice or without clusters; not walked again",
                            display_path(&p),
                        ));
                    } else {
                        queue.push_back((DirAt::Chain(e.first_cluster), p));
                    }
                } else {
                    let extents = self.extents_of(&e, id, &display_path(&p), &mut t.problems);
                    t.files.push(FileRec {
                        id,
                        generation: e.first_cluster,
                        size: e.size,
                        mode: u32::from(e.attr),
                        nlink: 1,
                        flags: u32::from(e.attr),
                        mtime_ns: e.mtime_ns,
                        ctime_ns: e.ctime_ns,
                        paths: vec![p],
                        extents,
                        meta: Vec::new(),
                        meta_kind: "extent",
                        inline: None,
                    });
                }
            }
        }
        t.files.sort_by_key(|f| f.id);
        Ok(t)
    }

    fn structures(&self) -> Vec<Structure> {
        let b = &self.bpb;
        let o = self.image.offset();
        let mut out = vec![Structure {
            byte_start: o,
            byte_len: b.reserved_sectors * b.bytes_per_sector,
            what: "boot sector and reserved sectors".into(),
        }];
        for i in 0..b.fats {
            out.push(Structure {
                byte_start: o + b.fat_start(i),
                byte_len: b.fat_sectors * b.bytes_per_sector,
                what: format!("FAT copy {}", i + 1),
            });
        }
        let (root, len) = b.root_dir();
        if len > 0 {
            out.push(Structure {
                byte_start: o + root,
                byte_len: len,
                what: "root directory".into(),
            });
        }
        // Directory clusters (the FAT32 root among them).
        let mut dirs = vec![(self.root(), b"/".to_vec())];
        let mut seen = HashSet::new();
        while let Some((at, path)) = dirs.pop() {
            if let DirAt::Chain(first) = at {
                let c = self.dir_chain(first, "", &mut Vec::new());
                for (s, n) in c.runs {
                    out.push(Structure {
                        byte_start: self.info.block_origin + (u64::from(s) - 2) * b.cluster_size,
                        byte_len: n * b.cluster_size,
                        what: format!("directory {}", display_path(&path)),
                    });
                }
            }
            for e in self.entries(at, "", &mut Vec::new()) {
                if e.is_dir() && !e.deleted && e.first_cluster >= 2 && seen.insert(e.first_cluster)
                {
                    dirs.push((DirAt::Chain(e.first_cluster), join(&path, &e.name)));
                }
            }
        }
        out
    }

    fn gaps_are_holes(&self) -> bool {
        false
    }

    fn block_in_use(&self, block: u64) -> Option<bool> {
        if block >= self.bpb.cluster_count {
            return None;
        }
        Some(self.fat.next(block as u32 + 2) != Next::Free)
    }

    fn now(&self, path: &[u8], row: &InodeRow) -> (Now, Vec<Extent>) {
        let Some(e) = self.resolve(path) else {
            return (Now::Deleted, Vec::new());
        };
        if e.at / 32 != row.ino || e.first_cluster != row.generation || e.is_dir() {
            return (Now::Deleted, Vec::new());
        }
        let now = if e.size != row.size || e.mtime_ns != row.mtime_ns {
            Now::Changed
        } else {
            Now::Same
        };
        (now, self.extents_of(&e, row.ino, "", &mut Vec::new()))
    }
}
