//! Which file owns which part of a disk image: what the block map shows on hover over "normal
//! files". Read from the live metadata of any [`Volume`](super::Volume) (never file data), or,
//! when the file system is too damaged to walk, from a snapshot taken earlier and kept beside
//! the image.

use super::store::{OwnerRun, RunKind, Snapshots};
use super::{ExtentKind, Structure};
use crate::engine::{CancelFlag, Error};
use std::path::Path;

/// Owner runs kept at most, so a huge file system cannot exhaust memory (≈ 100 bytes each).
/// A million runs cover a well-filled multi-terabyte disk and stay near 100 MB.
pub const MAX_RUNS: usize = 1_000_000;

/// Every region of `image` that a regular file owns (data, preallocated and mapping blocks),
/// sorted by `byte_start`, with image byte offsets (the partition offset included). A file
/// with several paths is named by its first.
pub fn live_owner_runs(image: &Path, cancel: &CancelFlag) -> Result<Vec<OwnerRun>, Error> {
    Ok(live_map(image, cancel)?.0)
}

/// The owner runs ([`live_owner_runs`]) and the file system's own structures, in image bytes.
pub fn live_map(
    image: &Path,
    cancel: &CancelFlag,
) -> Result<(Vec<OwnerRun>, Vec<Structure>), Error> {
    let fs = super::open(image, None)?;
    let tree = fs.walk(cancel)?;
    let (base, bs) = (fs.info().block_origin, fs.info().block_size);
    let mut out = Vec::new();
    for rec in &tree.files {
        cancel.check()?;
        let Some(path) = rec.paths.first() else {
            continue;
        };
        let runs = rec.extents.iter().map(|r| {
            let kind = if r.kind == ExtentKind::Unwritten {
                RunKind::Unwritten
            } else {
                RunKind::Data
            };
            (r.physical, r.len, kind)
        });
        let meta = rec.meta.iter().map(|&b| (b, 1, RunKind::Mapping));
        for (physical, len, kind) in runs.chain(meta) {
            if out.len() >= MAX_RUNS {
                break;
            }
            out.push(OwnerRun {
                byte_start: base + physical * bs,
                byte_len: len * bs,
                path: path.clone(),
                kind,
            });
        }
    }
    out.sort_by_key(|r| r.byte_start);
    let mut structures = fs.structures();
    structures.sort_by_key(|s| s.byte_start);
    Ok((out, structures))
}

/// The sectors (512 bytes, whole ones inside) of the file system's structures in `path`,
/// sorted, not overlapping, at most `MAX_RUNS`: empty when no file system is recognised.
/// Only reads metadata (boot sector, FATs, directories).
pub fn structure_sectors(path: &Path) -> Vec<(u64, u64)> {
    let Ok(vol) = super::open(path, None) else {
        return Vec::new();
    };
    let mut out: Vec<(u64, u64)> = vol
        .structures()
        .iter()
        .map(|s| {
            (
                s.byte_start.div_ceil(512),
                (s.byte_start + s.byte_len) / 512,
            )
        })
        .filter(|(a, b)| a < b)
        .take(MAX_RUNS)
        .collect();
    out.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(out.len());
    for (a, b) in out {
        match merged.last_mut() {
            Some(l) if a <= l.1 => l.1 = l.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Where the app keeps an image's snapshot by default: `IMAGE.snapshot.sqlite` beside it; a
/// device's in the user's data folder (`…/seqbox/snapshots/`), where it outlives a reboot.
pub fn default_snapshot_path(image: &Path) -> std::path::PathBuf {
    let name = crate::engine::io::file_name_of(image);
    let file = format!("{name}.snapshot.sqlite");
    if crate::engine::io::is_device_path(image) {
        crate::engine::io::data_folder()
            .join("snapshots")
            .join(file)
    } else {
        image.with_file_name(file)
    }
}

/// Owner runs and the file system's structures (as runs of kind `Structure`, named by what
/// they are) in one sorted list: what the map's hover reads.
pub fn live_map_runs(image: &Path, cancel: &CancelFlag) -> Result<Vec<OwnerRun>, Error> {
    let (mut runs, structures) = live_map(image, cancel)?;
    // Directory clusters of FAT are structures; a structure overlapping a file's run is left
    // to the file (owners_between needs runs that do not overlap).
    let extra: Vec<OwnerRun> = structures
        .into_iter()
        .filter(|s| owners_between(&runs, s.byte_start, s.byte_start + s.byte_len, 1).is_empty())
        .map(|s| OwnerRun {
            byte_start: s.byte_start,
            byte_len: s.byte_len,
            path: s.what.into_bytes(),
            kind: RunKind::Structure,
        })
        .collect();
    runs.extend(extra.into_iter().take(MAX_RUNS.saturating_sub(runs.len())));
    runs.sort_by_key(|r| r.byte_start);
    Ok(runs)
}

/// Owner runs (and structures) from the live metadata, or else from the latest snapshot of
/// this image in its default snapshot file (for a disk whose file system is damaged now).
pub fn owner_runs(image: &Path, cancel: &CancelFlag) -> Result<Vec<OwnerRun>, Error> {
    let live = live_map_runs(image, cancel);
    if live.is_ok() {
        return live;
    }
    let snap = default_snapshot_path(image);
    if !snap.is_file() {
        return live;
    }
    let db = Snapshots::open(&snap)?;
    let wanted = std::fs::canonicalize(image).unwrap_or_else(|_| image.to_path_buf());
    match db.list()?.into_iter().rev().find(|s| s.image == wanted) {
        Some(s) => db.owner_runs(s.id),
        None => live,
    }
}

/// The owners of bytes `from..to`, at most `limit` of them, from runs sorted by start.
pub fn owners_between(runs: &[OwnerRun], from: u64, to: u64, limit: usize) -> Vec<&OwnerRun> {
    // Runs do not overlap, so their ends are sorted too.
    let first = runs.partition_point(|r| r.byte_start + r.byte_len <= from);
    runs[first..]
        .iter()
        .take_while(|r| r.byte_start < to)
        .take(limit)
        .collect()
}
