//! The words and swatches around the block map: its title and source choice, the zoom and
//! pan buttons (always in the same place, whatever the text beside them says), and the
//! legend, whose swatches are drawn by the very function that draws the cells.
//!
//! Reads only the loaded view: never touches the catalogue.

use super::block_map::{CLASSES, View, class_name};
use super::jobs::human;
use super::map_view::{MIN_SECTORS, Nav};
use super::palette::{CONTAINERS, Look, Palette, paint};
use crate::engine::catalog::{SECTOR, SectorClass, SourceRow};

/// Containers listed in the legend at most.
const LISTED: usize = 40;

/// Which line of the legend an entry sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    Classes,
    Containers,
    Note,
}

/// One legend entry: a swatch (none for a note), its text and its hover text.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub line: Line,
    pub look: Option<Look>,
    pub label: String,
    pub hover: String,
}

fn file(s: &SourceRow) -> String {
    s.path.file_name().map_or_else(
        || s.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// "Map of NAME" and, when the catalogue holds several sources, a choice of source. Returns
/// the source picked.
pub fn title(ui: &mut egui::Ui, view: &View) -> Option<i64> {
    let mut picked = None;
    ui.horizontal(|ui| {
        ui.strong(format!("Map of {}", file(&view.source)))
            .on_hover_text(view.source.path.display().to_string());
        if view.sources.len() > 1 {
            // The catalogue holds several images or devices: any can be drawn.
            let l = ui.label("Source:");
            egui::ComboBox::from_id_salt("map source")
                .selected_text(file(&view.source))
                .width(200.0)
                .show_ui(ui, |ui| {
                    for s in &view.sources {
                        let chosen = s.id == view.source.id;
                        if ui.selectable_label(chosen, file(s)).clicked() && !chosen {
                            picked = Some(s.id);
                        }
                    }
                })
                .response
                .labelled_by(l.id);
        }
    });
    picked
}

/// The zoom and pan buttons, then what the view shows. Buttons come first so that they
/// never move when the text changes; they are greyed out, never hidden, when they cannot act.
pub fn toolbar(
    ui: &mut egui::Ui,
    view: &View,
    (from, to, whole): (u64, u64, u64),
    live: bool,
) -> Option<Nav> {
    let mut nav = None;
    let len = to - from;
    // Half of the cells drawn (a small disk fills fewer cells than the grid).
    let half = (view.cells.len() / 2).max(1) as i64;
    ui.horizontal(|ui| {
        let mut button = |ui: &mut egui::Ui, on: bool, label: &str, hint: &str, n: Nav| {
            if ui
                .add_enabled(on, egui::Button::new(label))
                .on_hover_text(hint)
                .clicked()
            {
                nav = Some(n);
            }
        };
        // Around the middle cell of the view (a small disk fills fewer cells than the grid).
        let zoom = |factor| Nav::Zoom {
            at: view.cells.len() / 2,
            factor,
        };
        let narrowest = MIN_SECTORS.min(whole);
        button(
            ui,
            len > narrowest,
            "Zoom in",
            "Show the middle half (key +)",
            zoom(2.0),
        );
        button(
            ui,
            len < whole,
            "Zoom out",
            "Show twice as much (key −)",
            zoom(0.5),
        );
        button(
            ui,
            len < whole,
            "Whole disk",
            "Show all of it (key Home)",
            Nav::Whole,
        );
        button(
            ui,
            from > 0,
            "Earlier",
            "Move back by half a view (Page Up)",
            Nav::Pan(-half),
        );
        button(
            ui,
            to < whole,
            "Later",
            "Move on by half a view (Page Down)",
            Nav::Pan(half),
        );
        let per = view.cells.first().map_or(0, |c| c.sectors) * SECTOR;
        let mut text = format!(
            "bytes {}..{} of {} ({} per cell)",
            from * SECTOR,
            to * SECTOR,
            human(view.source.size),
            human(per)
        );
        let s = &view.source;
        if !live && imported(view) {
            text.push_str("; only the blocks imported from an SBXScan list, the rest not scanned");
        } else if live || !s.complete {
            let done = s.scanned_to.saturating_sub(s.scan_from);
            let total = s.scan_end.saturating_sub(s.scan_from);
            text.push_str(&format!(
                "; scanned so far: {} of {}",
                human(done),
                human(total)
            ));
        }
        ui.add(egui::Label::new(text).truncate());
    });
    nav
}

/// Whether `view` draws a source whose blocks were imported from the original SBXScan's
/// database (`seqbox import`): SBX blocks shown, though nothing of it was scanned.
fn imported(view: &View) -> bool {
    let s = &view.source;
    !s.complete
        && s.scanned_to == s.scan_from
        && view.cells.iter().any(|c| {
            c.counts
                .iter()
                .enumerate()
                .any(|(k, &n)| n > 0 && SectorClass::from_code(k as i64).is_sbx())
        })
}

/// The legend of `view`: classes with their totals, then the containers by colour.
pub fn entries(view: &View, palette: Palette, slot: impl Fn(u64) -> Option<usize>) -> Vec<Entry> {
    let mut totals = [0u64; crate::engine::catalog::CLASS_COUNT];
    let mut unscanned = 0;
    for c in &view.cells {
        for (t, n) in totals.iter_mut().zip(c.counts) {
            *t += n;
        }
        if c.shown().is_none() {
            unscanned += c.sectors;
        }
    }
    // The SBX class swatches are drawn in the colour of the first container in view.
    let first = view.cells.iter().find_map(|c| c.uid).and_then(&slot);
    let mut out = Vec::new();
    for c in CLASSES {
        let n = totals[c as usize];
        if n == 0 {
            continue;
        }
        let how = match c {
            SectorClass::SbxMeta => "; drawn with a dot, in its container's colour",
            SectorClass::SbxParity => "; drawn with a stripe, in its container's colour",
            SectorClass::Damaged => "; drawn red with a cross",
            SectorClass::Unreadable => "; drawn purple with a bar",
            SectorClass::FsStructure => "; drawn grey with a dot",
            SectorClass::SbxData | SectorClass::SbxBlock => "; drawn in its container's colour",
            _ => "",
        };
        out.push(Entry {
            line: Line::Classes,
            look: Some(palette.look(Some(c), first)),
            label: format!("{}: {}", class_name(c), human(n * SECTOR)),
            hover: format!("{n} sectors of 512 bytes{how}"),
        });
    }
    if unscanned > 0 {
        let (label, hover) = if imported(view) {
            (
                "not scanned",
                "Only the blocks the original SBXScan's database listed were imported (and \
                 checked); these sectors were never read. Scan the source to read it whole",
            )
        } else {
            (
                "not scanned yet",
                "The scan has not read these sectors yet (an outline only)",
            )
        };
        out.push(Entry {
            line: Line::Classes,
            look: Some(palette.look(None, None)),
            label: format!("{label}: {}", human(unscanned * SECTOR)),
            hover: hover.into(),
        });
    }
    for (uid, name) in view.names.iter().take(LISTED) {
        let s = slot(*uid);
        let shared: Vec<&str> = view
            .names
            .iter()
            .filter(|(u, _)| {
                u != uid
                    && s.is_some()
                    && slot(*u).map(|t| t % CONTAINERS.len()) == s.map(|t| t % CONTAINERS.len())
            })
            .map(|(_, n)| n.as_str())
            .collect();
        let mut hover = format!(
            "UID {uid:012x}: data blocks in this colour, metadata with a dot, parity with a stripe"
        );
        if !shared.is_empty() {
            hover.push_str(&format!("; the same colour as {}", shared.join(", ")));
        }
        out.push(Entry {
            line: Line::Containers,
            look: Some(palette.look(Some(SectorClass::SbxData), s)),
            label: name.clone(),
            hover,
        });
    }
    if view.names.len() > LISTED {
        out.push(Entry {
            line: Line::Containers,
            look: None,
            label: format!("and {} more", view.names.len() - LISTED),
            hover: String::new(),
        });
    }
    if view.names.len() > CONTAINERS.len() {
        out.push(Entry {
            line: Line::Note,
            look: None,
            label: format!(
                "Colours repeat after {} containers: point at a cell to see whose it is, or \
                 choose a container to outline its cells.",
                CONTAINERS.len()
            ),
            hover: String::new(),
        });
    }
    out
}

/// Draw the legend; swatches are cell-sized and painted like cells.
pub fn ui(ui: &mut egui::Ui, entries: &[Entry], cell: egui::Vec2) {
    let size = (cell - egui::vec2(1.0, 1.0)).max(egui::vec2(8.0, 8.0));
    let show = |ui: &mut egui::Ui, e: &Entry| {
        if let Some(look) = e.look {
            let (r, _) = ui.allocate_exact_size(size, egui::Sense::hover());
            let mut mesh = egui::Mesh::default();
            paint(&mut mesh, r, look);
            ui.painter().add(egui::Shape::mesh(mesh));
        }
        let l = ui.label(&e.label);
        if !e.hover.is_empty() {
            l.on_hover_text(&e.hover);
        }
    };
    ui.horizontal_wrapped(|ui| {
        for e in entries.iter().filter(|e| e.line == Line::Classes) {
            show(ui, e);
        }
    });
    if entries.iter().any(|e| e.line == Line::Containers) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Containers:");
            for e in entries.iter().filter(|e| e.line == Line::Containers) {
                show(ui, e);
            }
        });
    }
    for e in entries.iter().filter(|e| e.line == Line::Note) {
        ui.weak(&e.label);
    }
}
