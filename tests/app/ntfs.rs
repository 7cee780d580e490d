//! The Snapshot tab and the block map on an NTFS volume (built with ntfs-3g), driven headless:
//! a six-fragment photo snapshotted, its MFT record marked free, recovered safe; then partly
//! overwritten, recovered with the missing bytes named; and the map naming it on hover.

use crate::common::ext4img::payload;
use crate::common::ntfsimg::{self, CLUSTER, PHOTO};
use crate::{Scripted, harness, scan_in_app, wait};
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

#[test]
fn a_deleted_ntfs_photo_comes_back_from_a_snapshot_with_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ntfsimg::build(d);
    let img = built.img.clone();
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
    wait(&mut h);
    h.get_by_label("Take snapshot").click();
    wait(&mut h);
    h.get_by_label_contains(&format!("Snapshot 1 of {}", img.display()));

    ntfsimg::delete(&img, PHOTO);
    h.get_by_label_contains("photo.jpg (").click();
    h.run();
    assert!(h.state().snapshot.picked.contains(PHOTO.as_bytes()));
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("The one file is safe.");
    let report = h.state().snapshot.report.clone().unwrap().unwrap();
    let out = report.files[0].out_path.clone().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), built.files[PHOTO]);

    // Another file overwrites the photo's cluster 8 (the second of its third fragment).
    let (vcn, lcn, _) = built.plan[2];
    let at = (lcn as u64 + 8 - vcn) * CLUSTER;
    ntfsimg::scribble(&img, at, &payload(CLUSTER as usize, 3));
    h.state_mut().snapshot.out_dir = Some(d.join("out2"));
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("0 of 1 files safe; 1 incomplete.");
    h.get_by_label_contains(
        ": incomplete — 4.0 KiB missing (bytes 32768–36863); the rest is intact",
    );
}

#[test]
fn the_map_of_an_ntfs_image_names_the_fragment_under_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let built = ntfsimg::build(dir.path());
    let mut script = Scripted::default();
    script.files.push_back(vec![built.img.clone()]);
    let mut h = harness(script);
    h.run();
    scan_in_app(&mut h);
    // The cell in the middle of the photo's third fragment.
    let (_, lcn, len) = built.plan[2];
    let (start, bytes) = (lcn as u64 * CLUSTER, len * CLUSTER);
    let (rect, view_from, view_to, cells) = {
        let m = &h.state().scan.map;
        let v = m.view.as_ref().unwrap();
        (m.rect.unwrap(), v.from, v.to, v.cells.len())
    };
    let mid_sector = (start + bytes / 2) / 512;
    let per_cell = (view_to - view_from).div_ceil(cells as u64);
    let i = ((mid_sector - view_from) / per_cell) as usize;
    let (cols, rows) = (128.0, cells as f32 / 128.0);
    let pos = egui::pos2(
        rect.min.x + ((i % 128) as f32 + 0.5) * rect.width() / cols,
        rect.min.y + ((i / 128) as f32 + 0.5) * rect.height() / rows,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        h.hover_at(pos);
        h.step();
        if h.query_by_label_contains(&format!("file {PHOTO}"))
            .is_some()
        {
            break;
        }
        assert!(Instant::now() < deadline, "no file named on hover");
        std::thread::sleep(Duration::from_millis(20));
    }
}
