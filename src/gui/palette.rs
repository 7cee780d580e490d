//! The block map's colours: one colour per container from a fixed palette whose colours are
//! all far apart (CIEDE2000, also under simulated deuteranopia and protanopia) and far from
//! the class colours (empty, other data, damaged, unreadable) of the dark and the light
//! theme; plus the marks that tell metadata, parity, damage and unreadable sectors apart
//! without relying on colour. The legend and the map draw cells with the same `Look`.
//!
//! Pure colour maths and meshes: never reads files, never keeps state.

use crate::engine::catalog::SectorClass;
use egui::Color32;

/// Container colours, most distinct first (a greedy max–min order, so the first few are the
/// farthest apart). Chosen by a search over sRGB for the largest smallest distance, with
/// lightness 40–88 (L*) and some chroma so none reads as grey on either theme.
pub const CONTAINERS: [Color32; 12] = [
    Color32::from_rgb(0x7C, 0x93, 0xFF), // periwinkle
    Color32::from_rgb(0xE9, 0xCD, 0x47), // yellow
    Color32::from_rgb(0x0C, 0x8B, 0x5D), // green
    Color32::from_rgb(0x48, 0xE5, 0xF3), // cyan
    Color32::from_rgb(0x5B, 0x30, 0xFF), // violet
    Color32::from_rgb(0x83, 0x4E, 0x6A), // plum
    Color32::from_rgb(0x01, 0x87, 0x98), // teal
    Color32::from_rgb(0x82, 0xBD, 0x9C), // sage
    Color32::from_rgb(0xCB, 0x99, 0xBB), // mauve
    Color32::from_rgb(0xD2, 0xDF, 0xA7), // khaki
    Color32::from_rgb(0xD0, 0xA5, 0x6B), // tan
    Color32::from_rgb(0xD9, 0x5C, 0xBA), // orchid
];

/// Smallest CIEDE2000 distance between two container colours (normal vision).
pub const MIN_DELTA_E: f64 = 15.0;
/// Smallest CIEDE2000 distance between two container colours as a deuteranope or a
/// protanope sees them (Machado et al. 2009, severity 1): dichromats see a narrower gamut.
pub const MIN_DELTA_E_CVD: f64 = 10.0;
/// Smallest distance between a container colour and the damaged red (normal vision; under
/// simulation `MIN_DELTA_E_CVD` and the cross mark tell them apart).
pub const MIN_DELTA_E_DAMAGED: f64 = 25.0;

/// The colour of damaged SBX blocks (both themes).
pub const DAMAGED: Color32 = Color32::from_rgb(220, 30, 30);
/// The colour of unreadable sectors (both themes).
pub const UNREADABLE: Color32 = Color32::from_rgb(150, 40, 160);

/// What is drawn over a cell's fill so that a class is told without its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    None,
    /// SBX metadata: a dot in the middle.
    Dot,
    /// SBX parity: a stripe from the lower left to the upper right.
    Stripe,
    /// A damaged SBX block: a cross.
    Cross,
    /// An unreadable sector: a bar across.
    Bar,
    /// Not scanned yet: no fill, an outline only.
    Outline,
}

/// How one cell (or legend swatch) is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Look {
    pub fill: Color32,
    pub mark: Mark,
    /// The colour of the mark (black or white, whichever stands out on the fill).
    pub ink: Color32,
}

/// The colours of one theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Palette {
    pub light: bool,
}

impl Palette {
    pub fn of(ui: &egui::Ui) -> Palette {
        Palette {
            light: !ui.visuals().dark_mode,
        }
    }

    /// The panel behind the map.
    pub fn background(self) -> Color32 {
        if self.light {
            Color32::from_gray(248)
        } else {
            Color32::from_gray(27)
        }
    }

    /// The colour of a class that has no container colour.
    pub fn class(self, class: SectorClass) -> Color32 {
        match (class, self.light) {
            (SectorClass::Empty, false) => Color32::from_gray(60),
            // Darker than the panel by enough that empty cells still read as cells.
            (SectorClass::Empty, true) => Color32::from_gray(200),
            (SectorClass::Other, false) => Color32::from_gray(125),
            (SectorClass::Other, true) => Color32::from_gray(140),
            // Told from other data by its dot, not by a colour of its own.
            (SectorClass::FsStructure, false) => Color32::from_gray(125),
            (SectorClass::FsStructure, true) => Color32::from_gray(140),
            (SectorClass::Damaged, _) => DAMAGED,
            (SectorClass::Unreadable, _) => UNREADABLE,
            // SBX without a known container: the first container colour.
            _ => CONTAINERS[0],
        }
    }

    /// The outline of cells not scanned yet.
    pub fn not_scanned(self) -> Color32 {
        if self.light {
            Color32::from_gray(150)
        } else {
            Color32::from_gray(95)
        }
    }

    /// The outline of the chosen container's cells and of the cell under the pointer.
    pub fn outline(self) -> Color32 {
        if self.light {
            Color32::BLACK
        } else {
            Color32::WHITE
        }
    }

    /// How a cell of `class` is drawn; SBX classes take the colour of container `slot`
    /// (its place in the map's container order; colours repeat after `CONTAINERS.len()`).
    /// `None`: nothing known there yet (not scanned).
    pub fn look(self, class: Option<SectorClass>, slot: Option<usize>) -> Look {
        let Some(class) = class else {
            return Look {
                fill: Color32::TRANSPARENT,
                mark: Mark::Outline,
                ink: self.not_scanned(),
            };
        };
        let fill = match (class.is_sbx(), slot) {
            (true, Some(s)) => CONTAINERS[s % CONTAINERS.len()],
            _ => self.class(class),
        };
        let mark = match class {
            SectorClass::SbxMeta => Mark::Dot,
            SectorClass::SbxParity => Mark::Stripe,
            SectorClass::Damaged => Mark::Cross,
            SectorClass::Unreadable => Mark::Bar,
            SectorClass::FsStructure => Mark::Dot,
            _ => Mark::None,
        };
        Look {
            fill,
            mark,
            ink: ink_on(fill),
        }
    }
}

/// Black or white, whichever contrasts more with `fill` (WCAG contrast ratios are equal at
/// a relative luminance of 0.179).
pub fn ink_on(fill: Color32) -> Color32 {
    if relative_luminance(fill) > 0.179 {
        Color32::from_black_alpha(200)
    } else {
        Color32::from_white_alpha(220)
    }
}

/// Add a cell drawn as `look` in `r` to `mesh` (triangles only: thousands of cells cost one
/// shape, not thousands).
pub fn paint(mesh: &mut egui::Mesh, r: egui::Rect, look: Look) {
    if look.mark != Mark::Outline {
        mesh.add_colored_rect(r, look.fill);
    }
    let s = r.width().min(r.height());
    let t = (s * 0.18).clamp(1.0, 2.5);
    let c = r.center();
    match look.mark {
        Mark::None => {}
        Mark::Dot => {
            let d = (s * 0.4).max(2.0);
            mesh.add_colored_rect(egui::Rect::from_center_size(c, egui::vec2(d, d)), look.ink);
        }
        Mark::Stripe => line(mesh, r.left_bottom(), r.right_top(), t, look.ink),
        Mark::Cross => {
            let m = r.shrink(s * 0.15);
            line(mesh, m.left_top(), m.right_bottom(), t, look.ink);
            line(mesh, m.left_bottom(), m.right_top(), t, look.ink);
        }
        Mark::Bar => {
            let bar = egui::Rect::from_center_size(c, egui::vec2(r.width() * 0.7, t));
            mesh.add_colored_rect(bar, look.ink);
        }
        Mark::Outline => frame(mesh, r, 1.0, look.ink),
    }
}

/// A frame of width `t` inside `r`.
pub fn frame(mesh: &mut egui::Mesh, r: egui::Rect, t: f32, colour: Color32) {
    let (a, b) = (r.min, r.max);
    for side in [
        egui::Rect::from_min_max(a, egui::pos2(b.x, a.y + t)),
        egui::Rect::from_min_max(egui::pos2(a.x, b.y - t), b),
        egui::Rect::from_min_max(a, egui::pos2(a.x + t, b.y)),
        egui::Rect::from_min_max(egui::pos2(b.x - t, a.y), b),
    ] {
        mesh.add_colored_rect(side, colour);
    }
}

/// A straight line of width `t` from `a` to `b`, as two triangles.
fn line(mesh: &mut egui::Mesh, a: egui::Pos2, b: egui::Pos2, t: f32, colour: Color32) {
    let n = (b - a).normalized().rot90() * (t / 2.0);
    let i = mesh.vertices.len() as u32;
    for p in [a + n, a - n, b - n, b + n] {
        mesh.colored_vertex(p, colour);
    }
    mesh.add_triangle(i, i + 1, i + 2);
    mesh.add_triangle(i, i + 2, i + 3);
}

fn linear(c: u8) -> f64 {
    let c = c as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn relative_luminance(c: Color32) -> f64 {
    0.2126 * linear(c.r()) + 0.7152 * linear(c.g()) + 0.0722 * linear(c.b())
}

/// How a colour is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vision {
    Normal,
    Deuteranopia,
    Protanopia,
}

/// CIELAB (D65) of an sRGB colour as a person with `vision` sees it: dichromacy simulated
/// with the severity-1 matrices of Machado, Oliveira and Fernandes (2009) on linear RGB.
pub fn lab(c: Color32, vision: Vision) -> [f64; 3] {
    let rgb = [linear(c.r()), linear(c.g()), linear(c.b())];
    let m = match vision {
        Vision::Normal => [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        Vision::Deuteranopia => [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ],
        Vision::Protanopia => [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ],
    };
    let [r, g, b] =
        m.map(|row| (row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2]).clamp(0.0, 1.0));
    let x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    let y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    let z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The CIEDE2000 colour difference of two CIELAB colours (Sharma, Wu, Dalal 2005).
pub fn ciede2000(p: [f64; 3], q: [f64; 3]) -> f64 {
    let [l1, a1, b1] = p;
    let [l2, a2, b2] = q;
    let c_bar = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
    let c7 = c_bar.powi(7);
    let g = 0.5 * (1.0 - (c7 / (c7 + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |b: f64, a: f64| b.atan2(a).to_degrees().rem_euclid(360.0);
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let mut dh = 0.0;
    if c1p * c2p != 0.0 {
        dh = h2p - h1p;
        if dh > 180.0 {
            dh -= 360.0;
        } else if dh < -180.0 {
            dh += 360.0;
        }
    }
    let d_hp = 2.0 * (c1p * c2p).sqrt() * (dh / 2.0).to_radians().sin();
    let l_bar = (l1 + l2) / 2.0;
    let cp_bar = (c1p + c2p) / 2.0;
    let h_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let cos = |d: f64| d.to_radians().cos();
    let t =
        1.0 - 0.17 * cos(h_bar - 30.0) + 0.24 * cos(2.0 * h_bar) + 0.32 * cos(3.0 * h_bar + 6.0)
            - 0.20 * cos(4.0 * h_bar - 63.0);
    let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
    let cp7 = cp_bar.powi(7);
    let rc = 2.0 * (cp7 / (cp7 + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cp_bar;
    let sh = 1.0 + 0.015 * cp_bar * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    let (x, y, z) = (dl / sl, dc / sc, d_hp / sh);
    (x * x + y * y + z * z + rt * y * z).sqrt()
}

/// The CIEDE2000 distance between two sRGB colours as seen with `vision`.
pub fn delta_e(a: Color32, b: Color32, vision: Vision) -> f64 {
    ciede2000(lab(a, vision), lab(b, vision))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs from Sharma, Wu and Dalal's CIEDE2000 test data, with their published ΔE00.
    #[test]
    fn ciede2000_matches_the_published_test_data() {
        let cases = [
            ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
            ([50.0, -1.3802, -84.2814], [50.0, 0.0, -82.7485], 1.0000),
            ([50.0, 2.5, 0.0], [50.0, 0.0, -2.5], 4.3065),
            (
                [60.2574, -34.0099, 36.2677],
                [60.4626, -34.1751, 39.4387],
                1.2644,
            ),
            (
                [22.7233, 20.0904, -46.6940],
                [23.0331, 14.9730, -42.5619],
                2.0373,
            ),
            (
                [90.8027, -2.0831, 1.4410],
                [91.1528, -1.6435, 0.0447],
                1.4441,
            ),
            (
                [2.0776, 0.0795, -1.1350],
                [0.9033, -0.0636, -0.5514],
                0.9082,
            ),
        ];
        for (p, q, want) in cases {
            let got = ciede2000(p, q);
            assert!((got - want).abs() < 1e-4, "{p:?} {q:?}: {got} != {want}");
        }
    }

    #[test]
    fn white_is_white_and_marks_stand_out() {
        let l = lab(Color32::WHITE, Vision::Normal);
        assert!((l[0] - 100.0).abs() < 0.01 && l[1].abs() < 0.01 && l[2].abs() < 0.01);
        assert_eq!(ink_on(Color32::WHITE), Color32::from_black_alpha(200));
        assert_eq!(ink_on(DAMAGED), Color32::from_white_alpha(220));
    }
}
