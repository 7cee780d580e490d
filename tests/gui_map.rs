//! The block map people look at (issue 12, item 5): container colours that stay apart for
//! every eye (CIEDE2000, also under simulated deuteranopia and protanopia), legend swatches
//! drawn like the cells, wheel zoom at the pointer, drag to pan, buttons that stay put, the
//! keyboard, and a map that follows a running scan. The app is driven headless with
//! egui_kittest on a real scanned image.

mod gui_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::Scripted;
use seqbox::engine::CancelFlag;
use seqbox::engine::catalog::{SECTOR, SectorClass};
use seqbox::gui::App;
use seqbox::gui::app::Tab;
use seqbox::gui::block_map::BlockMap;
use seqbox::gui::map_legend::Line;
use seqbox::gui::map_view::COLUMNS;
use seqbox::gui::palette::{
    CONTAINERS, DAMAGED, MIN_DELTA_E, MIN_DELTA_E_CVD, MIN_DELTA_E_DAMAGED, Mark, Palette, Vision,
    delta_e,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CVD: [Vision; 2] = [Vision::Deuteranopia, Vision::Protanopia];

/// The colours of everything that is not a container, in both themes.
fn class_colours() -> Vec<(String, egui::Color32)> {
    let mut out = Vec::new();
    for light in [false, true] {
        let p = Palette { light };
        let theme = if light { "light" } else { "dark" };
        out.push((format!("{theme} background"), p.background()));
        for c in [
            SectorClass::Empty,
            SectorClass::Other,
            SectorClass::Unreadable,
        ] {
            out.push((format!("{theme} {c:?}"), p.class(c)));
        }
        // Cells not scanned yet are hollow (an outline, no fill): told by their form.
    }
    out
}

#[test]
fn container_colours_stay_apart_for_every_eye_and_from_every_class() {
    let mut worst = (f64::MAX, f64::MAX);
    for (i, &a) in CONTAINERS.iter().enumerate() {
        for (j, &b) in CONTAINERS.iter().enumerate().skip(i + 1) {
            let n = delta_e(a, b, Vision::Normal);
            assert!(n >= MIN_DELTA_E, "containers {i} and {j}: ΔE00 {n:.1}");
            for v in CVD {
                let d = delta_e(a, b, v);
                assert!(
                    d >= MIN_DELTA_E_CVD,
                    "containers {i} and {j} under {v:?}: ΔE00 {d:.1}"
                );
                worst.1 = worst.1.min(d);
            }
            worst.0 = worst.0.min(n);
        }
        for (name, c) in class_colours() {
            let n = delta_e(a, c, Vision::Normal);
            assert!(n >= MIN_DELTA_E, "container {i} vs {name}: ΔE00 {n:.1}");
            for v in CVD {
                let d = delta_e(a, c, v);
                assert!(
                    d >= MIN_DELTA_E_CVD,
                    "container {i} vs {name} ({v:?}): {d:.1}"
                );
            }
        }
        let red = delta_e(a, DAMAGED, Vision::Normal);
        assert!(
            red >= MIN_DELTA_E_DAMAGED,
            "container {i} vs damaged red: {red:.1}"
        );
        for v in CVD {
            let d = delta_e(a, DAMAGED, v);
            assert!(d >= MIN_DELTA_E_CVD, "container {i} vs red ({v:?}): {d:.1}");
        }
    }
    println!(
        "{} container colours: smallest ΔE00 {:.1} (normal), {:.1} (deuteranopia/protanopia)",
        CONTAINERS.len(),
        worst.0,
        worst.1
    );
}

#[test]
fn empty_and_other_cells_read_on_both_themes() {
    for light in [false, true] {
        let p = Palette { light };
        let empty = p.class(SectorClass::Empty);
        let other = p.class(SectorClass::Other);
        for v in [Vision::Normal, Vision::Deuteranopia, Vision::Protanopia] {
            let bg = delta_e(empty, p.background(), v);
            assert!(bg >= 10.0, "light {light}: empty vs panel {bg:.1}");
            let eo = delta_e(empty, other, v);
            assert!(eo >= 15.0, "light {light}: empty vs other data {eo:.1}");
            let red = delta_e(DAMAGED, other, v);
            assert!(red >= 15.0, "light {light}: damaged vs other data {red:.1}");
        }
        // Marks are drawn in whichever of black and white stands out on the fill.
        for c in CONTAINERS.iter().chain([&empty, &other, &DAMAGED]) {
            let look = p.look(Some(SectorClass::SbxParity), Some(0));
            assert_eq!(look.mark, Mark::Stripe);
            let ink = seqbox::gui::palette::ink_on(*c);
            let opaque = egui::Color32::from_rgb(ink.r(), ink.g(), ink.b());
            assert!(delta_e(*c, opaque, Vision::Normal) >= 30.0, "{c:?}");
        }
    }
}

/// Random bytes that never look like SBX.
fn junk(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn encode(dir: &Path, name: &str, data: &[u8]) -> Vec<u8> {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    let r = seqbox::engine::encode::run(
        &seqbox::engine::encode::EncodeOpts::new(&input),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    std::fs::read(r.output).unwrap()
}

/// A 6 MiB image: three containers (photo.jpg at 1 MiB, notes.txt at 3 MiB with one
/// damaged block, song.wav at 5 MiB) between empty space and other data; scanned.
fn scanned_image(dir: &Path) -> PathBuf {
    let mut image = vec![0u8; 6 << 20];
    image[200_000..700_000].copy_from_slice(&junk(500_000, 3));
    for (i, (name, at)) in [
        ("photo.jpg", 1 << 20),
        ("notes.txt", 3 << 20),
        ("song.wav", 5 << 20),
    ]
    .into_iter()
    .enumerate()
    {
        let c = encode(dir, name, &junk(60_000, 10 + i as u64));
        image[at..at + c.len()].copy_from_slice(&c);
    }
    // A flipped byte in a data block of notes.txt: a damaged block with evidence.
    image[(3 << 20) + 5 * 512 + 100] ^= 0x40;
    let path = dir.join("disk.img");
    std::fs::write(&path, &image).unwrap();
    let catalog = dir.join("disk.sbxscan.sqlite");
    seqbox::engine::scan::run(
        &seqbox::engine::scan::ScanOpts {
            sources: vec![path],
            catalog: catalog.clone(),
            ..Default::default()
        },
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    catalog
}

fn harness_on(catalog: PathBuf, size: egui::Vec2) -> Harness<'static, App> {
    let mut h = Harness::builder()
        // A map reload or an animation may take a few frames to settle.
        .with_max_steps(16)
        .with_size(size)
        .build_eframe(move |cc| {
            let mut app =
                App::with_settings(cc, Box::new(Scripted::default()), Default::default(), None);
            app.open_catalog(&cc.egui_ctx, catalog);
            app
        });
    wait(&mut h);
    h
}

/// Step frames until no job runs, then settle.
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(60));
}

fn map<'a>(h: &'a Harness<'static, App>) -> &'a BlockMap {
    &h.state().scan.map
}

/// The grid position of the first cell holding `name`'s data.
fn cell_of(h: &Harness<'static, App>, name: &str) -> usize {
    let v = map(h).view.as_ref().unwrap();
    let uid = v.names.iter().find(|(_, n)| n == name).unwrap().0;
    v.cells
        .iter()
        .position(|c| c.uid == Some(uid) && c.shown() == Some(SectorClass::SbxData))
        .unwrap_or_else(|| panic!("no data cell of {name}"))
}

fn click_at(h: &mut Harness<'static, App>, p: egui::Pos2) {
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: p,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.step();
    }
    wait(h);
}

/// The middle of grid position `i` on screen.
fn centre(h: &Harness<'static, App>, i: usize) -> egui::Pos2 {
    let g = seqbox::gui::map_view::Grid::new(map(h).rect.unwrap());
    g.cell_rect(i).center()
}

fn uid_of(h: &Harness<'static, App>, name: &str) -> u64 {
    let v = map(h).view.as_ref().unwrap();
    v.names.iter().find(|(_, n)| n == name).unwrap().0
}

#[test]
fn each_container_has_its_own_colour_and_the_legend_draws_cells_as_the_map_does() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness_on(scanned_image(dir.path()), egui::vec2(1280.0, 800.0));
    h.get_by_label("Map of disk.img");
    h.get_by_label("Containers:");
    for name in ["photo.jpg", "notes.txt", "song.wav"] {
        h.get_by_label(name);
    }
    h.get_by_label_contains("damaged SBX block:");
    h.get_by_label_contains("empty:");
    h.get_by_label_contains("other data (normal files):");
    for light in [false, true] {
        let p = Palette { light };
        let m = map(&h);
        let v = m.view.as_ref().unwrap();
        let legend = m.legend(p);
        let fills: Vec<egui::Color32> = legend
            .iter()
            .filter(|e| e.line == Line::Containers)
            .map(|e| e.look.unwrap().fill)
            .collect();
        assert_eq!(fills.len(), 3);
        assert!(fills[0] != fills[1] && fills[1] != fills[2] && fills[0] != fills[2]);
        let mut checked = [0; 3];
        for (i, cell) in v.cells.iter().enumerate() {
            let look = m.cell_look(i, p).unwrap();
            let class = cell.shown().unwrap();
            if class.is_sbx() {
                // The cell's fill is its container's swatch, its mark the class's swatch's.
                let name = v.name_of(cell.uid.unwrap()).unwrap();
                let entry = legend.iter().find(|e| e.label == name).unwrap();
                assert_eq!(look.fill, entry.look.unwrap().fill, "cell {i} of {name}");
                let class_entry = legend
                    .iter()
                    .find(|e| e.label.starts_with(&format!("{}:", class_name(class))))
                    .unwrap();
                assert_eq!(look.mark, class_entry.look.unwrap().mark, "cell {i}");
                if class == SectorClass::SbxData {
                    assert_eq!(Some(look), entry.look, "cell {i}");
                }
                checked[0] += 1;
            } else {
                assert!(
                    legend.iter().any(|e| e.look == Some(look)),
                    "cell {i} ({class:?}) has no swatch drawn like it"
                );
                checked[if class == SectorClass::Damaged { 2 } else { 1 }] += 1;
            }
        }
        assert!(checked.iter().all(|&n| n > 0), "{checked:?}");
    }
}

fn class_name(c: SectorClass) -> &'static str {
    seqbox::gui::block_map::class_name(c)
}

#[test]
fn hover_tells_what_a_cell_holds_and_a_click_chooses_its_container() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_on(scanned_image(dir.path()), egui::vec2(1280.0, 800.0));
    h.get_by_label("Disk map");
    h.get_by_label_contains("Point at a cell");
    let at = cell_of(&h, "notes.txt");
    h.hover_at(centre(&h, at));
    wait(&mut h);
    // One line under the map says it, in plain words.
    h.get_by_label_contains("Cell at bytes");
    h.get_by_label_contains(": SBX data");
    h.get_by_label_contains("— notes.txt");
    let p = centre(&h, at);
    click_at(&mut h, p);
    assert_eq!(h.state().tab, Tab::Recover);
    assert_eq!(map(&h).highlight, Some(uid_of(&h, "notes.txt")));
}

#[test]
fn the_wheel_zooms_at_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_on(scanned_image(dir.path()), egui::vec2(1280.0, 800.0));
    let whole = (6u64 << 20) / SECTOR;
    let at = cell_of(&h, "song.wav");
    let p = centre(&h, at);
    h.hover_at(p);
    h.run();
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Line,
        delta: egui::vec2(0.0, 2.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    });
    wait(&mut h);
    let v = map(&h).view.as_ref().unwrap();
    let len = v.to - v.from;
    // 2 notches: ×2.25, rounded up to whole sectors per cell.
    assert!(len <= whole * 11 / 20 && len > whole * 8 / 20, "got {len}");
    assert!(
        v.from > 0,
        "zoomed around song.wav, not the start: {}",
        v.from
    );
    // The cell under the pointer still holds song.wav.
    let uid = uid_of(&h, "song.wav");
    assert_eq!(
        v.cells[at].uid,
        Some(uid),
        "song.wav stays under the pointer"
    );
    // The page did not scroll meanwhile: the map is where it was.
    assert_eq!(centre(&h, at), p);
}

#[test]
fn dragging_pans_and_the_buttons_stay_put() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_on(scanned_image(dir.path()), egui::vec2(1280.0, 800.0));
    let buttons = ["Zoom in", "Zoom out", "Whole disk", "Earlier", "Later"];
    let rects = |h: &Harness<'static, App>| -> Vec<egui::Rect> {
        buttons.iter().map(|b| h.get_by_label(b).rect()).collect()
    };
    let before = rects(&h);
    h.get_by_label("Zoom in").click();
    wait(&mut h);
    h.get_by_label("Zoom in").click();
    wait(&mut h);
    let (from, per) = {
        let v = map(&h).view.as_ref().unwrap();
        (v.from, v.cells[0].sectors)
    };
    assert!(from > 0);
    // Drag the picture three rows down: three rows earlier come into view.
    let rect = map(&h).rect.unwrap();
    let row = rect.height() / seqbox::gui::map_view::ROWS as f32;
    let a = rect.center();
    let b = a + egui::vec2(0.0, 3.0 * row + row / 2.0);
    h.hover_at(a);
    h.run();
    h.drag_at(a);
    h.run();
    for k in 1..=4 {
        h.hover_at(a + (b - a) * (k as f32 / 4.0));
        h.step();
    }
    h.drop_at(b);
    wait(&mut h);
    let v = map(&h).view.as_ref().unwrap();
    assert_eq!(
        v.from,
        from - 3 * COLUMNS as u64 * per,
        "panned three rows back"
    );
    // The range text beside the buttons changed; the buttons did not move.
    assert_eq!(rects(&h), before);
    h.get_by_label("Whole disk").click();
    wait(&mut h);
    assert_eq!(rects(&h), before);
}

#[test]
fn the_keyboard_reaches_the_map_moves_zooms_and_chooses() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_on(scanned_image(dir.path()), egui::vec2(1280.0, 800.0));
    h.get_by_label("Disk map").focus();
    h.run();
    assert!(h.get_by_label("Disk map").is_focused());
    h.key_press(egui::Key::ArrowRight);
    h.run();
    h.key_press(egui::Key::ArrowRight);
    h.run();
    h.key_press(egui::Key::ArrowDown);
    h.run();
    assert_eq!(map(&h).cursor, COLUMNS + 2);
    assert!(
        h.get_by_label("Disk map").is_focused(),
        "arrows keep the focus"
    );
    let per = map(&h).view.as_ref().unwrap().cells[0].sectors;
    h.get_by_label_contains(&format!(
        "Cell at bytes {}..",
        (COLUMNS as u64 + 2) * per * SECTOR
    ));
    let whole = map(&h).view.as_ref().unwrap().to;
    h.key_press(egui::Key::Plus);
    wait(&mut h);
    let v = map(&h).view.as_ref().unwrap();
    assert_eq!(v.to - v.from, whole / 2, "+ zooms in");
    h.key_press(egui::Key::Home);
    wait(&mut h);
    assert_eq!(
        map(&h).view.as_ref().unwrap().to,
        whole,
        "Home: the whole disk"
    );
    h.state_mut().scan.map.cursor = cell_of(&h, "song.wav");
    h.key_press(egui::Key::Enter);
    wait(&mut h);
    assert_eq!(h.state().tab, Tab::Recover);
    assert_eq!(map(&h).highlight, Some(uid_of(&h, "song.wav")));
}

#[test]
fn the_map_fills_the_width_at_800_by_600_and_in_the_light_theme() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness_on(scanned_image(dir.path()), egui::vec2(800.0, 600.0));
    let r = map(&h).rect.unwrap();
    assert!(r.width() > 700.0, "the map is {} wide in 800", r.width());
    h.get_by_label("Light theme").click();
    h.run();
    h.get_by_label("Dark theme");
    let r2 = map(&h).rect.unwrap();
    assert_eq!(r.width(), r2.width());
    h.get_by_label_contains("empty:");
}

/// While a scan writes the catalogue the map reloads it, keeping the user's zoom.
#[test]
fn reloads_during_a_scan_keep_the_view_and_show_how_far_it_got() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = scanned_image(dir.path());
    let ctx = egui::Context::default();
    let mut m = BlockMap::default();
    let settle = |m: &mut BlockMap| {
        let t = Instant::now();
        while m.busy() {
            assert!(t.elapsed() < Duration::from_secs(30));
            std::thread::sleep(Duration::from_millis(5));
            m.poll(&ctx);
        }
    };
    m.load(&ctx, catalog.clone(), Some((4096, 8192)));
    settle(&mut m);
    let first = m.view.as_ref().unwrap().cells.clone();
    std::thread::sleep(Duration::from_millis(300));
    m.keep_up(&ctx, catalog.clone());
    assert!(m.busy(), "time for a reload");
    settle(&mut m);
    let v = m.view.as_ref().unwrap();
    assert_eq!((v.from, v.to), (4096, 8192), "the zoom is kept");
    assert_eq!(v.cells, first);
    assert!(m.live);
    // Right after a reload it waits before the next one.
    m.keep_up(&ctx, catalog);
    assert!(!m.busy());
}

/// A real scan in the app: while it runs, the map is drawn from what the scan has saved so
/// far (cells past it are "not scanned yet") and catches up with the progress bar.
#[test]
fn during_a_scan_the_map_follows_the_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("big.img");
    // 1 GiB, sparse: read quickly, yet long enough to be seen while it runs. A byte in every
    // MiB makes the scan read each piece (it skips holes without reading them).
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::File::create(&image).unwrap();
        f.set_len(1 << 30).unwrap();
        for k in 0..1024u64 {
            f.write_all_at(&[1], (k << 20) + 4096).unwrap();
        }
    }
    let mut h = Harness::builder()
        // A map reload or an animation may take a few frames to settle.
        .with_max_steps(16)
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(|cc| {
            App::with_settings(cc, Box::new(Scripted::default()), Default::default(), None)
        });
    h.get_by_label("Scan").click();
    h.run();
    h.state_mut().scan.sources = vec![image];
    h.run();
    h.get_by_label("Start scan").click();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut partial = Vec::new();
    h.step();
    while h.state().busy() {
        assert!(Instant::now() < deadline, "the scan did not finish");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
        let (Some(p), Some(v)) = (h.state().scan.progress(), map(&h).view.as_ref()) else {
            continue;
        };
        let saved = v.source.scanned_to;
        if saved < v.source.size && partial.last() != Some(&saved) {
            // Every cell up to what the catalogue says was saved is drawn as scanned (cells
            // past it may already be too: the scan goes on while the map loads).
            let edge = saved / SECTOR;
            for c in v
                .cells
                .iter()
                .filter(|c| c.start_sector + c.sectors <= edge)
            {
                assert!(
                    c.shown().is_some(),
                    "cell at sector {} scanned",
                    c.start_sector
                );
            }
            assert!(p.bytes_done > 0);
            partial.push(saved);
        }
    }
    h.run();
    assert!(!partial.is_empty(), "the map was drawn while the scan ran");
    h.get_by_label("No protected files were found on this disk.");
    let v = map(&h).view.as_ref().unwrap();
    assert_eq!(v.source.scanned_to, 1 << 30);
    assert!(!map(&h).live);
    println!("map reloads seen during the scan, saved bytes: {partial:?}");
}
