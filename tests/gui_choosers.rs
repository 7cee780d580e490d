//! Every "Choose…" button works without a system file dialog (issue 12, item 2): the app's own
//! chooser opens, is driven by its labels, and what it returns lands where the button said.

mod gui_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::Scripted;
use seqbox::gui::app::App;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The app on a desktop without a portal or zenity: every dialog comes back empty at once.
fn harness() -> Harness<'static, App> {
    gui_support::harness(Scripted {
        broken: true,
        ..Default::default()
    })
}

/// Step frames until nothing is being read or worked on, then settle.
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(30));
}

/// Type `dir` into the chooser's path bar (replacing what is there) and go there.
fn go_to(h: &mut Harness<'static, App>, dir: &Path) {
    h.get_by_label("Folder:").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Folder:").type_text(dir.to_str().unwrap());
    h.run();
    h.get_by_label("Go").click();
    wait(h);
}

fn folder_with_photos() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jpg"), b"first photo").unwrap();
    std::fs::write(d.join("b.jpg"), vec![7u8; 3000]).unwrap();
    std::fs::write(d.join(".hidden"), b"x").unwrap();
    std::fs::create_dir(d.join("holiday")).unwrap();
    std::fs::write(d.join("holiday/c.jpg"), b"third").unwrap();
    dir
}

#[test]
fn add_files_without_a_system_dialog_uses_the_apps_own_chooser() {
    let dir = folder_with_photos();
    let d = dir.path();
    let mut h = harness();
    wait(&mut h);
    assert!(
        h.query_by_label_contains("No file dialog could be opened")
            .is_none(),
        "no banner: the app's own chooser works around the missing dialog"
    );
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add files…").click();
    wait(&mut h);
    h.get_by_label("This desktop has no file dialog, so SeqBox shows its own.");
    go_to(&mut h, d);
    // Folders first, hidden files hidden, sizes shown.
    h.get_by_label("holiday/");
    h.get_by_label("2.9 KiB");
    assert!(h.query_by_label(".hidden").is_none());
    h.get_by_label("a.jpg").click();
    h.run();
    h.get_by_label("b.jpg").click();
    h.run();
    h.get_by_label("2 files selected");
    h.get_by_label("b.jpg").click();
    h.run();
    h.get_by_label("1 file selected");
    h.get_by_label("b.jpg").click();
    h.run();
    h.get_by_label("Choose selected files").click();
    wait(&mut h);
    assert_eq!(
        h.state().encode.files,
        vec![d.join("a.jpg"), d.join("b.jpg")]
    );
    assert!(
        h.query_by_label("Choose selected files").is_none(),
        "closed"
    );

    // The second time it opens where the last choice was made, and says nothing more.
    h.get_by_label("Add files…").click();
    wait(&mut h);
    assert!(
        h.query_by_label_contains("This desktop has no file dialog")
            .is_none()
    );
    h.get_by_label("holiday/").click();
    wait(&mut h);
    h.get_by_label("c.jpg").click();
    h.run();
    h.get_by_label("Choose selected files").click();
    wait(&mut h);
    assert_eq!(
        h.state().encode.files,
        vec![d.join("a.jpg"), d.join("b.jpg"), d.join("holiday/c.jpg")]
    );
}

#[test]
fn output_folder_up_and_cancel() {
    let dir = folder_with_photos();
    let d = dir.path();
    let mut h = harness();
    wait(&mut h);
    h.get_by_label("Recover").click();
    h.run();
    h.get_by_label("Choose output folder…").click();
    wait(&mut h);
    go_to(&mut h, &d.join("holiday"));
    assert!(
        h.query_by_label("c.jpg").is_none(),
        "choosing a folder lists folders only"
    );
    h.get_by_label("No folders in here.");
    h.get_by_label("Up").click();
    wait(&mut h);
    h.get_by_label("holiday/").click();
    wait(&mut h);
    h.get_by_label("Choose this folder").click();
    wait(&mut h);
    assert_eq!(h.state().recover.out_dir, Some(d.join("holiday")));
    h.get_by_label(&format!("Output folder: {}", d.join("holiday").display()));

    // Cancel changes nothing; a folder that is not there says so in one sentence.
    h.get_by_label("Choose output folder…").click();
    wait(&mut h);
    go_to(&mut h, &d.join("nowhere"));
    h.get_by_label(&format!(
        "There is no folder {}.",
        d.join("nowhere").display()
    ));
    h.get_by_label("Cancel").click();
    wait(&mut h);
    assert_eq!(h.state().recover.out_dir, Some(d.join("holiday")));
}

#[test]
fn catalogue_file_and_disk_image_are_chosen_in_the_apps_chooser() {
    let dir = folder_with_photos();
    let d = dir.path();
    std::fs::write(d.join("disk.img"), vec![0u8; 4096]).unwrap();
    let mut h = harness();
    wait(&mut h);
    h.get_by_label("Scan").click();
    h.run();
    h.get_by_label("Choose catalogue…").click();
    wait(&mut h);
    go_to(&mut h, d);
    h.get_by_label("File name:").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("File name:")
        .type_text("mine.sbxscan.sqlite");
    h.run();
    h.get_by_label("Save here").click();
    wait(&mut h);
    assert_eq!(h.state().scan.catalog, Some(d.join("mine.sbxscan.sqlite")));
    assert!(
        !d.join("mine.sbxscan.sqlite").exists(),
        "choosing writes nothing"
    );

    h.get_by_label("Snapshot").click();
    h.run();
    h.get_by_label("Disk image file…").click();
    wait(&mut h);
    // It opens in the folder of the last choice.
    h.get_by_label("disk.img").click();
    h.run();
    h.get_by_label("Choose selected files").click();
    wait(&mut h);
    assert_eq!(h.state().snapshot.image, Some(d.join("disk.img")));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Plays a machine where /dev/sdb exists but this user may not read it.
fn sdb_denied(path: &Path) -> seqbox::engine::disks::Checked {
    use seqbox::engine::disks::{self, Checked};
    if path == Path::new("/dev/sdb") {
        Checked::Denied
    } else {
        disks::check(path)
    }
}

#[test]
fn the_disk_picker_lists_disks_checks_paths_and_says_how_to_get_access() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("card.img");
    std::fs::write(&img, vec![0u8; 8192]).unwrap();
    let mut h = harness();
    wait(&mut h);
    h.get_by_label("Scan").click();
    h.run();
    {
        let picker = &mut h.state_mut().scan.picker;
        picker.sys = fixture("sys");
        picker.mountinfo = fixture("sys.mountinfo");
        picker.check = sdb_denied;
        picker.service.available = || false;
    }
    h.get_by_label("Choose a disk…").click();
    wait(&mut h);
    h.get_by_label("Disks attached to this computer");
    h.get_by_label("/dev/sda — WDC WD10EZEX-08W, 931.5 GiB, SATA");
    h.get_by_label("/dev/sdb1 — partition, 7.5 GiB, in use (mounted at /media/me/My Photos)");
    h.get_by_label("/dev/mmcblk0 — SD64G, 29.7 GiB, memory card, read-only");
    // A disk this user may not read: one sentence and the exact commands, nothing added.
    h.get_by_label("/dev/sdb — SanDisk Cruzer Blade, 7.5 GiB, USB, removable")
        .click();
    wait(&mut h);
    h.get_by_label_contains("You may not read /dev/sdb.");
    let user = std::env::var("USER").unwrap_or_else(|_| "$USER".into());
    h.get_by_label(&format!("sudo setfacl -m u:{user}:r /dev/sdb"));
    h.get_by_label("sudo seqbox gui /dev/sdb");
    assert!(h.state().scan.sources.is_empty());
    // A typed path that is not there is refused in one sentence; Enter adds one that is.
    h.get_by_label("or type a path:").click();
    h.run();
    h.get_by_label("or type a path:")
        .type_text("/nowhere/disk.img");
    h.run();
    h.get_by_label("Add").click();
    wait(&mut h);
    h.get_by_label("There is nothing at /nowhere/disk.img.");
    h.get_by_label("or type a path:").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("or type a path:")
        .type_text(img.to_str().unwrap());
    h.run();
    h.key_press(egui::Key::Enter);
    wait(&mut h);
    assert_eq!(h.state().scan.sources, vec![img.clone()]);
    assert!(h.query_by_label_contains("There is nothing").is_none());
    assert_eq!(h.state().scan.picker.typed, "", "the added path is cleared");
    // A folder is not a disk.
    h.get_by_label("or type a path:").focus();
    h.run();
    h.get_by_label("or type a path:")
        .type_text(dir.path().to_str().unwrap());
    h.run();
    h.get_by_label("Add").click();
    wait(&mut h);
    h.get_by_label(&format!(
        "{} is a folder: choose a disk or a disk image file.",
        dir.path().display()
    ));
    assert_eq!(h.state().scan.sources, vec![img]);
}

/// The disk UDisks2 opens in the test below (a fn pointer cannot hold it).
static SDZ: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Plays /dev/sdz, which this user may not read unless UDisks2 handed it over.
fn sdz_denied(path: &Path) -> seqbox::engine::disks::Checked {
    use seqbox::engine::{disks, granted};
    if path == Path::new("/dev/sdz") && !granted::is_granted(path) {
        disks::Checked::Denied
    } else {
        disks::check(path)
    }
}

/// Plays UDisks2: the first request is refused (the password dialog was closed), the next
/// hands over the disk read-only.
fn udisks_open(path: &Path) -> Result<std::fs::File, String> {
    static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    assert_eq!(path, Path::new("/dev/sdz"));
    if ASKED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
        return Err("The system did not allow opening /dev/sdz.".into());
    }
    Ok(std::fs::File::open(SDZ.get().unwrap()).unwrap())
}

#[test]
fn a_disk_one_may_not_read_is_opened_read_only_through_udisks_and_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The disk: noise with a container inside.
    let data: Vec<u8> = (0..60_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(d.join("photo.jpg"), &data).unwrap();
    let sbx = seqbox::engine::encode::run(
        &seqbox::engine::encode::EncodeOpts::new(d.join("photo.jpg")),
        &seqbox::engine::CancelFlag::new(),
        &|_| {},
    )
    .unwrap()
    .output;
    let mut disk = vec![0x5Au8; 1 << 20];
    let c = std::fs::read(&sbx).unwrap();
    disk[4096..4096 + c.len()].copy_from_slice(&c);
    let img = d.join("sdz.img");
    std::fs::write(&img, &disk).unwrap();
    SDZ.set(img).unwrap();

    let mut h = harness();
    wait(&mut h);
    h.get_by_label("Scan").click();
    h.run();
    {
        let picker = &mut h.state_mut().scan.picker;
        picker.check = sdz_denied;
        picker.service.available = || true;
        picker.service.open = udisks_open;
    }
    h.get_by_label("or type a path:").click();
    h.run();
    h.get_by_label("or type a path:").type_text("/dev/sdz");
    h.run();
    h.get_by_label("Add").click();
    wait(&mut h);
    h.get_by_label(
        "You may not read /dev/sdz. SeqBox can ask the system to open it read only; it will ask \
         for your password.",
    );
    assert!(h.state().scan.sources.is_empty());
    // The password dialog closed: said, nothing added, and the terminal commands still there.
    h.get_by_label("Open read-only…").click();
    wait(&mut h);
    h.get_by_label("The system did not allow opening /dev/sdz.");
    h.get_by_label("sudo seqbox gui /dev/sdz");
    assert!(h.state().scan.sources.is_empty());
    // Asked again: the disk is handed over, added, and scanned through the handed-over file.
    h.get_by_label("Open read-only…").click();
    wait(&mut h);
    assert_eq!(h.state().scan.sources, vec![PathBuf::from("/dev/sdz")]);
    assert!(h.query_by_label_contains("You may not read").is_none());
    // Nothing is written under /dev: a device's catalogue goes to the user's scans folder.
    let expected = seqbox::gui::scan_tab::scans_folder().join("sdz.sbxscan.sqlite");
    assert_eq!(h.state().scan.catalog_path(), Some(expected));
    h.state_mut().scan.catalog = Some(d.join("sdz.sqlite"));
    h.get_by_label("Start scan").click();
    wait(&mut h);
    h.get_by_label("Scan finished: 1 protected file found. Get it back in the Recover tab.");
}
