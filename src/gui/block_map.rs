//! The block-layout map: a scanned source drawn as a grid of cells coloured by what its
//! sectors hold — SBX blocks in one hue per container (metadata lighter, parity darker),
//! normal files, empty space, damaged blocks, unreadable sectors — with a legend, zoom,
//! hover details, and a click that selects a container.
//!
//! It reads only the catalogue's run-length layout (on a worker thread) and aggregates runs
//! per cell, so a 1 TB image costs what its runs cost, never one entry per sector.

use super::jobs::{Job, human};
use super::problem::Problem;
use crate::engine::Error;
use crate::engine::catalog::{BlockRunRow, Catalog, SECTOR, SectorClass, SourceRow};
use crate::engine::ext4::owners::{owner_runs, owners_between};
use crate::engine::ext4::{OwnerRun, display_path};
use crate::engine::layout::{Cell, cells};
use std::path::PathBuf;
use std::sync::Arc;

/// Every class the map shows, in legend order.
pub const CLASSES: [SectorClass; 8] = [
    SectorClass::SbxData,
    SectorClass::SbxMeta,
    SectorClass::SbxParity,
    SectorClass::SbxBlock,
    SectorClass::Other,
    SectorClass::Empty,
    SectorClass::Damaged,
    SectorClass::Unreadable,
];

/// The colour of a class; SBX classes take a hue from their container.
pub fn color(class: SectorClass, uid: Option<u64>) -> egui::Color32 {
    let hue = uid.map_or(0.33, |u| {
        let h = u.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        (h % 1000) as f32 / 1000.0
    });
    let hsv = |s: f32, v: f32| egui::Color32::from(egui::ecolor::Hsva::new(hue, s, v, 1.0));
    match class {
        SectorClass::SbxData | SectorClass::SbxBlock => hsv(0.65, 0.85),
        SectorClass::SbxMeta => hsv(0.3, 1.0),
        SectorClass::SbxParity => hsv(0.8, 0.55),
        SectorClass::Other => egui::Color32::from_gray(110),
        SectorClass::Empty => egui::Color32::from_gray(45),
        SectorClass::Damaged => egui::Color32::from_rgb(230, 40, 40),
        SectorClass::Unreadable => egui::Color32::from_rgb(140, 0, 140),
    }
}

pub fn class_name(c: SectorClass) -> &'static str {
    match c {
        SectorClass::SbxData => "SBX data",
        SectorClass::SbxMeta => "SBX metadata",
        SectorClass::SbxParity => "SBX parity",
        SectorClass::SbxBlock => "SBX block",
        SectorClass::Other => "other data (normal files)",
        SectorClass::Empty => "empty",
        SectorClass::Damaged => "damaged SBX block",
        SectorClass::Unreadable => "unreadable",
    }
}

/// What a loaded view holds.
pub struct View {
    pub source: SourceRow,
    /// Every source of the catalogue, for choosing which one is drawn.
    pub sources: Vec<SourceRow>,
    pub from: u64,
    pub to: u64,
    /// The view's runs aggregated per cell, once, on the worker thread.
    pub cells: Vec<Cell>,
    /// Container names by UID, for hover text.
    pub names: Vec<(u64, String)>,
}

impl View {
    /// The file name a container stores (or its UID when it has none).
    fn name_of(&self, uid: u64) -> Option<&str> {
        self.names
            .iter()
            .find(|(id, _)| *id == uid)
            .map(|(_, n)| n.as_str())
    }
}

#[derive(Default)]
pub struct BlockMap {
    pub catalog: Option<PathBuf>,
    pub view: Option<View>,
    job: Option<Job<View>>,
    /// Container whose cells are outlined.
    pub highlight: Option<u64>,
    pub error: Option<Problem>,
    /// Where the cells were drawn in the last frame (for pointer tests and benchmarks).
    pub rect: Option<egui::Rect>,
    /// The source drawn, when the catalogue has several (`None`: the first).
    pub source_id: Option<i64>,
    /// The SBX blocks under the hovered cell (its sector range), looked up on a worker.
    hover: Option<(SectorRange, Vec<BlockRunRow>)>,
    hover_job: Option<(SectorRange, Job<Vec<BlockRunRow>>)>,
    /// Which file owns which bytes, when the source is an ext4 file system (read from its
    /// live metadata, or its snapshot, once per source, on a worker): the "normal files"
    /// hover shows paths.
    owners: Option<(PathBuf, Arc<Vec<OwnerRun>>)>,
    owners_job: Option<(PathBuf, Job<Vec<OwnerRun>>)>,
}

/// Sectors `from..to` of the source.
type SectorRange = (u64, u64);

/// Block runs listed in a hover text at most.
const HOVER_RUNS: usize = 6;

/// Cells across one row of the map.
const COLUMNS: usize = 128;
const ROWS: usize = 24;

impl BlockMap {
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Load sectors `from..to` (all of it when `None`) of the chosen source of `catalog` (the
    /// first until another is chosen).
    pub fn load(&mut self, ctx: &egui::Context, catalog: PathBuf, range: Option<(u64, u64)>) {
        if self.catalog.as_ref() != Some(&catalog) {
            self.source_id = None;
        }
        self.catalog = Some(catalog.clone());
        let want = self.source_id;
        self.job = Some(Job::spawn(ctx, move |_, _| {
            let c = Catalog::open_existing(&catalog)?;
            let sources = c.sources()?;
            let source = sources
                .iter()
                .find(|s| Some(s.id) == want)
                .or(sources.first())
                .cloned()
                .ok_or_else(|| Error::Invalid("the catalogue has no source".into()))?;
            let (from, to) = range.unwrap_or((0, source.size.div_ceil(SECTOR)));
            let runs = c.runs(source.id, from, to)?;
            let cells = cells(&runs, from, to, COLUMNS * ROWS);
            let names = c
                .containers()?
                .into_iter()
                .filter_map(|r| {
                    let uid = u64::from_str_radix(&r.uid, 16).ok()?;
                    Some((uid, r.file_name.unwrap_or_else(|| format!("UID {}", r.uid))))
                })
                .collect();
            Ok(View {
                source,
                sources,
                from,
                to,
                cells,
                names,
            })
        }));
    }

    pub fn poll(&mut self, ctx: &egui::Context) {
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
        if let Some(j) = self.job.as_mut()
            && let Some(r) = j.poll()
        {
            match r {
                Ok(v) => {
                    let path = v.source.path.clone();
                    let known = self.owners.as_ref().is_some_and(|(p, _)| *p == path)
                        || self.owners_job.as_ref().is_some_and(|(p, _)| *p == path);
                    if !known {
                        let p = path.clone();
                        let job = Job::spawn(ctx, move |cancel, _| owner_runs(&p, cancel));
                        self.owners_job = Some((path, job));
                    }
                    self.view = Some(v);
                    self.error = None;
                }
                Err(e) => self.error = Some(Problem::new(&e)),
            }
            self.job = None;
        }
    }

    /// Draw the map; returns the container of an SBX cell the user clicked.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<u64> {
        let Some(view) = &self.view else {
            if let Some(p) = &self.error {
                ui.label("The map cannot be drawn:");
                p.ui(ui);
            }
            return None;
        };
        let mut clicked = None;
        let mut zoom: Option<(u64, u64)> = None;
        let cells = &view.cells;
        let mut pick_source = None;
        ui.horizontal(|ui| {
            let file = |s: &SourceRow| {
                s.path.file_name().map_or_else(
                    || s.path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            };
            ui.strong(format!("Map of {}", file(&view.source)))
                .on_hover_text(view.source.path.display().to_string());
            if view.sources.len() > 1 {
                // The catalogue holds several images or devices: any can be drawn.
                let l = ui.label("Source:");
                egui::ComboBox::from_id_salt("map source")
                    .selected_text(file(&view.source))
                    .show_ui(ui, |ui| {
                        for s in &view.sources {
                            let chosen = s.id == view.source.id;
                            if ui.selectable_label(chosen, file(s)).clicked() && !chosen {
                                pick_source = Some(s.id);
                            }
                        }
                    })
                    .response
                    .labelled_by(l.id);
            }
            ui.label(format!(
                "bytes {}..{} ({} per cell)",
                view.from * SECTOR,
                view.to * SECTOR,
                human(cells.first().map_or(0, |c| c.sectors) * SECTOR)
            ));
            let whole = view.source.size.div_ceil(SECTOR);
            let mid = (view.from + view.to) / 2;
            let len = view.to - view.from;
            if ui.button("Zoom in").clicked() && len >= 4 {
                zoom = Some((mid - len / 4, mid + len / 4));
            }
            if ui.button("Zoom out").clicked() {
                zoom = Some((mid.saturating_sub(len), (mid + len).min(whole)));
            }
            if ui.button("Whole disk").clicked() {
                zoom = Some((0, whole));
            }
            // Pan by half a view.
            if ui
                .add_enabled(view.from > 0, egui::Button::new("Earlier"))
                .clicked()
            {
                let back = (len / 2).min(view.from);
                zoom = Some((view.from - back, view.to - back));
            }
            if ui
                .add_enabled(view.to < whole, egui::Button::new("Later"))
                .clicked()
            {
                let fwd = (len / 2).min(whole - view.to);
                zoom = Some((view.from + fwd, view.to + fwd));
            }
        });
        let size = egui::vec2(ui.available_width().min(1100.0), 260.0);
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
        self.rect = Some(rect);
        let painter = ui.painter_at(rect);
        let (w, h) = (rect.width() / COLUMNS as f32, rect.height() / ROWS as f32);
        for (i, cell) in cells.iter().enumerate() {
            let (col, row) = (i % COLUMNS, i / COLUMNS);
            let r = egui::Rect::from_min_size(
                rect.min + egui::vec2(col as f32 * w, row as f32 * h),
                egui::vec2(w - 1.0, h - 1.0),
            );
            if let Some(class) = cell.shown() {
                painter.rect_filled(r, 1.0, color(class, cell.uid));
                if self.highlight.is_some() && cell.uid == self.highlight && class.is_sbx() {
                    painter.rect_stroke(
                        r,
                        1.0,
                        egui::Stroke::new(1.5, egui::Color32::WHITE),
                        egui::StrokeKind::Inside,
                    );
                }
            }
        }
        let hovered = response.hover_pos().and_then(|p| {
            let col = ((p.x - rect.min.x) / w) as usize;
            let row = ((p.y - rect.min.y) / h) as usize;
            cells.get(row * COLUMNS + col.min(COLUMNS - 1))
        });
        if let Some(cell) = hovered {
            let name = cell.uid.and_then(|u| view.name_of(u));
            let mut lines = vec![format!(
                "bytes {}..{}",
                cell.start_sector * SECTOR,
                (cell.start_sector + cell.sectors) * SECTOR
            )];
            for c in CLASSES {
                let n = cell.counts[c as usize];
                if n > 0 {
                    lines.push(format!("{}: {}", class_name(c), human(n * SECTOR)));
                }
            }
            if let Some(n) = name {
                lines.push(format!("container: {n}"));
            }
            if let Some((p, owners)) = &self.owners
                && *p == view.source.path
            {
                let (a, b) = (
                    cell.start_sector * SECTOR,
                    (cell.start_sector + cell.sectors) * SECTOR,
                );
                // A cell can hold many runs of one file: name each file once.
                let mut files: Vec<String> = Vec::new();
                for o in owners_between(owners, a, b, 256) {
                    let line = format!(
                        "file {}{}",
                        display_path(&o.path),
                        match o.kind {
                            crate::engine::ext4::RunKind::Data => "",
                            crate::engine::ext4::RunKind::Unwritten => " (preallocated)",
                            crate::engine::ext4::RunKind::Mapping => " (its block map)",
                        }
                    );
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
                        let who = view
                            .name_of(b.uid)
                            .map_or(format!("UID {:012x}", b.uid), str::to_string);
                        lines.push(if b.count == 1 {
                            format!("{who}: block {} at byte {}", b.seq, b.offset)
                        } else if b.seq_step != 1 {
                            // Interleaved Reed–Solomon layouts store every B-th block in a row.
                            format!(
                                "{who}: blocks {}, {}, … {} at bytes {}..{}",
                                b.seq,
                                b.seq + b.seq_step,
                                b.last_seq(),
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
                        });
                    }
                    if blocks.len() >= HOVER_RUNS {
                        lines.push("…".into());
                    }
                }
                _ if sbx => {
                    lines.push("looking up sequence numbers…".into());
                    if self.hover_job.as_ref().is_none_or(|(r, _)| *r != range)
                        && let Some(catalog) = self.catalog.clone()
                    {
                        let id = view.source.id;
                        let job = Job::spawn(ui.ctx(), move |_, _| {
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
            response.clone().on_hover_text_at_pointer(lines.join("\n"));
            if response.clicked() && cell.uid.is_some() {
                clicked = cell.uid;
                self.highlight = cell.uid;
            }
        }
        // Legend with totals over the view.
        let mut totals = [0u64; 8];
        for c in cells.iter() {
            for (t, n) in totals.iter_mut().zip(c.counts) {
                *t += n;
            }
        }
        ui.horizontal_wrapped(|ui| {
            for c in CLASSES {
                if totals[c as usize] == 0 {
                    continue;
                }
                let (r, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                ui.painter().rect_filled(r, 2.0, color(c, None));
                ui.label(format!(
                    "{}: {}",
                    class_name(c),
                    human(totals[c as usize] * SECTOR)
                ))
                .on_hover_text(format!("{} sectors of 512 bytes", totals[c as usize]));
            }
        });
        // One hue per container: which is which.
        if !view.names.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label("Containers:");
                for (uid, name) in view.names.iter().take(40) {
                    let (r, _) =
                        ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                    ui.painter()
                        .rect_filled(r, 2.0, color(SectorClass::SbxData, Some(*uid)));
                    ui.label(name).on_hover_text(format!(
                        "UID {uid:012x}: data in this colour, metadata lighter, parity darker"
                    ));
                }
                if view.names.len() > 40 {
                    ui.label(format!("and {} more", view.names.len() - 40));
                }
            });
        }
        if let (Some(range), Some(catalog)) = (zoom, self.catalog.clone()) {
            self.load(ui.ctx(), catalog, Some(range));
        }
        if let (Some(id), Some(catalog)) = (pick_source, self.catalog.clone()) {
            self.source_id = Some(id);
            self.load(ui.ctx(), catalog, None);
        }
        clicked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_tell_classes_and_containers_apart() {
        let a = color(SectorClass::SbxData, Some(1));
        let b = color(SectorClass::SbxData, Some(2));
        assert_ne!(a, b, "one hue per container");
        assert_ne!(color(SectorClass::SbxMeta, Some(1)), a);
        assert_ne!(color(SectorClass::SbxParity, Some(1)), a);
        assert_ne!(
            color(SectorClass::Damaged, None),
            color(SectorClass::Other, None)
        );
    }
}
