//! The app driven headless with egui_kittest: tabs and buttons clicked by their labels, real
//! jobs on real files, assertions on what is shown and on what was written.

mod common;
mod gui_support;

use common::ext4img;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{Scripted, harness};
use seqbox::gui::app::{App, Tab};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Step frames until no job runs, then settle (at most 60 s).
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(60));
}

/// Scan tab → "Disk image file…" (the script's next pick) → "Start scan", until it is done.
fn scan_in_app(h: &mut Harness<'static, App>) {
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    // The file is checked (exists, readable, size) on a worker before it is added.
    wait(h);
    h.get_by_label("Start scan").click();
    wait(h);
}

fn encode_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    let r = seqbox::engine::encode::run(
        &seqbox::engine::encode::EncodeOpts::new(&input),
        &seqbox::engine::CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    r.output
}

#[test]
fn encode_a_file_then_decode_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ext4img::payload(50_000, 1);
    std::fs::write(d.join("photo.jpg"), &data).unwrap();
    std::fs::create_dir(d.join("back")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("photo.jpg")]);
    script.files.push_back(vec![d.join("photo.jpg.sbx")]);
    script.folders.push_back(d.join("back"));
    let mut h = harness(script);
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add files…").click();
    // The dialog answers on a worker, and the files are looked at on another.
    wait(&mut h);
    h.get_by_label_contains("photo.jpg");
    h.get_by_label("Standard — survives fragmentation").click();
    h.run();
    h.get_by_label_contains("but no damaged sector");
    h.get_by_label("Strong — also survives damaged sectors")
        .click();
    h.run();
    h.get_by_label_contains("Survives up to 2 bursts");
    h.get_by_label("Encode files").click();
    wait(&mut h);
    h.get_by_label_contains("checked");
    assert!(
        d.join("photo.jpg.sbx").is_file(),
        "the container is beside the file"
    );

    h.get_by_label("Decode").click();
    h.run();
    assert_eq!(h.state().tab, Tab::Decode);
    h.get_by_label("Open containers…").click();
    wait(&mut h);
    h.get_by_label_contains("photo.jpg — 48.8 KiB");
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label_contains("photo.jpg.sbx: safe — verified, saved as");
    assert_eq!(std::fs::read(d.join("back/photo.jpg")).unwrap(), data);

    h.get_by_label("Check only").click();
    wait(&mut h);
    h.get_by_label_contains(
        "photo.jpg.sbx: safe — verified — every block and the stored hash check out",
    );
}

/// Check only and Decode never disagree: a container whose damage the parity covers is
/// "damaged but all data safe (repairable)", never shown as data loss, and Decode restores it
/// bit-exact (issue 11, defect 5).
#[test]
fn check_and_decode_agree_on_a_damaged_but_repairable_container() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ext4img::payload(40_000, 5);
    let sbx = encode_file(d, "song.wav", &data);
    let mut c = std::fs::read(&sbx).unwrap();
    c[3 * 512 + 100] ^= 0x08;
    std::fs::write(&sbx, &c).unwrap();
    std::fs::remove_file(d.join("song.wav")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![sbx.clone()]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Decode").click();
    h.run();
    h.get_by_label("Open containers…").click();
    wait(&mut h);
    h.get_by_label("Check only").click();
    wait(&mut h);
    h.get_by_label_contains(
        "song.wav.sbx: damaged but all data safe (repairable) — 1 block damaged or missing",
    );
    assert_eq!(
        h.state().decode.results[0].said.verdict,
        seqbox::engine::words::Verdict::DamagedRepairable
    );
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label_contains(
        "song.wav.sbx: safe after repair (Reed–Solomon rebuilt 1 block set(s)), saved as",
    );
    assert_eq!(std::fs::read(d.join("song.wav")).unwrap(), data);
}

/// A container stored with a password does not stop the others (issue 11, defect 4): it is
/// shown as needing its password, a password field appears, and with the password it comes
/// back too.
#[test]
fn a_container_that_needs_its_password_is_named_and_comes_back_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seqbox");
    let mut img = ext4img::payload(3000, 8);
    img.extend(std::fs::read(vectors.join("r100k.v1.pw-chbs.sbx")).unwrap());
    img.extend(ext4img::payload(2000, 9));
    let plain = ext4img::payload(20_000, 10);
    let sbx = encode_file(d, "letter.txt", &plain);
    img.extend(std::fs::read(&sbx).unwrap());
    std::fs::write(d.join("disk.img"), &img).unwrap();
    let cat = d.join("disk.sqlite");
    seqbox::engine::scan::run(
        &seqbox::engine::scan::ScanOpts {
            sources: vec![d.join("disk.img")],
            catalog: cat.clone(),
            password: Some("correct-horse-battery-staple".into()),
            ..Default::default()
        },
        &seqbox::engine::CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![cat]);
    script.folders.push_back(d.join("out"));
    script.folders.push_back(d.join("out2"));
    let mut h = harness(script);
    h.run();
    h.get_by_label("Recover").click();
    h.run();
    h.get_by_label("Open catalogue…").click();
    wait(&mut h);
    h.get_by_label("Select all").click();
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label("1 of 2 files safe; 1 needs its password.");
    h.get_by_label_contains("r100k.bin: needs its password");
    assert_eq!(std::fs::read(d.join("out/letter.txt")).unwrap(), plain);

    h.get_by_label("Password of the containers stored with one:")
        .click();
    h.run();
    h.get_by_label("Password of the containers stored with one:")
        .type_text("correct-horse-battery-staple");
    h.run();
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label("All 2 files safe.");
    assert_eq!(
        std::fs::read(d.join("out2/r100k.bin")).unwrap(),
        std::fs::read(vectors.join("r100k.bin")).unwrap()
    );
}

#[test]
fn scan_a_scrambled_image_and_recover_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = ext4img::payload(30_000, 2);
    let b = ext4img::payload(12_345, 3);
    let ca = std::fs::read(encode_file(d, "a.txt", &a)).unwrap();
    let cb = std::fs::read(encode_file(d, "b.doc", &b)).unwrap();
    // Interleave the two containers' blocks with junk, in reverse order.
    let mut image = ext4img::payload(700, 4);
    let blocks: Vec<&[u8]> = ca.chunks(512).chain(cb.chunks(512)).collect();
    for (i, blk) in blocks.iter().rev().enumerate() {
        image.extend_from_slice(blk);
        image.extend_from_slice(&ext4img::payload(i % 3 * 100, i as u64));
    }
    std::fs::write(d.join("disk.img"), &image).unwrap();
    std::fs::create_dir(d.join("rescued")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("disk.img")]);
    script.folders.push_back(d.join("rescued"));
    let mut h = harness(script);
    h.run();

    scan_in_app(&mut h);
    h.get_by_label_contains("Catalogue: ");
    assert!(
        d.join("disk.img.sbxscan.sqlite").is_file(),
        "catalogue beside the image"
    );
    h.get_by_label_contains("Scan finished: 2 protected files found");
    // The block map of the image, with its legend.
    h.get_by_label_contains("Map of");
    h.get_by_label_contains("SBX data:");
    h.get_by_label_contains("SBX metadata:");
    h.get_by_label_contains("other data (normal files):");
    h.get_by_label_contains("bytes 0..");
    h.get_by_label("Zoom in").click();
    wait(&mut h);
    assert!(
        h.query_by_label_contains("bytes 0..").is_none(),
        "zoomed into the middle"
    );
    let from = |h: &Harness<'static, App>| h.state().scan.map.view.as_ref().unwrap().from;
    let before = from(&h);
    h.get_by_label("Later").click();
    wait(&mut h);
    assert!(from(&h) > before, "panned forward");
    h.get_by_label("Earlier").click();
    wait(&mut h);
    assert_eq!(from(&h), before, "and back");
    h.get_by_label("Whole disk").click();
    wait(&mut h);
    h.get_by_label_contains("bytes 0..");

    h.get_by_label("Recover").click();
    wait(&mut h);
    h.get_by_label("a.txt");
    h.get_by_label("b.doc");
    assert_eq!(h.state().recover.rows.len(), 2);
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label_contains("All 2 files safe.");
    assert_eq!(std::fs::read(d.join("rescued/a.txt")).unwrap(), a);
    assert_eq!(std::fs::read(d.join("rescued/b.doc")).unwrap(), b);

    // Sorting by name puts a.txt first, then (clicked again) last.
    let first_name = |h: &Harness<'static, App>| {
        let r = &h.state().recover;
        r.rows[r.order()[0]].file_name.clone().unwrap()
    };
    h.get_by_label("Name").click();
    h.run();
    assert_eq!(first_name(&h), "a.txt");
    h.get_by_label("Name ^").click();
    h.run();
    h.get_by_label("Name v");
    assert_eq!(first_name(&h), "b.doc");
    // "Map" on a row outlines that container on the disk map.
    h.get_all_by_label("Map")
        .next()
        .expect("a Map button per row")
        .click();
    h.run();
    assert_eq!(h.state().tab, Tab::Scan);
    assert!(h.state().scan.map.highlight.is_some());
}

#[test]
fn settings_follow_the_user_and_are_saved_when_they_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let saved = seqbox::gui::settings::Settings {
        light_theme: true,
        encode_out_dir: Some(dir.path().join("boxes")),
        protection: "standard".into(),
        ..Default::default()
    };
    let f = file.clone();
    let mut h = Harness::builder()
        // A map reload or an animation may take a few frames to settle.
        .with_max_steps(16)
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(move |cc| {
            App::with_settings(cc, Box::new(Scripted::default()), saved, Some(f))
        });
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label_contains("boxes");
    assert_eq!(
        h.state().encode.protection,
        seqbox::gui::encode_tab::Protection::Standard
    );
    h.get_by_label("Dark theme").click();
    h.run();
    assert!(!h.state().light);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !file.exists() {
        assert!(Instant::now() < deadline, "settings were not written");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    let back = seqbox::gui::settings::Settings::load(&file);
    assert!(!back.light_theme);
    assert_eq!(back.encode_out_dir, Some(dir.path().join("boxes")));
}

#[test]
fn encode_reports_each_file_on_its_own_and_errors_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("keep.txt"), ext4img::payload(9_000, 5)).unwrap();
    std::fs::write(d.join("gone.bin"), ext4img::payload(100, 6)).unwrap();
    std::fs::write(d.join("taken.txt"), ext4img::payload(100, 7)).unwrap();
    std::fs::write(d.join("taken.txt.sbx"), b"someone else's file").unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![
        d.join("keep.txt"),
        d.join("gone.bin"),
        d.join("taken.txt"),
    ]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add files…").click();
    // The dialog answers on a worker, and the files are looked at on another.
    wait(&mut h);
    // The file vanishes between being added and being encoded.
    std::fs::remove_file(d.join("gone.bin")).unwrap();
    h.get_by_label("Encode files").click();
    wait(&mut h);

    let results = &h.state().encode.results;
    assert_eq!(results.len(), 3, "one result per file");
    assert!(results[0].outcome.is_ok());
    h.get_by_label_contains("Protected as");
    h.get_by_label("“gone.bin” could not be found.");
    h.get_by_label(
        "“taken.txt.sbx” is already there, so it was left untouched; choose another folder.",
    );
    assert_eq!(
        std::fs::read(d.join("taken.txt.sbx")).unwrap(),
        b"someone else's file",
        "an existing file is never replaced"
    );
    // The exact words are one click away.
    let details = h.get_all_by_label("Details").count();
    assert_eq!(details, 2, "a Details expander under each failure");
    h.get_all_by_label("Details").next().unwrap().click();
    h.run();
    h.get_by_label_contains(&format!("cannot read {}", d.join("gone.bin").display()));
}

#[test]
fn a_paused_scan_resumes_and_a_previous_scan_can_be_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ext4img::payload(20_000, 8);
    let container = std::fs::read(encode_file(d, "late.txt", &data)).unwrap();
    // A large, sparse image with the container at its very end: long enough to pause.
    let image = d.join("big.img");
    let size: u64 = 3 << 30;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&image).unwrap();
        f.seek(SeekFrom::Start(size - container.len() as u64))
            .unwrap();
        f.write_all(&container).unwrap();
        // A byte in every MiB: the scan skips holes without reading them, and this one must
        // be read piece by piece to last long enough to pause.
        use std::os::unix::fs::FileExt;
        for k in 0..(size >> 20) - 1 {
            f.write_all_at(&[1], (k << 20) + 4096).unwrap();
        }
    }
    let catalog = d.join("big.img.sbxscan.sqlite");
    let mut script = Scripted::default();
    script.files.push_back(vec![image.clone()]);
    script.files.push_back(vec![catalog.clone()]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    // The file is checked (exists, readable, size) on a worker before it is added.
    wait(&mut h);
    h.get_by_label("Start scan").click();
    // Pause once a few commits (every 16 MiB) are in the catalogue.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h
        .state()
        .scan
        .progress()
        .is_none_or(|p| p.bytes_done < 64 << 20)
    {
        assert!(Instant::now() < deadline, "the scan did not start");
        std::thread::sleep(Duration::from_millis(5));
        h.step();
    }
    h.get_by_label("Pause").click();
    wait(&mut h);
    h.get_by_label_contains("Scan paused after");
    let paused_at = h.state().scan.paused.expect("paused").0;
    assert!(paused_at < size, "paused before the end");
    h.get_by_label("Resume scan").click();
    wait(&mut h);
    h.get_by_label_contains("Scan finished: 1 protected file found");
    h.get_by_label_contains("(resumed)");

    // Later, in a new window: open the catalogue without scanning again.
    let mut script = Scripted::default();
    script.files.push_back(vec![catalog.clone()]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Open a previous scan…").click();
    wait(&mut h);
    h.get_by_label_contains("Map of");
    h.get_by_label_contains("SBX data:");
    h.get_by_label("Recover").click();
    wait(&mut h);
    h.get_by_label("late.txt");
}

#[test]
fn an_incomplete_file_is_explained_and_saved_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = ext4img::payload(10 * 496, 9);
    let input = d.join("notes.txt");
    std::fs::write(&input, &data).unwrap();
    let opts = seqbox::engine::encode::EncodeOpts {
        version: seqbox::format::Version::V1,
        ..seqbox::engine::encode::EncodeOpts::new(&input)
    };
    let c =
        seqbox::engine::encode::run(&opts, &seqbox::engine::CancelFlag::new(), &|_| {}).unwrap();
    let mut container = std::fs::read(c.output).unwrap();
    // Data block 3 (bytes 992..1488 of the file) is lost.
    container[3 * 512..4 * 512].fill(0);
    std::fs::write(d.join("disk.img"), &container).unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("disk.img")]);
    script.folders.push_back(d.join("out"));
    let mut h = harness(script);
    h.run();
    scan_in_app(&mut h);
    h.get_by_label("Recover").click();
    wait(&mut h);
    h.get_by_label_contains("Choose an output folder first");
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label_contains(
        "notes.txt: incomplete — 496 bytes missing (bytes 992–1487); not saved",
    );
    assert!(!d.join("out/notes.txt").exists());

    h.get_by_label("Also save incomplete files (missing parts filled with zeros)")
        .click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label_contains(
        "notes.txt: incomplete — 496 bytes missing (bytes 992–1487); saved with the missing parts filled with zeros",
    );
    // Saved under a name nobody takes for the whole file (issue 12, item 4).
    h.get_by_label_contains("as ");
    assert!(!d.join("out/notes.txt").exists());
    let back = std::fs::read(d.join("out/notes (incomplete).txt")).unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back[992..1488].iter().all(|&b| b == 0));
    assert_eq!(back[..992], data[..992]);
    assert_eq!(back[1488..], data[1488..]);
}

#[test]
fn files_given_on_the_command_line_open_where_they_belong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sbx = encode_file(d, "letter.txt", &ext4img::payload(3000, 10));
    std::fs::write(d.join("plain.doc"), b"words").unwrap();
    let mut h = harness(Scripted::default());
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut()
        .open_paths(&ctx, vec![d.join("plain.doc"), sbx.clone()]);
    wait(&mut h);
    assert_eq!(h.state().tab, Tab::Decode, "a container opens in Decode");
    assert_eq!(h.state().decode.containers, vec![sbx]);
    h.get_by_label_contains("letter.txt — 2.9 KiB");
    assert_eq!(h.state().encode.files, vec![d.join("plain.doc")]);
}

/// What the desktop's MIME type recognises by content, the app does too: a container
/// double-clicked after losing its `.sbx` name opens in Decode, not as a file to protect.
#[test]
fn a_container_without_its_extension_opens_in_decode() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sbx = encode_file(d, "letter.txt", &ext4img::payload(3000, 10));
    let bare = d.join("letter-backup");
    std::fs::rename(&sbx, &bare).unwrap();
    // Starts with "SBx" but no version we know: an ordinary file.
    std::fs::write(d.join("notes"), b"SBx\x07 is not a version; just words").unwrap();
    let mut h = harness(Scripted::default());
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut()
        .open_paths(&ctx, vec![bare.clone(), d.join("notes")]);
    wait(&mut h);
    assert_eq!(h.state().tab, Tab::Decode);
    assert_eq!(h.state().decode.containers, vec![bare]);
    assert_eq!(h.state().encode.files, vec![d.join("notes")]);
    h.get_by_label_contains("letter.txt — 2.9 KiB");
}

/// The Snapshot tab, the map over an ext4 image, and the demo tab; the same on NTFS.
mod app {
    mod ntfs;
    mod snapshot_and_demo;
}

#[test]
fn the_map_draws_any_of_the_scanned_sources() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca = std::fs::read(encode_file(d, "first.txt", &ext4img::payload(5_000, 11))).unwrap();
    let cb = std::fs::read(encode_file(d, "second.txt", &ext4img::payload(7_000, 12))).unwrap();
    std::fs::write(
        d.join("one.img"),
        [ext4img::payload(3_000, 13), ca].concat(),
    )
    .unwrap();
    std::fs::write(
        d.join("two.img"),
        [cb, ext4img::payload(9_000, 14)].concat(),
    )
    .unwrap();
    let mut script = Scripted::default();
    script
        .files
        .push_back(vec![d.join("one.img"), d.join("two.img")]);
    let mut h = harness(script);
    h.run();
    scan_in_app(&mut h);
    h.get_by_label_contains("Scan finished: 2 protected files found");
    h.get_by_label("Map of one.img");
    h.get_by_label("Source:").click();
    h.run();
    h.get_by_label("two.img").click();
    wait(&mut h);
    h.get_by_label("Map of two.img");
    let v = h.state().scan.map.view.as_ref().unwrap();
    assert_eq!(v.source.path, d.join("two.img"));
    let size = std::fs::metadata(d.join("two.img")).unwrap().len();
    assert_eq!(
        (v.from, v.to),
        (0, size.div_ceil(512)),
        "the whole of two.img"
    );
}

#[test]
fn without_file_dialogs_the_apps_own_chooser_picks_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let typed = dir.path().join("rescued");
    std::fs::create_dir(&typed).unwrap();
    let mut h = harness(Scripted {
        broken: true,
        ..Default::default()
    });
    h.run();
    assert!(
        h.query_by_label_contains("No file dialog could be opened")
            .is_none()
    );
    h.get_by_label("Recover").click();
    h.run();
    h.get_by_label("Choose output folder…").click();
    wait(&mut h);
    h.get_by_label("Folder:").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Folder:").type_text(typed.to_str().unwrap());
    h.run();
    h.get_by_label("Go").click();
    wait(&mut h);
    h.get_by_label("Choose this folder").click();
    wait(&mut h);
    assert_eq!(h.state().recover.out_dir.as_ref(), Some(&typed));
    h.get_by_label_contains(&format!("Output folder: {}", typed.display()));
}

/// A file dropped on the window, as the windowing integration hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("the app only needs the path".into())
    }
}

#[test]
fn dropped_files_go_to_the_tab_they_were_dropped_on() {
    let mut h = harness(Scripted::default());
    h.run();
    let drop = |h: &mut Harness<'static, App>, p: &str| {
        h.input_mut()
            .dropped_files
            .push(std::sync::Arc::new(Dropped(PathBuf::from(p))));
        h.run();
    };
    h.get_by_label("Snapshot").click();
    h.run();
    drop(&mut h, "/images/sdb1");
    assert_eq!(h.state().tab, Tab::Snapshot);
    assert_eq!(
        h.state().snapshot.image,
        Some(PathBuf::from("/images/sdb1"))
    );
    h.get_by_label("Scan").click();
    h.run();
    drop(&mut h, "/images/disk.img");
    assert_eq!(
        h.state().scan.sources,
        vec![PathBuf::from("/images/disk.img")]
    );
    h.get_by_label("Recover").click();
    h.run();
    drop(&mut h, "/home/me/photo.jpg");
    assert_eq!(
        h.state().tab,
        Tab::Encode,
        "anything else is a file to protect"
    );
    assert_eq!(
        h.state().encode.files,
        vec![PathBuf::from("/home/me/photo.jpg")]
    );
}
