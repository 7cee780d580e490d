//! The start page's four journeys, each walked end to end by a new user's clicks (by label,
//! headless with egui_kittest) on real files: the guide must lead to the right tab at each
//! step, and what comes out must be the files' exact bytes (issue 12, item 1).

mod common;
mod gui_support;

use common::ext4img;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::Scripted;
use seqbox::gui::app::{App, Tab};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn harness(script: Scripted) -> Harness<'static, App> {
    gui_support::harness_sized(script, 1280.0, 800.0)
}

/// Step frames until no job runs, then settle (at most 120 s).
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(120));
}

/// The guide shows this step, and the app is on its tab.
fn at_step(h: &Harness<'static, App>, text: &str, tab: Tab) {
    h.get_by_label_contains(text);
    assert_eq!(h.state().tab, tab, "the guide leads to the tab of '{text}'");
}

fn start(script: Scripted, journey: &str) -> Harness<'static, App> {
    let mut h = harness(script);
    h.run();
    assert_eq!(h.state().tab, Tab::Start, "the start page comes first");
    h.get_by_label("What would you like to do?");
    h.get_by_label(journey).click();
    h.run();
    h
}

fn encode(input: &Path) -> PathBuf {
    seqbox::engine::encode::run(
        &seqbox::engine::encode::EncodeOpts::new(input),
        &seqbox::engine::CancelFlag::new(),
        &|_| {},
    )
    .unwrap()
    .output
}

#[test]
fn protect_files_journey() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photo = ext4img::payload(70_000, 21);
    std::fs::write(d.join("holiday.jpg"), &photo).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("holiday.jpg")]);
    let mut h = start(script, "Protect files");
    at_step(
        &h,
        "Step 1 of 3: Choose the files or folders to protect",
        Tab::Encode,
    );
    h.get_by_label("Add files…").click();
    // The dialog answers on a worker, and the files are looked at on another.
    wait(&mut h);
    at_step(&h, "Step 2 of 3: Choose the protection", Tab::Encode);
    h.get_by_label("Encode files").click();
    wait(&mut h);
    at_step(&h, "Step 3 of 3: Done", Tab::Encode);

    // The protected copy decodes to the photo's exact bytes.
    let sbx = d.join("holiday.jpg.sbx");
    std::fs::create_dir(d.join("back")).unwrap();
    let r = seqbox::engine::decode::run(
        &seqbox::engine::decode::DecodeOpts {
            output: seqbox::engine::encode::Target::Folder(d.join("back")),
            ..seqbox::engine::decode::DecodeOpts::new(&sbx)
        },
        &seqbox::engine::CancelFlag::new(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(std::fs::read(r.output.unwrap()).unwrap(), photo);

    h.get_by_label("Close guide").click();
    h.run();
    assert_eq!(h.state().tab, Tab::Start);
    assert!(h.state().journey.is_none());
}

#[test]
fn get_files_back_journey() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Two protected photos on a disk whose file table is gone: only their blocks remain,
    // between other data.
    let a = ext4img::payload(30_000, 31);
    let b = ext4img::payload(45_000, 32);
    std::fs::write(d.join("a.jpg"), &a).unwrap();
    std::fs::write(d.join("b.jpg"), &b).unwrap();
    let ca = std::fs::read(encode(&d.join("a.jpg"))).unwrap();
    let cb = std::fs::read(encode(&d.join("b.jpg"))).unwrap();
    let img = [
        ext4img::payload(5_000, 33),
        cb,
        ext4img::payload(20_480, 34),
        ca,
        vec![0; 8192],
    ]
    .concat();
    std::fs::write(d.join("disk.img"), img).unwrap();
    std::fs::create_dir(d.join("rescued")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("disk.img")]);
    script.folders.push_back(d.join("rescued"));

    let mut h = start(script, "Get files back from a damaged or wiped disk");
    at_step(&h, "Step 1 of 4: Choose the disk or disk image", Tab::Scan);
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    at_step(&h, "Step 2 of 4: Press \"Start scan\"", Tab::Scan);
    h.get_by_label("Start scan").click();
    wait(&mut h);
    at_step(&h, "Step 3 of 4: Tick the files to get back", Tab::Recover);
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    at_step(&h, "Step 4 of 4: Done", Tab::Recover);
    h.get_by_label("All 2 files safe.");
    // The Status column now says how each came back.
    assert_eq!(h.get_all_by_label("safe — verified").count(), 2);
    assert_eq!(std::fs::read(d.join("rescued/a.jpg")).unwrap(), a);
    assert_eq!(std::fs::read(d.join("rescued/b.jpg")).unwrap(), b);
}

#[test]
fn recover_deleted_files_from_a_snapshot_journey() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ext4img::build(d, ext4img::variant("e4_4k"));
    let img = built.img.clone();
    let victim = built.victim.clone();
    let data = built.files[&victim].clone();
    let leaf = String::from_utf8(victim.rsplit(|&b| b == b'/').next().unwrap().to_vec()).unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![img.clone()]);
    script.folders.push_back(d.join("out"));

    let mut h = start(
        script,
        "Recover deleted files from a disk: ext4, FAT or NTFS (snapshot)",
    );
    at_step(&h, "Step 1 of 4: Choose the disk", Tab::Snapshot);
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    h.get_by_label("Take snapshot").click();
    wait(&mut h);
    at_step(&h, "Step 2 of 4: Pick the files", Tab::Snapshot);

    // Later the file is deleted, the way the kernel does it.
    ext4img::delete_like_kernel(&img, &victim);
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
    at_step(&h, "Step 3 of 4: Choose where to save them", Tab::Snapshot);
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover picked files").click();
    wait(&mut h);
    at_step(&h, "Step 4 of 4: Done", Tab::Snapshot);
    h.get_by_label_contains("safe — verified");
    let report = h
        .state()
        .snapshot
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap();
    let out = report.files[0].out_path.clone().unwrap();
    // Saved under its path in the snapshot, inside the chosen folder.
    let rel = String::from_utf8(victim.clone()).unwrap();
    assert_eq!(out, d.join("out").join(rel.trim_start_matches('/')));
    assert_eq!(std::fs::read(&out).unwrap(), data);
}

#[test]
fn see_how_it_works_journey() {
    let dir = tempfile::tempdir().unwrap();
    let mut script = Scripted::default();
    script.folders.push_back(dir.path().to_path_buf());
    let mut h = start(script, "See how it works (demo)");
    at_step(&h, "Step 1 of 2: Press \"Run the demo\"", Tab::Demo);
    // The demo's files go to a folder of the test's, not the user's.
    h.state_mut().demo.parent = Some(dir.path().to_path_buf());
    h.get_by_label("Run the demo").click();
    wait(&mut h);
    at_step(&h, "Step 2 of 2: Step through what happened", Tab::Demo);
    let n = h
        .state()
        .demo
        .report
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap()
        .files
        .len();
    assert!(n > 0);
    h.get_by_label_contains(&format!("SBX recovery got {n} of {n} back"));
}

/// Item 8: a scan that finds nothing says so plainly; scanning the same disk again says it
/// was already scanned; opening another catalogue leaves nothing of the previous one.
#[test]
fn scan_and_recover_say_what_happened_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.img"), ext4img::payload(64 * 1024, 41)).unwrap();
    let data = ext4img::payload(12_000, 42);
    std::fs::write(d.join("note.txt"), &data).unwrap();
    let c = std::fs::read(encode(&d.join("note.txt"))).unwrap();
    std::fs::write(d.join("full.img"), [vec![0; 4096], c].concat()).unwrap();
    std::fs::create_dir(d.join("out")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("full.img")]);
    script.files.push_back(vec![d.join("empty.img")]);
    script
        .files
        .push_back(vec![d.join("empty.img.sbxscan.sqlite")]);
    script.folders.push_back(d.join("out"));
    let mut h = harness(script);
    h.run();

    // A disk with one protected file: scanned, and recovered.
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    h.get_by_label("Start scan").click();
    wait(&mut h);
    h.get_by_label("Scan finished: 1 protected file found. Get it back in the Recover tab.");
    h.get_by_label("Start scan").click();
    wait(&mut h);
    h.get_by_label_contains("full.img: already scanned before, and unchanged since");
    h.get_by_label("Recover").click();
    h.run();
    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Recover selected").click();
    wait(&mut h);
    h.get_by_label("The one file is safe.");
    assert_eq!(std::fs::read(d.join("out/note.txt")).unwrap(), data);

    // A disk with none.
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Clear list").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    h.get_by_label("Start scan").click();
    wait(&mut h);
    h.get_by_label("No protected files were found on this disk.");

    // Its catalogue opened in Recover: the earlier file and its verdict are gone.
    h.get_by_label("Recover").click();
    h.run();
    h.get_by_label("Open catalogue…").click();
    wait(&mut h);
    assert!(h.state().recover.rows.is_empty());
    assert!(h.state().recover.report.is_none());
    assert!(h.query_by_label("The one file is safe.").is_none());
    assert!(h.query_by_label_contains("note.txt").is_none());
}
