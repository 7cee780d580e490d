//! What the block map says about one cell: a one-line summary (shown under the map for the
//! cell under the pointer or the keyboard cursor) and the longer hover text, with the SBX
//! blocks and the files (ext4, FAT, NTFS) and file-system structures in the cell, looked up on worker threads.
//!
//! Never queries the catalogue or reads a source on the UI thread: lookups are jobs, and a
//! line says "looking up…" until they answer.

use super::block_map::{CLASSES, View, class_name};
use super::jobs::{Job, human};
use crate::engine::catalog::{BlockRunRow, Catalog, SECTOR};
use crate::engine::ext4::owners::{owner_runs, owners_between};
use crate::engine::ext4::{OwnerRun, RunKind, display_path};
use crate::engine::layout::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Sectors `from..to` of the source.
type SectorRange = (u64, u64);

/// Block runs and files listed in a hover text at most.
const HOVER_RUNS: usize = 6;

/// The slow facts about cells: their SBX blocks and, on ext4, the files owning their bytes.
#[derive(Default)]
pub struct Details {
    /// The SBX blocks under the hovered cell (its sector range).
    hover: Option<(SectorRange, Vec<BlockRunRow>)>,
    hover_job: Option<(SectorRange, Job<Vec<BlockRunRow>>)>,
    /// Which file owns which bytes, when the source is an ext4 file system (read from its
    /// live metadata once per source): the "normal files" hover shows paths.
    owners: Option<(PathBuf, Arc<Vec<OwnerRun>>)>,
    owners_job: Option<(PathBuf, Job<Vec<OwnerRun>>)>,
}

impl Details {
    pub fn poll(&mut self) {
        if let Some((path, j)) = self.owners_job.as_mut()
            && let Some(r) = j.poll()
        {
            // Not ext4 (or too damaged to read): no owners, the map still works.
            self.owners = Some((path.clone(), Arc::new(r.unwrap_or_default())));
            self.owners_job = None;
        }
        if let Some((range, j)) = self.hover_job.as_mut()
            && let Some(r) = j.poll()
        {
            self.hover = Some((*range, r.unwrap_or_default()));
            self.hover_job = None;
        }
    }

    /// A source is shown: learn who owns its bytes, once per source.
    pub fn source_shown(&mut self, ctx: &egui::Context, path: &Path) {
        let known = self.owners.as_ref().is_some_and(|(p, _)| p == path)
            || self.owners_job.as_ref().is_some_and(|(p, _)| p == path);
        if !known {
            let p = path.to_path_buf();
            let job = Job::spawn(ctx, move |cancel, _| owner_runs(&p, cancel));
            self.owners_job = Some((path.to_path_buf(), job));
        }
    }

    /// The hover text of `cell`: its bytes, classes, container, files and SBX blocks.
    pub fn lines(
        &mut self,
        ctx: &egui::Context,
        view: &View,
        cell: &Cell,
        catalog: Option<&PathBuf>,
    ) -> Vec<String> {
        let (a, b) = (
            cell.start_sector * SECTOR,
            (cell.start_sector + cell.sectors) * SECTOR,
        );
        let mut lines = vec![format!("bytes {a}..{b}")];
        for c in CLASSES {
            let n = cell.counts[c as usize];
            if n > 0 {
                lines.push(format!("{}: {}", class_name(c), human(n * SECTOR)));
            }
        }
        if let Some(n) = cell.uid.and_then(|u| view.name_of(u)) {
            lines.push(format!("container: {n}"));
        }
        if let Some((p, owners)) = &self.owners
            && *p == view.source.path
        {
            // A cell can hold many runs of one file: name each file once.
            let mut files: Vec<String> = Vec::new();
            for o in owners_between(owners, a, b, 256) {
                let line = match o.kind {
                    RunKind::Structure => {
                        format!("file-system structure: {}", display_path(&o.path))
                    }
                    k => format!(
                        "file {}{}",
                        display_path(&o.path),
                        match k {
                            RunKind::Unwritten => " (preallocated)",
                            RunKind::Mapping => " (its block map)",
                            _ => "",
                        }
                    ),
                };
                if !files.contains(&line) {
                    files.push(line);
                }
            }
            let more = files.len() > HOVER_RUNS;
            lines.extend(files.into_iter().take(HOVER_RUNS));
            if more {
                lines.push("… more files".into());
            }
        }
        let range = (cell.start_sector, cell.start_sector + cell.sectors);
        let sbx = CLASSES
            .iter()
            .any(|c| c.is_sbx() && cell.counts[*c as usize] > 0);
        match &self.hover {
            Some((r, blocks)) if *r == range => {
                for b in blocks.iter().take(HOVER_RUNS - 1) {
                    lines.push(block_line(view, b));
                }
                if blocks.len() >= HOVER_RUNS {
                    lines.push("…".into());
                }
            }
            _ if sbx => {
                lines.push("looking up sequence numbers…".into());
                if self.hover_job.as_ref().is_none_or(|(r, _)| *r != range)
                    && let Some(catalog) = catalog.cloned()
                {
                    let id = view.source.id;
                    let job = Job::spawn(ctx, move |_, _| {
                        Catalog::open_existing(&catalog)?.blocks_between(
                            id,
                            range.0 * SECTOR,
                            range.1 * SECTOR,
                            HOVER_RUNS,
                        )
                    });
                    self.hover_job = Some((range, job));
                }
            }
            _ => {}
        }
        lines
    }
}

/// One run of SBX blocks, in words.
fn block_line(view: &View, b: &BlockRunRow) -> String {
    let who = view
        .name_of(b.uid)
        .map_or(format!("UID {:012x}", b.uid), str::to_string);
    if b.count == 1 {
        format!("{who}: block {} at byte {}", b.seq, b.offset)
    } else if !b.in_order() {
        // Interleaved Reed–Solomon layouts (and the metadata copies among them) do not hold
        // their blocks in order: say which slots of the container the run is.
        format!(
            "{who}: {} blocks, {} … {} (slots {}–{}) at bytes {}..{}",
            b.count,
            b.seq,
            b.last_seq(),
            b.slot,
            b.slot + b.count - 1,
            b.offset,
            b.end_offset
        )
    } else {
        format!(
            "{who}: blocks {}–{} at bytes {}..{}",
            b.seq,
            b.last_seq(),
            b.offset,
            b.end_offset
        )
    }
}

/// One line about `cell` for under the map: its bytes, what it holds, whose it is.
pub fn summary(view: &View, cell: &Cell) -> String {
    let (a, b) = (
        cell.start_sector * SECTOR,
        (cell.start_sector + cell.sectors) * SECTOR,
    );
    let mut parts = Vec::new();
    for c in CLASSES {
        let n = cell.counts[c as usize];
        if n > 0 {
            parts.push(format!("{} {}", class_name(c), human(n * SECTOR)));
        }
    }
    let what = if parts.is_empty() {
        "not scanned yet".to_string()
    } else {
        parts.join(", ")
    };
    let whose = cell
        .uid
        .and_then(|u| view.name_of(u))
        .map_or(String::new(), |n| format!(" — {n}"));
    format!("Cell at bytes {a}..{b}: {what}{whose}")
}
