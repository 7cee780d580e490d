//! The block map's geometry and navigation: where each cell sits in the widget, which cell
//! is under a point, what range of sectors a zoom or a pan asks for, the mesh of all cells,
//! and the mouse and keyboard input turned into one `Nav`.
//!
//! Arithmetic and drawing only: never touches the catalogue, never starts a job.

use super::palette::{Look, Palette, frame, paint};

/// Cells across one row of the map (the layout is aggregated into `COLUMNS × ROWS` cells on
/// the worker; the widget stretches them to its width).
pub const COLUMNS: usize = 128;
pub const ROWS: usize = 24;
pub const CELLS: usize = COLUMNS * ROWS;

/// Zoom factor of one wheel notch and of one + or − key press.
const WHEEL_STEP: f64 = 1.5;
const KEY_STEP: f64 = 2.0;
/// The narrowest view, in sectors: zoomed in that far, a cell is one sector.
pub const MIN_SECTORS: u64 = 16;

/// Where the cells are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub rect: egui::Rect,
    pub cell: egui::Vec2,
}

impl Grid {
    /// A grid as wide as `width`, cells as tall as wide (within 8–16 points).
    pub fn size_for(width: f32) -> egui::Vec2 {
        let w = (width / COLUMNS as f32).max(2.0);
        egui::vec2(w * COLUMNS as f32, w.clamp(8.0, 16.0) * ROWS as f32)
    }

    pub fn new(rect: egui::Rect) -> Grid {
        Grid {
            rect,
            cell: egui::vec2(rect.width() / COLUMNS as f32, rect.height() / ROWS as f32),
        }
    }

    /// The area of cell `i` (a one-point gap to its right and below keeps cells apart).
    pub fn cell_rect(&self, i: usize) -> egui::Rect {
        let (col, row) = ((i % COLUMNS) as f32, (i / COLUMNS) as f32);
        let min = self.rect.min + egui::vec2(col * self.cell.x, row * self.cell.y);
        egui::Rect::from_min_size(min, self.cell - egui::vec2(1.0, 1.0))
    }

    /// The cell position under `p`, if `p` is on the grid.
    pub fn index_at(&self, p: egui::Pos2) -> Option<usize> {
        if !self.rect.contains(p) {
            return None;
        }
        let col = (((p.x - self.rect.min.x) / self.cell.x) as usize).min(COLUMNS - 1);
        let row = (((p.y - self.rect.min.y) / self.cell.y) as usize).min(ROWS - 1);
        Some(row * COLUMNS + col)
    }
}

/// What the user asked of the map this frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nav {
    /// Zoom by `factor` (> 1: in) keeping the sector at cell position `at` where it is.
    Zoom {
        at: usize,
        factor: f64,
    },
    /// Move the view by this many cells (negative: towards the start of the disk).
    Pan(i64),
    Whole,
    /// The container of the cell at this position was chosen (click or Enter).
    Select(usize),
}

/// Sectors per cell for a view of `len` sectors (as `layout::cells` aggregates them).
pub fn per_cell(len: u64) -> u64 {
    len.max(1).div_ceil(CELLS as u64).max(1)
}

/// The range after zooming `from..to` of a `whole`-sector source by `factor` around cell
/// position `at`: that cell's sector stays at (about) the same position. At most the whole
/// source; at least `MIN_SECTORS` (a cell per sector).
pub fn zoom(from: u64, to: u64, whole: u64, at: usize, factor: f64) -> (u64, u64) {
    let whole = whole.max(1);
    let len = to.saturating_sub(from).max(1);
    let at = at.min(CELLS - 1) as u64;
    let per = per_cell(len);
    let pivot = (from + at * per + per / 2).min(whole - 1);
    let new_len = ((len as f64 / factor).round() as u64)
        .max(MIN_SECTORS.min(whole))
        .min(whole);
    // A whole number of sectors per cell for every cell: the grid is filled to its end.
    let new_per = per_cell(new_len);
    let new_len = if new_per > 1 {
        (new_per * CELLS as u64).min(whole)
    } else {
        new_len
    };
    let before = if new_per == 1 && new_len < CELLS as u64 {
        // A cell per sector already: the pivot keeps its place as a share of the view.
        new_len * at.min(len) / len
    } else {
        at * new_per + new_per / 2
    };
    let start = pivot.saturating_sub(before).min(whole - new_len);
    (start, start + new_len)
}

/// The range after moving `from..to` by `cells` cells, kept inside the source.
pub fn pan(from: u64, to: u64, whole: u64, cells: i64) -> (u64, u64) {
    let len = to.saturating_sub(from);
    let step = per_cell(len) as i64 * cells;
    let max_from = whole.saturating_sub(len) as i64;
    let start = (from as i64 + step).clamp(0, max_from.max(0)) as u64;
    (start, start + len)
}

/// All cells as one mesh. `look(i)` says how cell `i` of the loaded view is drawn; `shift`
/// moves the loaded cells by whole cells (a pan whose new layout is still loading);
/// `outline(i)` marks the chosen container's cells.
pub fn mesh(
    grid: &Grid,
    n: usize,
    shift: i64,
    look: impl Fn(usize) -> Look,
    outline: impl Fn(usize) -> bool,
    palette: Palette,
) -> egui::Mesh {
    let mut mesh = egui::Mesh::default();
    for i in 0..n {
        let at = i as i64 + shift;
        if !(0..CELLS as i64).contains(&at) {
            continue;
        }
        let r = grid.cell_rect(at as usize);
        paint(&mut mesh, r, look(i));
        if outline(i) {
            frame(&mut mesh, r.expand(0.5), 1.5, palette.outline());
        }
    }
    mesh
}

/// Wheel, drag and keys over the map `response` this frame. `cursor` is the keyboard
/// cursor (a cell position), moved by the arrow keys; at an edge the view pans instead.
/// `drag` keeps the part of a drag smaller than a cell between frames.
pub fn input(
    ui: &egui::Ui,
    response: &egui::Response,
    grid: &Grid,
    n: usize,
    cursor: &mut usize,
    drag: &mut egui::Vec2,
) -> Option<Nav> {
    let mut nav = None;
    let hovered = response.hover_pos().and_then(|p| grid.index_at(p));
    if let Some(at) = hovered {
        // The wheel zooms at the pointer; the page around does not scroll meanwhile.
        let notches: f32 = ui.input(|i| {
            i.events
                .iter()
                .map(|e| match e {
                    egui::Event::MouseWheel { unit, delta, .. } => match unit {
                        egui::MouseWheelUnit::Point => delta.y / 50.0,
                        egui::MouseWheelUnit::Line => delta.y,
                        egui::MouseWheelUnit::Page => delta.y * 10.0,
                    },
                    _ => 0.0,
                })
                .sum()
        });
        ui.ctx()
            .input_mut(|i| i.smooth_scroll_delta = egui::Vec2::ZERO);
        if notches != 0.0 {
            nav = Some(Nav::Zoom {
                at,
                factor: WHEEL_STEP.powf(notches as f64),
            });
        }
    }
    if response.dragged() {
        // Dragging moves the picture with the pointer: down by a row shows the row before.
        *drag += response.drag_delta();
        let cols = (drag.x / grid.cell.x).trunc();
        let rows = (drag.y / grid.cell.y).trunc();
        if cols != 0.0 || rows != 0.0 {
            *drag -= egui::vec2(cols * grid.cell.x, rows * grid.cell.y);
            nav = Some(Nav::Pan(-(rows as i64 * COLUMNS as i64 + cols as i64)));
        }
    } else {
        *drag = egui::Vec2::ZERO;
    }
    if response.clicked()
        && let Some(at) = hovered
    {
        *cursor = at;
        nav = Some(Nav::Select(at));
    }
    if response.has_focus() {
        ui.memory_mut(|m| {
            m.set_focus_lock_filter(
                response.id,
                egui::EventFilter {
                    horizontal_arrows: true,
                    vertical_arrows: true,
                    ..Default::default()
                },
            )
        });
        nav = keys(ui, n, cursor, hovered).or(nav);
    }
    nav
}

/// The keyboard: arrows move the cursor (and pan at the edges), + and − zoom at the
/// cursor, Page Up / Page Down pan by half a view, Home shows the whole disk, Enter chooses
/// the container under the pointer or the cursor.
fn keys(ui: &egui::Ui, n: usize, cursor: &mut usize, hovered: Option<usize>) -> Option<Nav> {
    use egui::Key;
    let pressed = |k: Key| ui.input(|i| i.key_pressed(k));
    let n = n.max(1);
    *cursor = (*cursor).min(n - 1);
    let step = [
        (Key::ArrowLeft, -1),
        (Key::ArrowRight, 1),
        (Key::ArrowUp, -(COLUMNS as i64)),
        (Key::ArrowDown, COLUMNS as i64),
    ]
    .into_iter()
    .filter(|(k, _)| pressed(*k))
    .map(|(_, s)| s)
    .sum::<i64>();
    if step != 0 {
        let to = *cursor as i64 + step;
        if to < 0 || to >= n as i64 {
            // Off the edge: the view moves instead, by a row.
            return Some(Nav::Pan(if to < 0 {
                -(COLUMNS as i64)
            } else {
                COLUMNS as i64
            }));
        }
        *cursor = to as usize;
    }
    let at = hovered.unwrap_or(*cursor);
    if pressed(Key::Plus) || pressed(Key::Equals) {
        return Some(Nav::Zoom {
            at,
            factor: KEY_STEP,
        });
    }
    if pressed(Key::Minus) {
        return Some(Nav::Zoom {
            at,
            factor: 1.0 / KEY_STEP,
        });
    }
    let half = (n / 2).max(1) as i64;
    if pressed(Key::PageUp) {
        return Some(Nav::Pan(-half));
    }
    if pressed(Key::PageDown) {
        return Some(Nav::Pan(half));
    }
    if pressed(Key::Home) {
        return Some(Nav::Whole);
    }
    if pressed(Key::Enter) {
        return Some(Nav::Select(at));
    }
    None
}

/// The offset (in cells) at which the loaded view `from..to` is drawn inside the wanted view
/// `want`, when both have the same cell size: a pan shows at once, before its layout loads.
pub fn shift(from: u64, to: u64, want: (u64, u64)) -> i64 {
    let per = per_cell(to - from);
    if per_cell(want.1 - want.0) != per || from.abs_diff(want.0) % per != 0 {
        return 0;
    }
    (from as i64 - want.0 as i64) / per as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_sector_under_the_pointer() {
        let whole = 1 << 30;
        let at = CELLS / 4 + 7;
        let (a, b) = zoom(0, whole, whole, at, 2.0);
        assert_eq!(b - a, per_cell(whole / 2) * CELLS as u64, "a whole grid");
        assert!((b - a).abs_diff(whole / 2) < CELLS as u64);
        // The sector under the pointer is still in the cell under the pointer.
        let pivot = at as u64 * per_cell(whole) + per_cell(whole) / 2;
        let cell = (a + at as u64 * per_cell(b - a))..(a + (at as u64 + 1) * per_cell(b - a));
        assert!(cell.contains(&pivot), "{pivot} not in {cell:?}");
        // Never past the ends, never below a sector per cell, never more than the disk.
        assert_eq!(zoom(0, 100, 100, 0, 1e9), (0, MIN_SECTORS));
        // A small disk (a cell per sector): zooming at its middle shows its middle.
        assert_eq!(zoom(0, 100, 100, 50, 2.0), (25, 75));
        let (a, b) = zoom(0, whole, whole, CELLS - 1, 1e12);
        assert_eq!(b - a, MIN_SECTORS);
        assert!(b <= whole);
        assert_eq!(zoom(10, 20_000, whole, 5, 1e-9), (0, whole));
    }

    #[test]
    fn pan_moves_by_whole_cells_inside_the_disk() {
        let whole = 100 * CELLS as u64;
        let (a, b) = pan(0, 10 * CELLS as u64, whole, 3);
        assert_eq!((a, b), (30, 30 + 10 * CELLS as u64));
        assert_eq!(pan(a, b, whole, -1000), (0, 10 * CELLS as u64));
        assert_eq!(pan(0, 10 * CELLS as u64, whole, i64::MAX / 64).1, whole);
    }

    #[test]
    fn grid_hit_testing_is_the_inverse_of_cell_rects() {
        let g = Grid::new(egui::Rect::from_min_size(
            egui::pos2(10.0, 20.0),
            Grid::size_for(1024.0),
        ));
        for i in [0, 1, COLUMNS - 1, COLUMNS, CELLS - 1] {
            assert_eq!(g.index_at(g.cell_rect(i).center()), Some(i));
        }
        assert_eq!(g.index_at(egui::pos2(0.0, 0.0)), None);
    }
}
