//! The Snapshot and Demo tabs (issue 12, items 9 and 10) driven headless by label: an ext4
//! image given on the command line opens in Snapshot with its snapshots; every snapshot is
//! listed and the newest that holds the picked files is used; a deleted file is "deleted
//! since the snapshot"; an incomplete file is saved as `NAME (incomplete).ext`; "Open folder"
//! goes through the dialogs seam; the demo runs in one click, step 4 shows what recovery did,
//! and its folder is reused (or, holding something else, left alone after asking).

mod common;
mod gui_support;

use common::ext4img;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{Scripted, harness};
use seqbox::gui::app::{App, Tab};
use std::time::Duration;

/// Step frames until no job runs, then settle (at most 120 s).
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(120));
}

/// Open the folders of `path` in the tree, leaving its file's line shown.
fn open_folders_of(h: &mut Harness<'static, App>, path: &str) {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for part in &parts[..parts.len() - 1] {
        h.get_by_label_contains(&format!("{part}/ (")).click();
        h.run();
    }
}

fn said_lines(h: &Harness<'static, App>) -> Vec<String> {
    let r = h
        .state()
        .snapshot
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap();
    r.files
        .iter()
        .map(|f| seqbox::engine::words::snapshot_file(f).line)
        .collect()
}

/// Snapshot 1, the file deleted, snapshot 2: both are listed; the deleted file still shows in
/// the tree, marked; picked, it comes back from snapshot 1, said "deleted since the
/// snapshot". After a restart, the image given on the command line brings the list back.
#[test]
fn every_snapshot_is_listed_and_a_deleted_file_comes_from_the_one_that_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ext4img::build(d, ext4img::variant("e4_4k"));
    let img = built.img.clone();
    let victim = String::from_utf8(built.victim.clone()).unwrap();
    let data = built.files[&built.victim].clone();
    let mut script = Scripted::default();
    script.files.push_back(vec![img.clone()]);
    script.folders.push_back(d.join("out"));
    let opened = script.opened.clone();
    let mut h = harness(script);
    h.run();
    h.get_by_label("Snapshot").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    h.get_by_label("Take snapshot").click();
    wait(&mut h);
    ext4img::delete_like_kernel(&img, &built.victim);
    h.get_by_label("Take snapshot").click();
    wait(&mut h);

    h.get_by_label_contains("2 snapshots in this file");
    for id in [1, 2] {
        h.get_by_label_contains(&format!("Snapshot {id} of {} — taken ", img.display()));
    }
    h.get_by_label_contains("The newest snapshot that holds the picked files — now snapshot 2");
    h.get_by_label("0 files picked");
    open_folders_of(&mut h, &victim);
    h.get_by_label_contains("big.bin (240.1 KiB) — deleted since snapshot 1")
        .click();
    h.run();
    h.get_by_label("1 file picked (240.1 KiB)");
    h.get_by_label_contains("— snapshot 1 for the picked files");
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("The one file is safe.");
    let out = d.join("out/test/dir/big.bin");
    let line = format!(
        "{victim} (deleted since the snapshot): safe — verified (identical to the snapshot), saved as {}",
        out.display()
    );
    assert_eq!(said_lines(&h), vec![line.clone()]);
    h.get_by_label(&line);
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert_eq!(
        h.state()
            .snapshot
            .report
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
            .snapshot_id,
        1
    );
    h.get_by_label("Open folder").click();
    h.run();
    assert_eq!(*opened.lock().unwrap(), vec![d.join("out")]);

    // Choosing snapshot 2 by hand: it no longer holds the file, and says so; the automatic
    // choice still names snapshot 1.
    h.get_by_label_contains("Snapshot 2 of").click();
    h.run();
    assert_eq!(h.state().snapshot.chosen, Some(2));
    h.get_by_label("Snapshot 2 does not hold 1 of the picked files (deleted before it was taken, or made after).");
    h.get_by_label_contains("— snapshot 1 for the picked files");

    // A restart: the image given on the command line opens in Snapshot, list and all.
    drop(h);
    let mut h = harness(Scripted::default());
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut().open_paths(&ctx, vec![img.clone()]);
    wait(&mut h);
    assert_eq!(h.state().tab, Tab::Snapshot);
    assert_eq!(h.state().snapshot.image.as_deref(), Some(img.as_path()));
    h.get_by_label_contains("2 snapshots in this file");
    h.get_by_label_contains("Snapshot 1 of");
    h.get_by_label_contains("Snapshot 2 of");
}

/// An ext4 file system inside an MBR partition is recognised too; a file that is not a disk
/// image still goes to Encode.
#[test]
fn an_ext4_image_on_the_command_line_opens_in_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ext4img::build(d, ext4img::variant("e4_4k"));
    let fs = std::fs::read(&built.img).unwrap();
    // One MBR partition of type 0x83 at sector 2048 holding the file system.
    let mut disk = vec![0u8; 2048 * 512];
    let e = &mut disk[446..462];
    e[4] = 0x83;
    e[8..12].copy_from_slice(&2048u32.to_le_bytes());
    e[12..16].copy_from_slice(&((fs.len() / 512) as u32).to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk.extend_from_slice(&fs);
    let whole = d.join("whole-disk.raw");
    std::fs::write(&whole, &disk).unwrap();
    std::fs::write(d.join("notes.raw"), vec![7u8; 8192]).unwrap();
    for (p, tab) in [
        (built.img.clone(), Tab::Snapshot),
        (whole.clone(), Tab::Snapshot),
        (d.join("notes.raw"), Tab::Encode),
    ] {
        let mut h = harness(Scripted::default());
        h.run();
        let ctx = h.ctx.clone();
        h.state_mut().open_paths(&ctx, vec![p.clone()]);
        wait(&mut h);
        assert_eq!(h.state().tab, tab, "{}", p.display());
        if tab == Tab::Snapshot {
            h.get_by_label(&format!("Disk image: {}", p.display()));
            // No snapshot beside it yet: nothing loaded, no error.
            assert!(h.state().snapshot.loaded.is_none());
            assert!(h.state().snapshot.load_error.is_none());
        }
    }
}

/// A file whose second block was overwritten after the snapshot is saved as
/// `big (incomplete).bin`, and its line names the missing bytes and that file.
#[test]
fn an_incomplete_file_is_saved_under_a_name_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ext4img::build(d, ext4img::variant("e4_4k"));
    let img = built.img.clone();
    let victim = String::from_utf8(built.victim.clone()).unwrap();
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
    let db = seqbox::engine::ext4::Snapshots::open(&h.state().snapshot.snapshot_path().unwrap())
        .unwrap();
    let entry = db.files(1, &built.victim).unwrap().remove(0);
    let ext = db.extents(1, entry.ino).unwrap();
    let block1 = ext
        .iter()
        .find(|e| e.logical <= 1 && 1 < e.logical + e.length)
        .map(|e| e.physical + 1 - e.logical)
        .unwrap();
    ext4img::delete_like_kernel(&img, &built.victim);
    ext4img::scribble(&img, block1 * 4096, &[0xA5; 4096]);
    open_folders_of(&mut h, &victim);
    h.get_by_label_contains("big.bin (240.1 KiB)").click();
    h.run();
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    h.get_by_label("0 of 1 files safe; 1 incomplete.");
    let out = d.join("out/test/dir/big (incomplete).bin");
    assert_eq!(
        said_lines(&h),
        vec![format!(
            "{victim} (deleted since the snapshot): incomplete — 4.0 KiB missing (bytes 4096–8191); \
             the rest is intact, saved with the gaps zero-filled as {}",
            out.display()
        )]
    );
    let mut want = built.files[&built.victim].clone();
    want[4096..8192].fill(0);
    assert!(std::fs::read(&out).unwrap() == want, "the rest is intact");
    assert!(!d.join("out/test/dir/big.bin").exists());
}

fn demo_report(h: &Harness<'static, App>) -> seqbox::engine::demo::DemoReport {
    h.state()
        .demo
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .clone()
}

/// One click with the defaults; step 4 is what recovery did (pieces found, verdicts), no
/// map; a second run reuses the folder; a folder holding something else is left alone and
/// the demo runs beside it when asked.
#[test]
fn the_demo_runs_in_one_click_shows_what_recovery_did_and_reuses_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(Scripted::default());
    h.run();
    h.get_by_label("Try the demo").click();
    h.run();
    // The default folder lies in the temporary folder; point it at ours for the test.
    h.state_mut().demo.parent = Some(dir.path().to_path_buf());
    h.get_by_label("Run the demo").click();
    wait(&mut h);
    let report = demo_report(&h);
    let folder = dir.path().join("seqbox-demo");
    assert_eq!(report.out_dir, folder);
    assert_eq!(h.state().demo.stage, 3, "step 4 first");
    assert!(h.state().demo.map.catalog.is_none(), "no map on step 4");
    h.get_by_label("Its SBX copy, found on the scrambled disk");
    for f in &report.files {
        assert!(f.sbx_pieces_found > 1, "{}: scrambled into pieces", f.name);
        h.get_by_label(&format!(
            "{} blocks in {} pieces",
            f.sbx_blocks_found, f.sbx_pieces_found
        ));
        h.get_by_label(&format!("safe — verified, saved as {}", f.name));
    }
    h.get_by_label_contains("SBX recovery reads every block's own label");
    h.get_by_label_contains("Carving is what most undelete tools do");
    h.get_by_label_contains("A hash is a fingerprint");
    // Steps 1–3 are the disk maps.
    h.get_by_label("3. Sectors scrambled").click();
    wait(&mut h);
    assert_eq!(
        h.state().demo.map.catalog.as_ref(),
        Some(&report.stages[2].catalog)
    );

    // Again: the same folder, emptied and filled anew.
    h.get_by_label("Run the demo").click();
    wait(&mut h);
    assert_eq!(demo_report(&h).out_dir, folder);
    let siblings = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(siblings, 1, "one demo folder");

    // Something of the person's in it: left alone, and asked about.
    std::fs::write(folder.join("my notes.txt"), b"mine").unwrap();
    h.get_by_label("Run the demo").click();
    wait(&mut h);
    h.get_by_label_contains("holds files the demo did not make (my notes.txt)");
    assert_eq!(std::fs::read(folder.join("my notes.txt")).unwrap(), b"mine");
    assert!(folder.join("3-scrambled.img").exists(), "nothing removed");
    h.get_by_label("Run in a new folder").click();
    wait(&mut h);
    assert_eq!(demo_report(&h).out_dir, dir.path().join("seqbox-demo (2)"));
}
