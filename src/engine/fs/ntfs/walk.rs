//! The MFT walk: every file record slot once, extension records merged into their base
//! record, paths built from the `$FILE_NAME` parents (Win32/POSIX names preferred over DOS
//! aliases; hard links give several paths; loops and reused parents caught), files in use and
//! records not in use (deleted files, whose record keeps its last data runs) apart, and the
//! byte ranges of the file-system structures for the map. Never writes.

use super::attrs::{Data, Name, Piece, RecordInfo, Times, merge, read_record};
use super::record::Slot;
use super::runs::{Run, RunKind};
use super::volume::Volume;
use crate::engine::fs::Problem;
use crate::engine::job::{CancelFlag, Error};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The root directory's record.
pub const ROOT: u64 = 5;
/// A `$DATA` size above this (64 PiB) is damage, not a file.
const MAX_FILE: u64 = 1 << 56;
/// Records below this are the file system's own files (`$MFT` … `$Extend`, reserved).
pub const FIRST_USER: u64 = 16;

const SYSTEM_NAMES: [&str; 12] = [
    "$MFT",
    "$MFTMirr",
    "$LogFile",
    "$Volume",
    "$AttrDef",
    "root directory",
    "$Bitmap",
    "$Boot",
    "$BadClus",
    "$Secure",
    "$UpCase",
    "$Extend",
];

/// A regular file (in use, or a record not in use: deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRec {
    pub record: u64,
    pub sequence: u16,
    pub in_use: bool,
    /// Absolute paths as raw bytes (`/dir/name`, UTF-8), sorted.
    pub paths: Vec<Vec<u8>>,
    pub size: u64,
    pub times: Times,
    pub data: Data,
}

/// A byte range of the volume that belongs to the file system itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure {
    pub what: String,
    /// Byte offset in the volume.
    pub start: u64,
    pub len: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// Regular files in use, by record number.
    pub files: BTreeMap<u64, FileRec>,
    /// Records not in use that name a regular file: deleted, their last runs kept.
    pub deleted: BTreeMap<u64, FileRec>,
    pub dirs: u64,
    pub structures: Vec<Structure>,
    pub problems: Vec<Problem>,
    /// Things skipped on purpose (alternate data streams, encrypted files), in words.
    pub notes: Vec<String>,
}

/// A base record with what its extension records added.
#[derive(Default)]
struct Entry {
    seen_base: bool,
    sequence: u16,
    in_use: bool,
    dir: bool,
    names: Vec<Name>,
    times: Option<Times>,
    pieces: Vec<Piece>,
    streams: Vec<String>,
    other: Vec<(String, Vec<Run>)>,
}

/// Read every record slot of `$MFT`.
pub fn walk(vol: &Volume, cancel: &CancelFlag) -> Result<Tree, Error> {
    let mut t = Tree {
        problems: vol.problems.clone(),
        ..Tree::default()
    };
    let mut entries: BTreeMap<u64, Entry> = BTreeMap::new();
    for n in 0..vol.records {
        if n % 256 == 0 {
            cancel.check()?;
        }
        let rec = match vol.record(n) {
            Slot::Empty => continue,
            Slot::Damaged(e) => {
                t.problems
                    .push(Problem::new(n, e, format!("MFT record {n}")));
                continue;
            }
            Slot::Record(r) => r,
        };
        let (info, problems) = match read_record(vol, n, &rec) {
            Ok(x) => x,
            Err(e) => {
                t.problems
                    .push(Problem::new(n, e, format!("MFT record {n}")));
                continue;
            }
        };
        t.problems.extend(problems);
        let base = rec.base();
        let key = if base == 0 { n } else { base };
        if key >= vol.records {
            t.problems.push(Problem::new(
                n,
                format!("extension record of record {key}, which is outside $MFT"),
                format!("MFT record {n}"),
            ));
            continue;
        }
        let e = entries.entry(key).or_default();
        if base == 0 {
            e.seen_base = true;
            e.sequence = rec.sequence();
            e.in_use = rec.in_use();
            e.dir = rec.is_dir();
        }
        add(e, info);
    }
    finish(vol, entries, &mut t);
    Ok(t)
}

fn add(e: &mut Entry, info: RecordInfo) {
    e.names.extend(info.names);
    if e.times.is_none() {
        e.times = info.times;
    }
    e.pieces.extend(info.data);
    e.streams.extend(info.streams);
    e.other.extend(info.other);
}

fn finish(vol: &Volume, mut entries: BTreeMap<u64, Entry>, t: &mut Tree) {
    entries.retain(|n, e| {
        if !e.seen_base {
            t.problems.push(Problem::new(
                *n,
                "extension records whose base record is missing or damaged",
                format!("MFT record {n}"),
            ));
        }
        e.seen_base
    });
    for e in entries.values_mut() {
        // DOS 8.3 aliases name the same link as a Win32 name: keep the long names.
        if e.names.iter().any(|n| n.namespace != 2) {
            e.names.retain(|n| n.namespace != 2);
        }
    }
    let mut paths = Paths {
        entries: &entries,
        memo: HashMap::new(),
        problems: Vec::new(),
    };
    for (&n, e) in &entries {
        let file_paths = paths.of(n);
        let system = n < FIRST_USER
            || file_paths
                .iter()
                .any(|p| p.starts_with(b"/$Extend/") || p == b"/$Extend");
        if system || (e.dir && e.in_use) {
            let what = system_name(n, &file_paths);
            structures(vol, n, e, &what, t);
            if e.dir && !system {
                t.dirs += 1;
            }
            continue;
        }
        if e.dir {
            continue;
        }
        let mut problems = Vec::new();
        let mut pieces = e.pieces.clone();
        for p in pieces.iter_mut().filter(|p| p.size > MAX_FILE) {
            problems.push(Problem::new(
                n,
                format!("impossible $DATA size {}: taken as its allocation", p.size),
                format!("MFT record {n}"),
            ));
            p.size = p.end_vcn.saturating_mul(vol.geo.cluster_size).min(MAX_FILE);
        }
        let data = merge(pieces, Some(vol.geo.cluster_size), n, &mut problems)
            .unwrap_or(Data::Resident(Vec::new()));
        t.problems.extend(problems);
        let size = match &data {
            Data::Resident(b) => b.len() as u64,
            Data::NonResident { size, .. } => *size,
        };
        let shown = file_paths
            .first()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        for s in &e.streams {
            t.notes.push(format!(
                "{shown}: alternate data stream \"{s}\" not recorded"
            ));
        }
        if matches!(
            data,
            Data::NonResident {
                encrypted: true,
                ..
            }
        ) {
            t.notes.push(format!(
                "{shown}: encrypted (EFS): its clusters hold ciphertext"
            ));
        }
        let rec = FileRec {
            record: n,
            sequence: e.sequence,
            in_use: e.in_use,
            paths: file_paths,
            size,
            times: e.times.unwrap_or_default(),
            data,
        };
        if e.in_use {
            t.files.insert(n, rec);
        } else if !rec.paths.is_empty() {
            t.deleted.insert(n, rec);
        }
    }
    t.problems.extend(paths.problems);
    boot_sectors(vol, t);
}

fn system_name(n: u64, paths: &[Vec<u8>]) -> String {
    match SYSTEM_NAMES.get(n as usize) {
        Some(s) => (*s).to_string(),
        None => paths.first().map_or_else(
            || format!("MFT record {n}"),
            |p| String::from_utf8_lossy(p).into_owned(),
        ),
    }
}

/// Every non-resident attribute of a file-system file or of a directory, as byte ranges.
fn structures(vol: &Volume, n: u64, e: &Entry, what: &str, t: &mut Tree) {
    let cs = vol.geo.cluster_size;
    // $Boot starts at cluster 0, which a data run can only say as offset 0 — the crate reads
    // that as sparse. Its runs start at cluster 0 and are contiguous from there.
    let boot = n == 7;
    let mut add = |label: String, runs: &[Run]| {
        for r in runs.iter().filter(|r| boot || r.kind != RunKind::Sparse) {
            let physical = if boot && r.kind == RunKind::Sparse {
                r.logical
            } else {
                r.physical
            };
            t.structures.push(Structure {
                what: label.clone(),
                start: physical * cs,
                len: r.len * cs,
            });
        }
    };
    let data_runs: Vec<Run> = e
        .pieces
        .iter()
        .flat_map(|p| p.runs.iter().copied())
        .collect();
    if n < FIRST_USER || !e.dir {
        add(what.to_string(), &data_runs);
    }
    for (attr, runs) in &e.other {
        let label = if e.dir && n >= FIRST_USER {
            format!("directory index of {what}")
        } else {
            format!("{what} {attr}")
        };
        add(label, runs);
    }
}

/// The boot sector and its backup in the last sector (outside every cluster run).
fn boot_sectors(vol: &Volume, t: &mut Tree) {
    let ss = vol.geo.sector_size;
    let backup = vol.geo.total_sectors.saturating_mul(ss);
    if !t.structures.iter().any(|s| s.start == 0) {
        t.structures.push(Structure {
            what: "boot sector".into(),
            start: 0,
            len: ss,
        });
    }
    if backup.saturating_add(ss) <= vol.image.len() {
        t.structures.push(Structure {
            what: "backup boot sector".into(),
            start: backup,
            len: ss,
        });
    }
    t.structures.sort_by_key(|s| s.start);
}

/// Paths from `$FILE_NAME` parents, with a memo of directory paths.
struct Paths<'a> {
    entries: &'a BTreeMap<u64, Entry>,
    memo: HashMap<u64, Option<Vec<u8>>>,
    problems: Vec<Problem>,
}

const ORPHANS: &[u8] = b"/$OrphanFiles";

impl Paths<'_> {
    /// Every path of record `n` (one per non-DOS name), sorted.
    fn of(&mut self, n: u64) -> Vec<Vec<u8>> {
        if n == ROOT {
            return vec![b"/".to_vec()];
        }
        let Some(e) = self.entries.get(&n) else {
            return Vec::new();
        };
        let mut out: Vec<Vec<u8>> = e
            .names
            .clone()
            .iter()
            .map(|name| {
                let dir = self.dir(name, n).unwrap_or_else(|| ORPHANS.to_vec());
                join(&dir, name.name.as_bytes())
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The path of the directory `name` points to (None: unknown — reported once).
    fn dir(&mut self, name: &Name, child: u64) -> Option<Vec<u8>> {
        if let Some(p) = self.memo.get(&name.parent) {
            return p.clone();
        }
        // Walk up to the root, then fill the memo on the way back.
        let mut chain: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut seen = HashSet::new();
        let mut cur = name.clone();
        let mut from = child;
        let found = loop {
            if cur.parent == ROOT {
                break Some(b"/".to_vec());
            }
            if let Some(p) = self.memo.get(&cur.parent) {
                break p.clone();
            }
            let Some(parent) = self.entries.get(&cur.parent) else {
                self.problem(
                    from,
                    format!("parent directory record {} is missing", cur.parent),
                );
                break None;
            };
            if parent.in_use && parent.sequence != cur.parent_seq {
                self.problem(
                    from,
                    format!(
                        "parent directory record {} was reused (sequence {} ≠ {})",
                        cur.parent, parent.sequence, cur.parent_seq
                    ),
                );
                break None;
            }
            if !seen.insert(cur.parent) || chain.len() > self.entries.len() {
                self.problem(
                    from,
                    format!("directory parents loop at record {}", cur.parent),
                );
                break None;
            }
            let Some(up) = parent.names.first() else {
                self.problem(from, format!("directory record {} has no name", cur.parent));
                break None;
            };
            chain.push((cur.parent, up.name.as_bytes().to_vec()));
            from = cur.parent;
            cur = up.clone();
        };
        let mut path = found;
        for (rec, comp) in chain.into_iter().rev() {
            path = path.map(|p| join(&p, &comp));
            self.memo.insert(rec, path.clone());
        }
        self.memo.get(&name.parent).cloned().unwrap_or(path)
    }

    fn problem(&mut self, n: u64, what: String) {
        self.problems
            .push(Problem::new(n, what, format!("MFT record {n}")));
    }
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = parent.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}
