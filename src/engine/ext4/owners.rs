//! Which file owns which part of a disk image, read from the live ext4 metadata: what the
//! block map shows on hover over "normal files". Reads the image only (the metadata, never
//! file data); a file system too damaged to walk gives an error, and the caller falls back
//! to a snapshot or to showing no owners.

use super::store::{OwnerRun, RunKind};
use super::{Fs, Image, mapping, walk};
use crate::engine::{CancelFlag, Error};
use std::path::Path;

/// Owner runs kept at most, so a huge file system cannot exhaust memory (≈ 100 bytes each).
pub const MAX_RUNS: usize = 4_000_000;

/// Every region of `image` that a regular file owns (data, preallocated and mapping blocks),
/// sorted by `byte_start`, with image byte offsets (the partition offset included). A file
/// with several paths is named by its first.
pub fn live_owner_runs(image: &Path, cancel: &CancelFlag) -> Result<Vec<OwnerRun>, Error> {
    let fs = Fs::open(Image::open(image, None)?)?;
    let tree = walk::walk(&fs, cancel)?;
    let (base, bs) = (fs.image.offset(), fs.block_size());
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for rec in tree.files.values() {
        cancel.check()?;
        let Some(path) = rec.paths.first() else {
            continue;
        };
        let m = mapping::map(&fs, &rec.inode, &mut problems);
        let runs = m.runs.iter().map(|r| {
            let kind = if r.unwritten {
                RunKind::Unwritten
            } else {
                RunKind::Data
            };
            (r.physical, r.len, kind)
        });
        let meta = m.meta.iter().map(|&b| (b, 1, RunKind::Mapping));
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
    Ok(out)
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
