//! The Snapshot tab, the block map over an ext4 or FAT image, and the demo tab, driven
//! headless.

use crate::common::ext4img;
use crate::{Scripted, harness, scan_in_app, wait};
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

#[test]
fn a_deleted_file_comes_back_from_a_snapshot_with_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ext4img::build(d, ext4img::variant("e4_4k"));
    let img = built.img.clone();
    let victim = built.victim.clone();
    let data = built.files[&victim].clone();
    let leaf = victim.rsplit(|&b| b == b'/').next().unwrap().to_vec();
    let leaf = String::from_utf8(leaf).unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::create_dir(d.join("out2")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![img.clone()]);
    script.folders.push_back(d.join("out"));
    let mut h = harness(script);
    h.run();
    h.get_by_label("Snapshot").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    // The image is checked (exists, readable, size) on a worker before it is taken.
    wait(&mut h);
    h.get_by_label("Take snapshot").click();
    wait(&mut h);
    h.get_by_label_contains("taken:");
    h.get_by_label_contains(&format!("Snapshot 1 of {}", img.display()));

    // Later the file is deleted the way the kernel does it.
    ext4img::delete_like_kernel(&img, &victim);

    // Pick it in the tree: open its folders, tick the file.
    let mut path = String::new();
    for part in String::from_utf8(victim.clone())
        .unwrap()
        .split('/')
        .filter(|p| !p.is_empty())
    {
        path.push('/');
        path.push_str(part);
        if path.as_bytes() == victim.as_slice() {
            break;
        }
        h.get_by_label_contains(&format!("{part}/ (")).click();
        h.run();
    }
    h.get_by_label_contains(&format!("{leaf} (")).click();
    h.run();
    assert!(h.state().snapshot.picked.contains(&victim));
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("The one file is safe.");
    h.get_by_label_contains("safe — verified (identical to the snapshot), saved as");
    let out = h
        .state()
        .snapshot
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .files[0]
        .out_path
        .clone()
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), data);

    // Then another file overwrites its second block: the verdict names the bytes.
    let db = seqbox::engine::ext4::Snapshots::open(&h.state().snapshot.snapshot_path().unwrap())
        .unwrap();
    let entry = db.files(1, &victim).unwrap().remove(0);
    let ext = db.extents(1, entry.ino).unwrap();
    let bs = 4096;
    let block1 = ext
        .iter()
        .find(|e| e.logical <= 1 && 1 < e.logical + e.length)
        .map(|e| e.physical + 1 - e.logical)
        .unwrap();
    ext4img::scribble(&img, block1 * bs, &vec![0xA5; bs as usize]);
    h.state_mut().snapshot.out_dir = Some(d.join("out2"));
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("0 of 1 files safe; 1 incomplete.");
    h.get_by_label_contains(": incomplete — 4.0 KiB missing (bytes 4096–8191); the rest is intact");
}

#[test]
fn the_map_of_an_ext4_image_names_the_file_under_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let built = ext4img::build(dir.path(), ext4img::variant("e4_4k"));
    let owners =
        seqbox::engine::ext4::owners::live_owner_runs(&built.img, &Default::default()).unwrap();
    let run = owners
        .iter()
        .filter(|r| r.path == built.victim)
        .max_by_key(|r| r.byte_len)
        .unwrap()
        .clone();
    let mut script = Scripted::default();
    script.files.push_back(vec![built.img.clone()]);
    let mut h = harness(script);
    h.run();
    scan_in_app(&mut h);
    // The cell in the middle of the victim's longest run.
    let (rect, view_from, view_to, cells) = {
        let m = &h.state().scan.map;
        let v = m.view.as_ref().unwrap();
        (m.rect.unwrap(), v.from, v.to, v.cells.len())
    };
    let mid_sector = (run.byte_start + run.byte_len / 2) / 512;
    let per_cell = (view_to - view_from).div_ceil(cells as u64);
    let i = ((mid_sector - view_from) / per_cell) as usize;
    let (cols, rows) = (128.0, cells as f32 / 128.0);
    let pos = egui::pos2(
        rect.min.x + ((i % 128) as f32 + 0.5) * rect.width() / cols,
        rect.min.y + ((i / 128) as f32 + 0.5) * rect.height() / rows,
    );
    let path = String::from_utf8(built.victim.clone()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.hover_at(pos);
        h.step();
        if h.query_by_label_contains(&format!("file {path}")).is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no file named on hover");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Hover `sector` of the scanned source until a label containing `want` shows.
fn hover_until(h: &mut egui_kittest::Harness<'static, seqbox::gui::App>, sector: u64, want: &str) {
    let (rect, view_from, view_to, cells) = {
        let m = &h.state().scan.map;
        let v = m.view.as_ref().unwrap();
        (m.rect.unwrap(), v.from, v.to, v.cells.len())
    };
    let per_cell = (view_to - view_from).div_ceil(cells as u64);
    let i = ((sector - view_from) / per_cell) as usize;
    let (cols, rows) = (128.0, cells as f32 / 128.0);
    let pos = egui::pos2(
        rect.min.x + ((i % 128) as f32 + 0.5) * rect.width() / cols,
        rect.min.y + ((i / 128) as f32 + 0.5) * rect.height() / rows,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.hover_at(pos);
        h.step();
        if h.query_by_label_contains(want).is_some() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no '{want}' on hover at sector {sector}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A FAT floppy (mtools): the map names the file under the pointer, and the boot sector and
/// FATs are file-system structures in the map and its legend.
#[test]
fn the_map_of_a_fat_image_names_files_and_structures() {
    use crate::common::fatimg;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("floppy.img");
    fatimg::mkfs(&img, 12, 1, 1440);
    fatimg::put(
        &img,
        "/Holiday photo.jpg",
        &crate::common::noise(200_000, 3),
    );
    let first = fatimg::clusters(&img, "/Holiday photo.jpg")[0].0;
    let mut script = Scripted::default();
    script.files.push_back(vec![img.clone()]);
    let mut h = harness(script);
    h.run();
    scan_in_app(&mut h);
    h.get_by_label_contains("file-system structures: ");
    // The middle of the photo (data starts at sector 33, cluster 2), then the first FAT.
    hover_until(&mut h, 33 + first - 2 + 200, "file /Holiday photo.jpg");
    hover_until(&mut h, 5, "file-system structure: FAT copy 1");
}

#[test]
fn the_demo_runs_from_the_app_and_shows_each_stage_and_both_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = Scripted::default();
    script.folders.push_back(dir.path().to_path_buf());
    let mut h = harness(script);
    h.run();
    h.get_by_label("Try the demo").click();
    h.run();
    // The folder is an option (the defaults run in one click).
    h.get_by_label("Options").click();
    h.run();
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Run the demo").click();
    wait(&mut h);
    let report = h
        .state()
        .demo
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .clone();
    assert!(
        report.out_dir.starts_with(dir.path()),
        "in the chosen folder"
    );
    let n = report.files.len();
    let carved = report.files.iter().filter(|f| f.carved_identical).count();
    assert!(carved < n, "carving loses fragmented files");
    h.get_by_label_contains(&format!(
        "Carving got {carved} of {n} files back intact; SBX recovery got {n} of {n} back"
    ));
    // The SBX column in the verdict words of the CLI.
    assert_eq!(h.get_all_by_label("safe — verified").count(), n);
    assert!(
        h.query_all_by_label_contains("garbage after the first")
            .count()
            >= 1
    );
    // What recovery did first (step 4, no map), then each stage's map on a click.
    h.get_by_label_contains("SBX recovery reads every block's own label");
    for (i, stage) in ["1. Before", "2. File system wiped", "3. Sectors scrambled"]
        .iter()
        .enumerate()
    {
        h.get_by_label(stage).click();
        wait(&mut h);
        assert_eq!(h.state().demo.stage, i);
        let shown = h.state().demo.map.catalog.clone().unwrap();
        assert_eq!(shown, report.stages[i].catalog);
        h.get_by_label_contains("Map of");
        h.get_by_label_contains("SBX data:");
    }
    h.get_by_label("4. Recovered").click();
    wait(&mut h);
    assert_eq!(h.state().demo.stage, 3);
    assert!(h.query_by_label_contains("SBX data:").is_none(), "no map");
    for f in &report.files {
        let back = std::fs::read(f.recovered_path.as_ref().unwrap()).unwrap();
        assert_eq!(back, std::fs::read(&f.original_path).unwrap(), "{}", f.name);
    }
}
