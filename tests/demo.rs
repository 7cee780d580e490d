//! The fragmentation demo end to end: on a floppy made with a fixed seed, SBX recovery brings
//! every file back bit-exact while carving gets fewer; the same seed makes the same images,
//! another seed another scramble; bad output folders and files too big are refused before
//! anything is written; user files are used; cancelling leaves only whole files; the CLI.

mod common;

use common::*;
use seqbox::engine::catalog::Catalog;
use seqbox::engine::demo::{self, DemoOpts, DemoReport};
use seqbox::engine::{CancelFlag, Error, Progress, Stage};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn run(out: &Path, seed: u64, files: &[PathBuf]) -> Result<DemoReport, Error> {
    let opts = DemoOpts {
        out_dir: out.to_path_buf(),
        seed,
        files: files.to_vec(),
    };
    demo::run(&opts, &CancelFlag::new(), &|_| {})
}

/// Every file under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            }
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

fn stage_hashes(r: &DemoReport) -> Vec<String> {
    r.stages.iter().map(|s| sha256_file(&s.image)).collect()
}

#[test]
fn seed_1_sbx_brings_every_file_back_bit_exact_and_carving_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let seen = Mutex::new(Vec::<Progress>::new());
    let opts = DemoOpts {
        out_dir: out.clone(),
        seed: 1,
        files: Vec::new(),
    };
    let r = demo::run(&opts, &CancelFlag::new(), &|p| seen.lock().unwrap().push(p)).unwrap();
    let why = format!("{r:#?}\n{:?}", listing(&out));
    assert!(r.success(), "{why}");
    assert!(r.samples && r.seed == 1);
    let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["picture.bmp", "sound.wav", "report.txt", "archive.zip"]
    );

    for f in &r.files {
        let original = std::fs::read(&f.original_path).unwrap();
        assert_eq!(original.len() as u64, f.size);
        assert_eq!(sha256_hex(&original), f.sha256_hex);
        let back = std::fs::read(f.recovered_path.as_ref().unwrap()).unwrap();
        assert!(back == original, "{} differs from its original", f.name);
        assert!(
            f.recovered_path
                .as_ref()
                .unwrap()
                .starts_with(out.join("recovered"))
        );
    }
    // The layout fragments files and copies; carving gets only what lies in one piece.
    assert!(r.files.iter().any(|f| f.original_fragments > 1), "{why}");
    assert!(r.files.iter().any(|f| f.sbx_fragments > 1), "{why}");
    let carved = r.files.iter().filter(|f| f.carved_identical).count();
    assert_eq!(carved, 1, "{why}");
    let sbx = r.files.iter().filter(|f| f.sbx_recovered_identical).count();
    assert!(carved < sbx);
    for f in &r.files {
        assert!(f.carved_found, "{why}");
        let got = std::fs::read(f.carved_path.as_ref().unwrap()).unwrap();
        let original = std::fs::read(&f.original_path).unwrap();
        let prefix = got
            .iter()
            .zip(&original)
            .take_while(|(a, b)| a == b)
            .count();
        assert_eq!(prefix as u64, f.carved_correct_prefix, "{}", f.name);
        assert_eq!(f.carved_identical, got == original, "{}", f.name);
    }
    assert_eq!(
        r.summary(),
        "Carving got 1 of 4 files back intact; SBX recovery got 4 of 4 back, bit-exact and \
         hash-verified."
    );

    // The stages: the file system, then none, then the same sectors in another order; each
    // with a catalogue that knows all four containers.
    let stage_names: Vec<_> = r.stages.iter().map(|s| s.name).collect();
    assert_eq!(stage_names, ["before", "wiped", "scrambled"]);
    let images: Vec<Vec<u8>> = r
        .stages
        .iter()
        .map(|s| std::fs::read(&s.image).unwrap())
        .collect();
    assert!(images.iter().all(|i| i.len() == 1_474_560));
    assert_eq!(&images[0][510..512], [0x55, 0xAA]);
    assert!(images[1][..33 * 512].iter().all(|&b| b == 0));
    assert!(images[1][33 * 512..] == images[0][33 * 512..]);
    let sorted = |i: &[u8]| {
        let mut s: Vec<&[u8]> = i.chunks(512).collect();
        s.sort();
        s.into_iter().flatten().copied().collect::<Vec<u8>>()
    };
    assert!(images[2] != images[1] && sorted(&images[2]) == sorted(&images[1]));
    for s in &r.stages {
        assert!(s.image.is_absolute() && !s.description.is_empty());
        let cat = Catalog::open_existing(&s.catalog).unwrap();
        assert_eq!(cat.containers().unwrap().len(), 4, "{}", s.name);
        assert_eq!(cat.container_count().unwrap(), 4, "{}", s.name);
        assert_eq!(cat.sources().unwrap()[0].path, s.image);
        assert_eq!(s.sbx_blocks, r.stages[0].sbx_blocks);
    }
    assert!(!listing(&out).iter().any(|n| n.ends_with(".part")));

    // Progress: several stages, never backwards, ends at the total.
    let seen = seen.into_inner().unwrap();
    assert!(seen.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    let last = seen.last().unwrap();
    assert_eq!(last.bytes_done, last.bytes_total);
    for stage in [
        Stage::Encoding,
        Stage::Imaging,
        Stage::Scanning,
        Stage::Carving,
    ] {
        assert!(seen.iter().any(|p| p.stage == stage), "{stage:?}");
    }
}

/// For each sector of the scrambled image, where it was in the wiped one (when its content
/// is unique there): the permutation the scramble applied, whatever the files were.
fn permutation(r: &DemoReport) -> Vec<Option<usize>> {
    let wiped = std::fs::read(&r.stages[1].image).unwrap();
    let scrambled = std::fs::read(&r.stages[2].image).unwrap();
    let mut at = std::collections::HashMap::new();
    for (i, s) in wiped.chunks(512).enumerate() {
        at.entry(s).and_modify(|v| *v = None).or_insert(Some(i));
    }
    scrambled.chunks(512).map(|s| at[s]).collect()
}

#[test]
fn the_same_seed_gives_the_same_images_and_another_seed_another_scramble() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(&dir.path().join("a"), 7, &[]).unwrap();
    let b = run(&dir.path().join("b"), 7, &[]).unwrap();
    let c = run(&dir.path().join("c"), 8, &[]).unwrap();
    assert!(a.success() && c.success());
    assert_eq!(stage_hashes(&a), stage_hashes(&b));
    let (ha, hc) = (stage_hashes(&a), stage_hashes(&c));
    assert!(ha.iter().zip(&hc).all(|(x, y)| x != y), "{ha:?} {hc:?}");
    let (pa, pc) = (permutation(&a), permutation(&c));
    // Of the sectors placed in both, nearly all went to different places.
    let known: Vec<_> = pa
        .iter()
        .zip(&pc)
        .filter(|(x, y)| x.is_some() && y.is_some())
        .collect();
    let moved = known.iter().filter(|(x, y)| x != y).count();
    assert!(
        known.len() > 300 && moved * 10 > known.len() * 9,
        "{moved} of {}",
        known.len()
    );
    assert_eq!(pa, permutation(&b));

    // The samples given back as user files (same names, bytes and dates) make the same disk.
    let files: Vec<PathBuf> = a.files.iter().map(|f| f.original_path.clone()).collect();
    let d = run(&dir.path().join("d"), 7, &files).unwrap();
    assert!(!d.samples);
    assert_eq!(stage_hashes(&d), ha);
}

#[test]
fn a_folder_that_is_not_empty_or_not_a_folder_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("precious.txt"), b"keep me").unwrap();
    let e = run(&full, 1, &[]).unwrap_err();
    assert!(e.to_string().contains("is not empty"), "{e}");
    assert_eq!(listing(&full), ["precious.txt"]);
    assert_eq!(
        std::fs::read(full.join("precious.txt")).unwrap(),
        b"keep me"
    );

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let e = run(&file, 1, &[]).unwrap_err();
    assert!(e.to_string().contains("is not a folder"), "{e}");

    // An existing empty folder is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(run(&empty, 1, &[]).unwrap().success());
}

#[test]
fn files_that_do_not_fit_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.iso");
    std::fs::write(&big, noise(720_000, 1)).unwrap();
    let out = dir.path().join("out");
    let e = run(&out, 1, std::slice::from_ref(&big)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("big.iso and their SBX copies") && msg.contains("1.44 MB floppy"),
        "{msg}"
    );
    assert!(!out.exists(), "the output folder was created");

    let small = dir.path().join("small.txt");
    std::fs::write(&small, noise(400_000, 2)).unwrap();
    let e = run(&out, 1, &[small, big]).unwrap_err();
    assert!(e.to_string().contains("these 2 files"), "{e}");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let e = run(&out, 1, &[empty]).unwrap_err();
    assert!(e.to_string().contains("is empty"), "{e}");
    let e = run(&out, 1, &[dir.path().to_path_buf()]).unwrap_err();
    assert!(e.to_string().contains("is not a file"), "{e}");
    assert!(!out.exists());
}

#[test]
fn user_files_go_on_the_floppy_under_their_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("Meeting notes, 2024.txt");
    let text: Vec<u8> = (0..3000)
        .flat_map(|i| format!("line {i}: the quick brown fox\n").into_bytes())
        .collect();
    std::fs::write(&notes, &text).unwrap();
    let photo = dir.path().join("photo.jpg");
    let picture = noise(300_000, 42);
    std::fs::write(&photo, &picture).unwrap();
    let out = dir.path().join("out");
    let r = run(&out, 3, &[notes, photo]).unwrap();
    assert!(r.success() && !r.samples, "{r:#?}");
    let names: Vec<&str> = r.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Meeting notes, 2024.txt", "photo.jpg"]);
    for (f, want) in r.files.iter().zip([&text, &picture]) {
        assert!(std::fs::read(&f.original_path).unwrap() == *want);
        let back = f.recovered_path.as_ref().unwrap();
        assert_eq!(back.file_name().unwrap().to_str(), Some(f.name.as_str()));
        assert!(std::fs::read(back).unwrap() == *want, "{}", f.name);
        assert!(f.original_fragments > 1 && f.sbx_fragments > 1, "{f:?}");
        assert!(!f.carved_identical, "{f:?}");
    }
    assert!(
        r.summary()
            .starts_with("Carving got 0 of 2 files back intact")
    );
}

#[test]
fn a_cancelled_demo_stops_and_leaves_only_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cancel = CancelFlag::new();
    let opts = DemoOpts {
        out_dir: out.clone(),
        seed: 1,
        files: Vec::new(),
    };
    let r = demo::run(&opts, &cancel, &|p| {
        if p.stage == Stage::Scanning {
            cancel.cancel();
        }
    });
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    let left = listing(&out);
    assert!(left.contains(&"1-before.img".to_string()), "{left:?}");
    assert!(
        !left
            .iter()
            .any(|n| n.ends_with(".part") || n.contains("scrambled"))
    );
}

#[test]
fn the_cli_demo_prints_the_report_as_json_and_exits_by_the_sbx_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = seqbox(
        &["demo", "--out", "d", "--seed", "1", "--json"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["command"], "demo");
    assert_eq!(doc["ok"], true);
    let r = &doc["report"];
    assert_eq!(r["seed"], 1);
    assert_eq!(r["stages"].as_array().unwrap().len(), 3);
    assert_eq!(r["stages"][2]["name"], "scrambled");
    assert!(
        r["stages"][0]["catalog"]
            .as_str()
            .unwrap()
            .ends_with("1-before.sbxscan.sqlite")
    );
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    for f in files {
        for key in [
            "name",
            "size",
            "sha256_hex",
            "original_fragments",
            "sbx_fragments",
            "carved_found",
            "carved_identical",
            "carved_correct_prefix",
            "recovered_path",
        ] {
            assert!(!f[key].is_null(), "{key} in {f}");
        }
        assert_eq!(f["sbx_recovered_identical"], true);
    }
    let carved = files
        .iter()
        .filter(|f| f["carved_identical"] == true)
        .count();
    assert_eq!(carved, 1);

    // Text: the table and the summary; the same folder again is refused with exit code 1.
    std::fs::create_dir(dir.path().join("t")).unwrap();
    let text = seqbox(&["demo", "--out", "t"], dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.status.code(), Some(0), "{}", show(&text, dir.path()));
    assert!(stdout.contains("3 scrambled") && stdout.contains("picture.bmp"));
    assert!(stdout.contains("SBX recovery got 4 of 4 back, bit-exact and hash-verified."));
    let again = seqbox(&["demo", "--out", "t"], dir.path(), &[]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again, dir.path()));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    let json = seqbox(&["demo", "--out", "t", "--json"], dir.path(), &[]);
    assert_eq!(json.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert!(doc["error"].as_str().unwrap().contains("is not empty"));
}
