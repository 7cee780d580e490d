//! The Encode and Decode tabs driven headless with egui_kittest (issue 12, items 6 and 7):
//! whole folders with their count and sizes, Replace / Keep both, a password only where the
//! protection holds one; a password per container, `NAME (1).ext` and `NAME (incomplete).ext`,
//! Open folder through the dialogs seam, rows that fit at 800 px. Assertions are on labels,
//! on the app's state and on the exact bytes written.

mod gui_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gui_support::{Scripted, harness, harness_sized};
use seqbox::engine::CancelFlag;
use seqbox::engine::encode::{self, EncodeOpts};
use seqbox::engine::words::Verdict;
use seqbox::format::Version;
use seqbox::gui::app::{App, Tab};
use seqbox::gui::encode_tab::Protection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Step frames until no job runs, then settle (at most 60 s).
fn wait(h: &mut Harness<'static, App>) {
    gui_support::wait_up_to(h, Duration::from_secs(60));
}

/// Deterministic bytes that do not compress into anything regular.
fn payload(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn encode_with(input: &Path, version: Version) -> PathBuf {
    let opts = EncodeOpts {
        version,
        ..EncodeOpts::new(input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {})
        .unwrap()
        .output
}

/// What a container gives back (through the engine, not the app).
fn decoded(sbx: &Path, password: Option<&str>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = seqbox::engine::decode::DecodeOpts::new(sbx);
    opts.output = encode::Target::File(dir.path().join("out"));
    opts.password = password.map(String::from);
    let r = seqbox::engine::decode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::read(r.output.expect("decoded")).unwrap()
}

fn container_size(version: Version, size: u64) -> String {
    let opts = EncodeOpts {
        version,
        ..EncodeOpts::new("x")
    };
    let layout = opts.layout().unwrap();
    seqbox::engine::calc::human(seqbox::engine::calc::container_size(&layout, size))
}

#[test]
fn a_whole_folder_is_counted_encoded_and_mirrored_in_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photos = d.join("Photos");
    std::fs::create_dir_all(photos.join("2024/summer")).unwrap();
    std::fs::create_dir_all(photos.join("2025")).unwrap();
    let files = [
        ("2024/summer/IMG_0001.jpg", payload(30_000, 1)),
        ("2025/IMG_0001.jpg", payload(12_345, 2)),
        ("notes.txt", payload(100, 3)),
    ];
    for (rel, data) in &files {
        std::fs::write(photos.join(rel), data).unwrap();
    }
    std::fs::write(photos.join("old.txt.sbx"), b"a container from before").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&photos, photos.join("2025/back-up")).unwrap();
    let mut script = Scripted::default();
    script.folders.push_back(photos.clone());
    script.folders.push_back(d.join("safe"));
    let mut h = harness(script);
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add folder…").click();
    wait(&mut h);

    let total: usize = files.iter().map(|(_, f)| f.len()).sum();
    assert_eq!(total, 42_445);
    // Strong protection by default: version 17.
    let expected_total: u64 = files
        .iter()
        .map(|(_, f)| {
            let layout = EncodeOpts::new("x").layout().unwrap();
            seqbox::engine::calc::container_size(&layout, f.len() as u64)
        })
        .sum();
    h.get_by_label(&format!(
        "3 files to protect, 41.5 KiB in all; containers about {}",
        seqbox::engine::calc::human(expected_total)
    ));
    h.get_by_label_contains("Folder (3 files, 41.5 KiB):");
    h.get_by_label("1 container(s) (.sbx) already in the folder are left out");
    #[cfg(unix)]
    h.get_by_label("1 link(s) back to a folder already counted are left out");
    h.get_by_label("Files in Photos").click();
    h.run();
    h.get_by_label(&format!(
        "29.3 KiB (container {})",
        container_size(Version::V17, 30_000)
    ));
    h.get_by_label("2024/summer/IMG_0001.jpg");

    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Encode files").click();
    wait(&mut h);
    h.get_by_label("3 of 3 protected and checked");
    for (rel, data) in &files {
        let sbx = d.join("safe/Photos").join(format!("{rel}.sbx"));
        assert_eq!(&decoded(&sbx, None), data, "{}", sbx.display());
    }
    assert!(
        !photos.join("notes.txt.sbx").exists(),
        "with an output folder nothing is written beside the files"
    );
}

#[test]
fn encoding_again_offers_replace_or_keep_both_and_never_replaces_silently() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = payload(5_000, 4);
    std::fs::write(d.join("letter.txt"), &first).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("letter.txt")]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add files…").click();
    wait(&mut h);
    h.get_by_label(&format!(
        "4.9 KiB (container {})",
        container_size(Version::V17, 5_000)
    ));
    h.get_by_label("Encode files").click();
    wait(&mut h);
    h.get_by_label_contains("Protected as");
    let sbx = d.join("letter.txt.sbx");
    let original = std::fs::read(&sbx).unwrap();

    // Encoding again: the row says the container is there and offers the two choices.
    h.get_by_label("Encode files").click();
    wait(&mut h);
    h.get_by_label(
        "“letter.txt.sbx” is already there, so it was left untouched; choose another folder.",
    );
    assert!(h.state().encode.results[0].already_there);
    assert_eq!(std::fs::read(&sbx).unwrap(), original, "left untouched");
    h.get_by_label("Keep both").click();
    wait(&mut h);
    let kept = d.join("letter.txt (1).sbx");
    assert_eq!(decoded(&kept, None), first);
    assert_eq!(std::fs::read(&sbx).unwrap(), original);
    h.get_by_label_contains("Protected as");
    h.get_by_label_contains("letter.txt (1).sbx");

    // Replace only on a click: the file changed, the container follows it.
    let second = payload(6_000, 5);
    std::fs::write(d.join("letter.txt"), &second).unwrap();
    h.get_by_label("Encode files").click();
    wait(&mut h);
    assert_eq!(std::fs::read(&sbx).unwrap(), original, "still untouched");
    h.get_by_label("Replace").click();
    wait(&mut h);
    assert_eq!(decoded(&sbx, None), second);
    assert!(!d.join("letter.txt (2).sbx").exists());

    // Before encoding, the row already says so; the choice is made there.
    h.get_by_label("Clear list").click();
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut().open_paths(&ctx, vec![d.join("letter.txt")]);
    wait(&mut h);
    h.get_by_label("“letter.txt.sbx” is already there.");
    h.get_by_label("left as it is unless you choose");
    h.get_by_label("Keep both").click();
    h.run();
    h.get_by_label("Encode files").click();
    wait(&mut h);
    assert_eq!(decoded(&d.join("letter.txt (2).sbx"), None), second);
}

#[test]
fn a_password_only_where_the_protection_holds_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = payload(3_000, 6);
    std::fs::write(d.join("diary.txt"), &data).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![d.join("diary.txt")]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Encode").click();
    h.run();
    assert_eq!(h.state().encode.protection, Protection::Strong);
    assert!(!h.state().encode.password_possible());
    // With Strong the box says what ticking it does.
    h.get_by_label_contains("switches to Standard").click();
    h.run();
    assert_eq!(h.state().encode.protection, Protection::Standard);
    assert!(h.state().encode.use_password);
    h.get_by_label_contains("Protection switched to Standard");
    h.get_by_label("Password:").click();
    h.run();
    h.get_by_label("Password:").type_text("tulip");
    h.run();
    h.get_by_label("Add files…").click();
    wait(&mut h);
    h.get_by_label("Encode files").click();
    wait(&mut h);
    let r = &h.state().encode.results;
    assert!(r.len() == 1 && r[0].outcome.is_ok(), "{:?}", r.first());
    h.get_by_label_contains("Protected as");
    let sbx = d.join("diary.txt.sbx");
    assert_eq!(decoded(&sbx, Some("tulip")), data);
    assert!(seqbox::engine::info::run(&sbx, None).is_err(), "hidden");

    // Back to Strong: the password is dropped, not silently ignored.
    h.get_by_label("Strong — also survives damaged sectors")
        .click();
    h.run();
    assert!(!h.state().encode.use_password);
    assert!(h.query_by_label("Password:").is_none());
    h.get_by_label_contains("switches to Standard");
}

#[test]
fn each_container_has_its_own_password_and_plain_ones_never_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/seqbox");
    let locked = d.join("r100k.v1.pw-chbs.sbx");
    std::fs::copy(vectors.join("r100k.v1.pw-chbs.sbx"), &locked).unwrap();
    let plain_data = payload(20_000, 7);
    std::fs::write(d.join("plain.doc"), &plain_data).unwrap();
    let plain = encode_with(&d.join("plain.doc"), Version::V1);
    std::fs::create_dir(d.join("back")).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![plain.clone(), locked.clone()]);
    script.folders.push_back(d.join("back"));
    let opened = script.opened.clone();
    let mut h = harness(script);
    h.run();
    h.get_by_label("Decode").click();
    h.run();
    h.get_by_label("Open containers…").click();
    wait(&mut h);
    assert_eq!(h.state().tab, Tab::Decode);
    h.get_by_label_contains("plain.doc — 19.5 KiB — made ");
    h.get_by_label(
        "“r100k.v1.pw-chbs.sbx” is not an SBX container, or it was protected with a password.",
    );
    // Only the locked one asks; decoding now says so and does not try it.
    assert!(h.query_by_label("Password for plain.doc.sbx:").is_none());
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label("1 of 2 containers safe; 1 needs its password.");
    h.get_by_label(
        "r100k.v1.pw-chbs.sbx: needs its password — type it in its row (or it is not an SBX \
         container)",
    );
    assert_eq!(std::fs::read(d.join("plain (1).doc")).unwrap(), plain_data);
    let field = "Password for r100k.v1.pw-chbs.sbx:";
    h.get_by_label(field).click();
    h.run();
    h.get_by_label(field).type_text("wrong");
    h.run();
    h.get_by_label("Open with this password").click();
    wait(&mut h);
    h.get_by_label("No SBX block in “r100k.v1.pw-chbs.sbx” matches this password.");
    h.state_mut().decode.rows[1].password.clear();
    h.get_by_label(field).click();
    h.run();
    h.get_by_label(field)
        .type_text("correct-horse-battery-staple");
    h.run();
    h.get_by_label("Open with this password").click();
    wait(&mut h);
    h.get_by_label_contains("r100k.bin — 97.7 KiB — made ");
    h.get_by_label_contains("stored with a password");
    assert_eq!(h.state().decode.rows[0].opened_with, None);

    h.get_by_label("Choose output folder…").click();
    h.run();
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label("All 2 containers safe.");
    assert_eq!(std::fs::read(d.join("back/plain.doc")).unwrap(), plain_data);
    assert_eq!(
        std::fs::read(d.join("back/r100k.bin")).unwrap(),
        std::fs::read(vectors.join("r100k.bin")).unwrap()
    );
    let verdicts: Vec<Verdict> = h
        .state()
        .decode
        .results
        .iter()
        .map(|r| r.said.verdict)
        .collect();
    assert_eq!(verdicts, vec![Verdict::SafeVerified; 2]);

    // Decoding again never fails on the last run's file: the new one is "NAME (1).ext",
    // said in the main line. Open folder asks the desktop (here: the script) to show it.
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label_contains(&format!(
        "plain.doc.sbx: safe — verified, saved as {}",
        d.join("back/plain (1).doc").display()
    ));
    assert_eq!(
        std::fs::read(d.join("back/plain (1).doc")).unwrap(),
        plain_data
    );
    h.get_all_by_label("Open folder").next().unwrap().click();
    h.run();
    assert_eq!(*opened.lock().unwrap(), vec![d.join("back")]);
}

#[test]
fn an_incomplete_file_is_kept_only_when_asked_under_its_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = payload(4_000, 8);
    std::fs::write(d.join("scan.png"), &data).unwrap();
    let sbx = encode_with(&d.join("scan.png"), Version::V1);
    std::fs::remove_file(d.join("scan.png")).unwrap();
    let mut c = std::fs::read(&sbx).unwrap();
    c[3 * 512 + 100] ^= 0xFF; // data block 3: bytes 992..1488 of the file
    std::fs::write(&sbx, &c).unwrap();
    let mut script = Scripted::default();
    script.files.push_back(vec![sbx.clone()]);
    let mut h = harness(script);
    h.run();
    h.get_by_label("Decode").click();
    h.run();
    h.get_by_label("Open containers…").click();
    wait(&mut h);
    h.get_by_label("Decode files").click();
    wait(&mut h);
    h.get_by_label(
        "scan.png.sbx: incomplete — 496 bytes missing (bytes 992–1487); nothing was written",
    );
    assert!(!d.join("scan.png").exists());
    assert!(!d.join("scan (incomplete).png").exists());

    h.get_by_label_contains("Keep files with missing parts")
        .click();
    h.run();
    h.get_by_label("Decode files").click();
    wait(&mut h);
    let kept = d.join("scan (incomplete).png");
    h.get_by_label(&format!(
        "scan.png.sbx: incomplete — 496 bytes missing (bytes 992–1487); saved with the missing \
         parts filled with zeros as {}",
        kept.display()
    ));
    let mut expected = data.clone();
    expected[992..1488].fill(0);
    assert_eq!(std::fs::read(&kept).unwrap(), expected);
    assert!(
        !d.join("scan.png").exists(),
        "never under the whole file's name"
    );
    assert_eq!(
        h.state().decode.results[0].said.verdict,
        Verdict::Incomplete
    );

    // Check only says the same.
    h.get_by_label("Check only").click();
    wait(&mut h);
    h.get_by_label(
        "scan.png.sbx: incomplete — 496 bytes missing (bytes 992–1487); the rest checks out",
    );
}

#[test]
fn details_hold_the_uid_and_command_lines_and_dates_are_local() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a b.txt"), payload(700, 9)).unwrap();
    let sbx = encode_with(&d.join("a b.txt"), Version::V17);
    let info = seqbox::engine::info::run(&sbx, None).unwrap();
    let made = info.metadata.as_ref().unwrap().sbx_time.unwrap();
    let mut h = harness(Scripted::default());
    h.run();
    let ctx = h.ctx.clone();
    h.state_mut().open_paths(&ctx, vec![sbx.clone()]);
    wait(&mut h);
    h.get_by_label(&format!(
        "a b.txt — 700 bytes — made {} — with parity (version 17: 10 + 2 Reed–Solomon, burst 12)",
        seqbox::gui::decode_rows::local_time(made)
    ));
    assert!(
        h.query_by_label_contains(&info.uid).is_none(),
        "UID in Details only"
    );
    h.get_by_label("Details").click();
    h.run();
    h.get_by_label(&format!("UID {}", info.uid));
    h.get_by_label("block sets of 10 data + 2 parity blocks, burst level 12");
    h.get_by_label(&format!("command line: seqbox decode '{}'", sbx.display()));
}

/// At 800×600 every row fits: long names are cut short (whole on hover), and an error gets
/// the full width instead of a narrow column.
#[test]
fn rows_fit_at_800_px_and_errors_get_the_full_width() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = format!("{}.jpg", "a very long holiday photo name ".repeat(5).trim());
    std::fs::write(d.join(&long), payload(2_000, 10)).unwrap();
    let sbx = encode_with(&d.join(&long), Version::V1);
    std::fs::write(d.join("not a container.sbx"), payload(3_000, 11)).unwrap();
    let mut script = Scripted::default();
    script
        .files
        .push_back(vec![sbx.clone(), d.join("not a container.sbx")]);
    script.files.push_back(vec![d.join(&long)]);
    let mut h = harness_sized(script, 800.0, 600.0);
    h.run();
    h.get_by_label("Decode").click();
    h.run();
    h.get_by_label("Open containers…").click();
    wait(&mut h);
    let sentence =
        "“not a container.sbx” is not an SBX container, or it was protected with a password.";
    let err = h.get_by_label(sentence).rect();
    assert!(
        err.height() < 20.0 && err.left() < 40.0,
        "the error is one line at the left, not a narrow column: {err:?}"
    );
    let line = h.get_by_label_contains("— Standard (version 1)").rect();
    assert!(line.right() <= 800.0, "{line:?}");
    let name = h.get_by_label(&format!("{long}.sbx")).rect();
    assert!(name.right() <= 800.0, "cut short, not clipped: {name:?}");

    h.get_by_label("Encode").click();
    h.run();
    h.get_by_label("Add files…").click();
    wait(&mut h);
    let row = h.get_by_label(&d.join(&long).display().to_string()).rect();
    assert!(row.right() <= 800.0, "{row:?}");
    let remove = h.get_by_label("Remove").rect();
    assert!(remove.right() <= 800.0 && remove.left() >= 0.0);
}
