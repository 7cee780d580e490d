//! The block-layout map: a scanned source drawn as a grid of cells coloured by what its
//! sectors hold — SBX blocks in one colour per container (metadata with a dot, parity with
//! a stripe), normal files, empty space, damaged blocks, unreadable sectors — with a legend,
//! wheel zoom at the pointer, drag to pan, the keyboard, hover details, and a click (or
//! Enter) that selects a container. During a scan it reloads as the catalogue grows.
//!
//! It reads only the catalogue's run-length layout (on a worker thread) and aggregates runs
//! per cell, so a 1 TB image costs what its runs cost, never one entry per sector. The UI
//! thread never queries the catalogue: every load is a job, and a newer request waits for
//! the one in flight (the latest wins).

use super::jobs::Job;
use super::map_hover::{Details, summary};
use super::map_legend;
use super::map_view::{self, CELLS, Grid, Nav};
use super::palette::{Look, Palette};
use super::problem::Problem;
use crate::engine::Error;
use crate::engine::catalog::{Catalog, SECTOR, SectorClass, SourceRow};
use crate::engine::layout::{Cell, cells_of};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every class the map shows, in legend order.
pub const CLASSES: [SectorClass; 9] = [
    SectorClass::SbxData,
    SectorClass::SbxMeta,
    SectorClass::SbxParity,
    SectorClass::SbxBlock,
    SectorClass::Other,
    SectorClass::FsStructure,
    SectorClass::Empty,
    SectorClass::Damaged,
    SectorClass::Unreadable,
];

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
        SectorClass::FsStructure => "file-system structures",
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
    pub fn name_of(&self, uid: u64) -> Option<&str> {
        self.names
            .iter()
            .find(|(id, _)| *id == uid)
            .map(|(_, n)| n.as_str())
    }

    /// Sectors of the whole source.
    pub fn whole(&self) -> u64 {
        self.source.size.div_ceil(SECTOR)
    }
}

/// A view asked for: which catalogue, source (`None`: the first) and sectors (`None`: all).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    catalog: PathBuf,
    source: Option<i64>,
    range: Option<(u64, u64)>,
}

/// The drawn cells, kept while nothing they depend on changes.
#[derive(Clone, Copy, PartialEq)]
struct MeshKey {
    rect: egui::Rect,
    generation: u64,
    palette: Palette,
    shift: i64,
    highlight: Option<u64>,
}

#[derive(Default)]
pub struct BlockMap {
    pub catalog: Option<PathBuf>,
    pub view: Option<View>,
    job: Option<(Request, Job<View>)>,
    /// The catalogue changed while a load was in flight: load again when it ends.
    again: bool,
    /// The latest view asked for; loaded as soon as the job in flight ends.
    want: Option<Request>,
    /// Container whose cells are outlined.
    pub highlight: Option<u64>,
    pub error: Option<Problem>,
    /// Where the cells were drawn in the last frame (for pointer tests and benchmarks).
    pub rect: Option<egui::Rect>,
    /// The source drawn, when the catalogue has several (`None`: the first).
    pub source_id: Option<i64>,
    details: Details,
    /// Container colours: a UID's place in this list picks its colour, kept across
    /// reloads so that a container keeps its colour while a scan finds others.
    slots: Vec<u64>,
    /// The keyboard cursor: a cell position on the grid.
    pub cursor: usize,
    drag: egui::Vec2,
    mesh: Option<(MeshKey, Arc<egui::Mesh>)>,
    /// Counts loaded views (the mesh is rebuilt when it changes).
    generation: u64,
    /// When the last load started and how long the one before took: paces live reloads.
    started: Option<Instant>,
    took: Duration,
    /// A scan is writing this catalogue: the map follows it.
    pub live: bool,
}

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
        self.want = Some(Request {
            catalog,
            source: self.source_id,
            range,
        });
        if self.job.is_none() {
            self.start(ctx);
        }
    }

    /// While a scan writes `catalog`, call this every frame: the view (same source, same
    /// range) is loaded again as often as loading allows (at most 4 times a second, and
    /// never more than half of the time), so the map keeps up with the scan's progress.
    pub fn keep_up(&mut self, ctx: &egui::Context, catalog: PathBuf) {
        self.live = true;
        let pause = (self.took * 2).max(Duration::from_millis(250));
        if self.job.is_some() || self.started.is_some_and(|t| t.elapsed() < pause) {
            // Come back when it is time: nothing else may wake the UI meanwhile.
            ctx.request_repaint_after(pause);
            return;
        }
        if self.catalog.as_ref() == Some(&catalog) || catalog.exists() {
            self.reload(ctx, catalog);
        }
    }

    /// Load the view again from `catalog` (its contents changed), keeping the source and
    /// range shown when it is the catalogue already shown; after the load in flight, if any.
    pub fn reload(&mut self, ctx: &egui::Context, catalog: PathBuf) {
        if self.catalog.as_ref() != Some(&catalog) || self.want.is_none() {
            return self.load(ctx, catalog, None);
        }
        if self.job.is_some() {
            self.again = true;
        } else {
            self.start(ctx);
        }
    }

    fn start(&mut self, ctx: &egui::Context) {
        let Some(req) = self.want.clone() else {
            return;
        };
        self.started = Some(Instant::now());
        let r = req.clone();
        let job = Job::spawn(ctx, move |_, _| {
            let c = Catalog::open_existing(&r.catalog)?;
            let sources = c.sources()?;
            let source = sources
                .iter()
                .find(|s| Some(s.id) == r.source)
                .or(sources.first())
                .cloned()
                .ok_or_else(|| Error::Invalid("the catalogue has no source".into()))?;
            let whole = source.size.div_ceil(SECTOR);
            let (from, to) = r
                .range
                .map_or((0, whole), |(a, b)| (a.min(whole), b.min(whole)));
            let runs = c.map_runs(source.id, from, to)?;
            let cells = cells_of(&runs, from, to, CELLS);
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
        });
        self.job = Some((req, job));
    }

    pub fn poll(&mut self, ctx: &egui::Context) {
        self.details.poll();
        let Some((req, j)) = self.job.as_mut() else {
            return;
        };
        let Some(r) = j.poll() else {
            return;
        };
        let req = req.clone();
        self.job = None;
        self.took = self.started.map_or(Duration::ZERO, |t| t.elapsed());
        match r {
            Ok(v) => {
                self.details.source_shown(ctx, &v.source.path);
                self.assign_colours(&v);
                self.view = Some(v);
                self.generation += 1;
                self.error = None;
            }
            Err(e) => self.error = Some(Problem::new(&e)),
        }
        if self.want.as_ref() != Some(&req) || std::mem::take(&mut self.again) {
            self.start(ctx);
        }
    }

    /// Give every container of `v` a colour slot, keeping the slots of those already known.
    /// A catalogue with none of the known containers starts the palette afresh.
    fn assign_colours(&mut self, v: &View) {
        let uids = v
            .names
            .iter()
            .map(|(u, _)| *u)
            .chain(v.cells.iter().filter_map(|c| c.uid));
        if !self.slots.is_empty() && !v.names.iter().any(|(u, _)| self.slots.contains(u)) {
            self.slots.clear();
        }
        for u in uids {
            if !self.slots.contains(&u) {
                self.slots.push(u);
            }
        }
    }

    /// The colour slot of a container.
    pub fn slot_of(&self, uid: u64) -> Option<usize> {
        self.slots.iter().position(|u| *u == uid)
    }

    /// How loaded cell `i` is drawn.
    pub fn cell_look(&self, i: usize, palette: Palette) -> Option<Look> {
        let cell = self.view.as_ref()?.cells.get(i)?;
        Some(palette.look(cell.shown(), cell.uid.and_then(|u| self.slot_of(u))))
    }

    /// The legend of the loaded view: every swatch is drawn like the cells it stands for.
    pub fn legend(&self, palette: Palette) -> Vec<map_legend::Entry> {
        match &self.view {
            Some(v) => map_legend::entries(v, palette, |u| self.slot_of(u)),
            None => Vec::new(),
        }
    }

    /// The view wanted now as `(from, to, whole)`, once a view is loaded.
    fn target(&self) -> Option<(u64, u64, u64)> {
        let v = self.view.as_ref()?;
        let same_source = self
            .want
            .as_ref()
            .is_some_and(|w| w.source.is_none_or(|s| s == v.source.id));
        let range = match &self.want {
            Some(w) if same_source => w.range,
            _ => None,
        };
        let (from, to) = range.unwrap_or((v.from, v.to));
        Some((from, to, v.whole()))
    }

    /// Where the loaded cells are drawn relative to the wanted view (see `map_view::shift`).
    fn shift(&self) -> i64 {
        match (&self.view, self.target()) {
            (Some(v), Some((a, b, _))) => map_view::shift(v.from, v.to, (a, b)),
            _ => 0,
        }
    }

    /// The loaded cell drawn at grid position `at`.
    fn cell_at(&self, at: usize) -> Option<&Cell> {
        let i = usize::try_from(at as i64 - self.shift()).ok()?;
        self.view.as_ref()?.cells.get(i)
    }

    /// Draw the map; returns the container of an SBX cell the user clicked (or chose with
    /// Enter).
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<u64> {
        let Some(view) = &self.view else {
            if let Some(p) = &self.error {
                ui.label("The map cannot be drawn:");
                p.ui(ui);
            } else if self.busy() {
                ui.label("Loading the map…");
            }
            return None;
        };
        let palette = Palette::of(ui);
        let picked = map_legend::title(ui, view);
        let target = self.target().unwrap_or((view.from, view.to, view.whole()));
        let mut nav = map_legend::toolbar(ui, view, target, self.live);

        let size = Grid::size_for(ui.available_width());
        let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click_and_drag());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Canvas, ui.is_enabled(), "Disk map")
        });
        self.rect = Some(rect);
        let grid = Grid::new(rect);
        let n = view.cells.len();
        let input = map_view::input(ui, &response, &grid, n, &mut self.cursor, &mut self.drag);
        nav = input.or(nav);
        self.paint(ui, &grid, palette);

        // Only a position that holds a cell: past the end of a small disk there is nothing to
        // outline or describe.
        let hovered = response
            .hover_pos()
            .and_then(|p| grid.index_at(p))
            .filter(|&at| self.cell_at(at).is_some());
        let painter = ui.painter_at(rect.expand(2.0));
        if let Some(at) = hovered {
            let stroke = egui::Stroke::new(1.5, palette.outline());
            painter.rect_stroke(grid.cell_rect(at), 0.0, stroke, egui::StrokeKind::Outside);
        }
        if response.has_focus() {
            let stroke = egui::Stroke::new(2.0, ui.visuals().selection.stroke.color);
            let r = grid.cell_rect(self.cursor.min(CELLS - 1));
            painter.rect_stroke(r, 0.0, stroke, egui::StrokeKind::Outside);
        }
        let shown = hovered.or(response.has_focus().then_some(self.cursor));
        let line = match shown.and_then(|at| self.cell_at(at)).cloned() {
            Some(cell) => {
                if hovered.is_some()
                    && let Some(view) = &self.view
                {
                    let lines = self
                        .details
                        .lines(ui.ctx(), view, &cell, self.catalog.as_ref());
                    // At once, not after the pointer rests: reading a map is moving over it.
                    if !response.dragged() {
                        let text = lines.join("\n");
                        egui::Tooltip::for_widget(&response)
                            .at_pointer()
                            .gap(12.0)
                            .show(|ui| ui.label(text));
                    }
                }
                self.view
                    .as_ref()
                    .map_or(String::new(), |v| summary(v, &cell))
            }
            None => "Point at a cell to see what it holds. Wheel: zoom there; drag: move; \
                     click: choose its container. Keys (Tab to the map): arrows, + and −, \
                     Page Up/Down, Home, Enter."
                .into(),
        };
        // One line, cut to the width: what follows never jumps as the pointer moves.
        ui.add(egui::Label::new(line).truncate());
        map_legend::ui(ui, &self.legend(palette), grid.cell);
        if let (Some(id), Some(catalog)) = (picked, self.catalog.clone()) {
            self.source_id = Some(id);
            self.load(ui.ctx(), catalog, None);
            return None;
        }
        self.navigate(ui.ctx(), nav)
    }

    /// Draw the cells (one mesh, rebuilt only when the view, size, theme or outline change).
    fn paint(&mut self, ui: &egui::Ui, grid: &Grid, palette: Palette) {
        let key = MeshKey {
            rect: grid.rect,
            generation: self.generation,
            palette,
            shift: self.shift(),
            highlight: self.highlight,
        };
        let mesh = match &self.mesh {
            Some((k, m)) if *k == key => m.clone(),
            _ => {
                let Some(view) = &self.view else {
                    return;
                };
                let cells = &view.cells;
                let m = Arc::new(map_view::mesh(
                    grid,
                    cells.len(),
                    key.shift,
                    |i| {
                        let c = &cells[i];
                        palette.look(c.shown(), c.uid.and_then(|u| self.slot_of(u)))
                    },
                    |i| {
                        let c = &cells[i];
                        self.highlight.is_some()
                            && c.uid == self.highlight
                            && c.shown().is_some_and(|s| s.is_sbx())
                    },
                    palette,
                ));
                self.mesh = Some((key, m.clone()));
                m
            }
        };
        ui.painter_at(grid.rect.expand(2.0))
            .add(egui::Shape::Mesh(mesh));
    }

    /// Carry out what the user asked; returns a chosen container.
    fn navigate(&mut self, ctx: &egui::Context, nav: Option<Nav>) -> Option<u64> {
        let (from, to, whole) = self.target()?;
        let catalog = self.catalog.clone()?;
        let range = match nav? {
            Nav::Zoom { at, factor } => map_view::zoom(from, to, whole, at, factor),
            Nav::Pan(cells) => map_view::pan(from, to, whole, cells),
            Nav::Whole => (0, whole),
            Nav::Select(at) => {
                let uid = self.cell_at(at)?.uid?;
                self.highlight = Some(uid);
                return Some(uid);
            }
        };
        if range != (from, to) {
            self.load(ctx, catalog, Some(range));
        }
        None
    }
}
