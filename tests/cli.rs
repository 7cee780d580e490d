//! The `seqbox` command line end to end: usage, exit codes, `--json`, reproducible encodes,
//! and every kind of bad input the issue lists, each through the real binary.

mod common;

use common::*;
use seqbox::format::block::write_header;
use seqbox::format::{Metadata, Version};
use serde_json::Value;
use std::path::Path;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Rewrite the metadata of a v1 container's block 0 (CRC recomputed).
fn patch_metadata(container: &mut [u8], edit: impl FnOnce(&mut Metadata)) {
    let mut m = Metadata::parse(&container[16..512]);
    edit(&mut m);
    let payload = m.to_payload(Version::V1).unwrap();
    container[16..512].copy_from_slice(&payload);
    let uid: [u8; 6] = container[6..12].try_into().unwrap();
    write_header(&mut container[..512], Version::V1, &uid, 0);
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_demo_help_keeps_its_long_description_and_exit_codes() {
    // A variant's doc comment used to replace the long help set on the demo's arguments.
    let dir = tempfile::tempdir().unwrap();
    let out = seqbox(&["demo", "--help"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Never touches a real disk."), "{help}");
    assert!(
        help.contains("Exit codes: 0 every file came back from its SBX copy bit-exact"),
        "{help}"
    );
}

#[test]
fn help_lists_every_command_and_bad_usage_exits_1() {
    // (With no argument at all, `seqbox` opens the desktop app.)
    let dir = tempfile::tempdir().unwrap();
    let out = seqbox(&["--help"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "encode", "decode", "info", "check", "repair", "calc", "scan", "recover", "catalog",
        "snapshot",
    ] {
        assert!(help.contains(cmd), "help lacks {cmd}: {help}");
    }
    for args in [
        &["encode"][..],
        &["encode", "--sbx-version", "9", "x"],
        &["encode", "--uid", "not-hex", "x"],
        &["encode", "--hash", "md5", "x"],
        &["frobnicate"],
    ] {
        let out = seqbox(args, dir.path(), &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            show(&out, dir.path())
        );
    }
    let out = seqbox(
        &["encode", "--uid", "abc", "x"],
        dir.path(),
        &[("SOURCE_DATE_EPOCH", "soon")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out, dir.path()));
}

#[test]
fn source_date_epoch_makes_cli_encodes_byte_identical_to_the_original() {
    let dir = tempfile::tempdir().unwrap();
    staged_input(dir.path(), "seqbox", "r100k.bin");
    for (args, vector, sdt) in [
        (
            &["--sbx-version", "1", "--uid", "5eb0c5000107"][..],
            "r100k.v1.sbx",
            "1795417823",
        ),
        (
            &[
                "--sbx-version",
                "3",
                "--uid",
                "5eb0c5000404",
                "--password",
                "correct-horse-battery-staple",
            ],
            "r100k.v3.pw-chbs.sbx",
            "1795417825",
        ),
        (
            &["--sbx-version", "2", "--uid", "5eb0c5000206"],
            "r100k.v2.sbx",
            "1795417824",
        ),
    ] {
        let mut full = vec!["encode"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-o", vector, "r100k.bin"]);
        let out = seqbox(&full, dir.path(), &[("SOURCE_DATE_EPOCH", sdt)]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
        assert!(
            std::fs::read(dir.path().join(vector)).unwrap()
                == std::fs::read(data(&format!("seqbox/{vector}"))).unwrap(),
            "{vector} differs"
        );
    }
}

#[test]
fn several_files_round_trip_with_json_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sbx")).unwrap();
    std::fs::create_dir(d.join("back")).unwrap();
    std::fs::write(d.join("a.bin"), noise(12_345, 7)).unwrap();
    std::fs::write(d.join("b.txt"), b"hello\n").unwrap();
    std::fs::write(d.join("empty"), b"").unwrap();
    let out = seqbox(
        &[
            "encode",
            "--json",
            "--hash",
            "blake2b-512",
            "-o",
            "sbx",
            "a.bin",
            "b.txt",
            "empty",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let doc = json(&out);
    assert_eq!(doc["command"], "encode");
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["results"].as_array().unwrap().len(), 3);
    assert_eq!(doc["results"][0]["report"]["data_blocks"], 25); // ceil(12345 / 496)
    assert_eq!(doc["results"][0]["report"]["hash_kind"], "blake2b-512");
    assert_eq!(
        names_in(&d.join("sbx")),
        ["a.bin.sbx", "b.txt.sbx", "empty.sbx"]
    );

    let out = seqbox(
        &[
            "decode",
            "--json",
            "-o",
            "back",
            "sbx/a.bin.sbx",
            "sbx/b.txt.sbx",
            "sbx/empty.sbx",
        ],
        d,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    let doc = json(&out);
    assert_eq!(doc["results"][0]["report"]["status"], "verified");
    assert_eq!(
        doc["results"][0]["report"]["assembly"]["hash"]["kind"],
        "blake2b-512"
    );
    for name in ["a.bin", "b.txt", "empty"] {
        assert_eq!(
            std::fs::read(d.join("back").join(name)).unwrap(),
            std::fs::read(d.join(name)).unwrap(),
            "{name}"
        );
    }
    let out = seqbox(&["check", "--json", "sbx/a.bin.sbx"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(json(&out)["results"][0]["report"]["ok"], true);
    let out = seqbox(&["info", "--json", "sbx/b.txt.sbx"], d, &[]);
    let r = &json(&out)["results"][0]["report"];
    assert_eq!(r["metadata"]["file_name"], "b.txt");
    assert_eq!(r["metadata"]["file_size"], 6);
    assert_eq!(r["version"], 17, "version 17 is the default");
    assert_eq!(r["metadata"]["rs_data"], 10);
    assert_eq!(r["metadata"]["rs_parity"], 2);
    assert_eq!(r["metadata"]["burst"], 12);
}

#[test]
fn not_an_sbx_file_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photo.jpg"), noise(100_000, 3)).unwrap();
    for cmd in ["info", "check", "decode"] {
        let out = seqbox(&[cmd, "photo.jpg"], dir.path(), &[]);
        assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no SeqBox block found"));
    }
    assert_eq!(names_in(dir.path()), ["photo.jpg"]);
}

#[test]
fn a_truncated_container_is_reported_and_decodes_to_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    std::fs::write(dir.path().join("cut.sbx"), &full[..50_000]).unwrap();
    let out = seqbox(&["check", "--json", "cut.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let a = &json(&out)["results"][0]["report"]["assembly"];
    // 50 000 = 97 whole blocks + 336 bytes of seq 97: blocks 1..=96 survive.
    assert_eq!(a["damaged"][0]["offset"], 97 * 512);
    assert_eq!(a["damaged"][0]["seq"], 97);
    assert_eq!(a["damaged"][0]["cut_short"], true);
    assert_eq!(a["expected_data_blocks"], 202);
    assert_eq!(a["missing_blocks"], 202 - 96);
    assert_eq!(a["missing"][0]["first_seq"], 97);
    assert_eq!(a["missing"][0]["last_seq"], 202);
    assert_eq!(a["missing"][0]["byte_start"], 96 * 496);
    assert_eq!(a["missing"][0]["byte_end"], 100_000);

    let out = seqbox(&["decode", "cut.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was written"));
    assert_eq!(
        names_in(dir.path()),
        ["cut.sbx"],
        "no output and no .part left"
    );
}

#[test]
fn bad_crc_blocks_are_reported_by_sequence_number_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    c[5 * 512 + 100] ^= 0x40;
    c[9 * 512 + 511] ^= 0x01;
    std::fs::write(dir.path().join("bad.sbx"), &c).unwrap();
    let out = seqbox(&["check", "bad.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("damaged block: seq 5 at byte 2560 (0xa00), bad CRC"),
        "{text}"
    );
    assert!(
        text.contains("damaged block: seq 9 at byte 4608 (0x1200), bad CRC"),
        "{text}"
    );

    let out = seqbox(&["decode", "--json", "bad.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let r = &json(&out)["results"][0]["report"];
    assert_eq!(r["status"], "incomplete");
    assert_eq!(r["output"], Value::Null);
    let missing = r["assembly"]["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 2);
    assert_eq!(
        (
            missing[0]["byte_start"].as_u64(),
            missing[0]["byte_end"].as_u64()
        ),
        (Some(4 * 496), Some(5 * 496))
    );
    assert_eq!(
        (
            missing[1]["first_seq"].as_u64(),
            missing[1]["byte_start"].as_u64()
        ),
        (Some(9), Some(8 * 496))
    );
    assert_eq!(names_in(dir.path()), ["bad.sbx"]);
}

#[test]
fn wrong_or_missing_password_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("seqbox/b497.v1.pw-ab.sbx"), dir.path().join("pw.sbx")).unwrap();
    let out = seqbox(&["decode", "pw.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("made with a password"),
        "{}",
        show(&out, dir.path())
    );
    let out = seqbox(&["decode", "--password", "ba", "pw.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong password"),
        "{}",
        show(&out, dir.path())
    );
    assert_eq!(names_in(dir.path()), ["pw.sbx"]);
    let out = seqbox(&["decode", "--password", "ab", "pw.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert_eq!(
        sha256_file(&dir.path().join("b497.bin")),
        sha256_file(&data("seqbox/b497.bin"))
    );
}

#[test]
fn metadata_claiming_a_huge_size_fails_fast_without_a_huge_allocation_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    patch_metadata(&mut c, |m| m.file_size = Some(u64::MAX / 3));
    std::fs::write(dir.path().join("huge.sbx"), &c).unwrap();
    let out = seqbox(&["decode", "--json", "huge.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    // More blocks than 32-bit sequence numbers can count: the metadata itself is damaged
    // (see tests/fuzz_regressions.rs for the sizes that used to overflow).
    let e = json(&out)["results"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let says = format!(
        "the metadata block says the file has {} bytes, more than a version 1 container can hold: the metadata is damaged",
        u64::MAX / 3
    );
    assert!(e.contains(&says), "{}", show(&out, dir.path()));
    assert_eq!(names_in(dir.path()), ["huge.sbx"]);
}

#[test]
fn hostile_stored_names_cannot_leave_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("out/inner")).unwrap();
    let original = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    for (i, (fnm, expected)) in [
        ("../evil.txt", ".._evil.txt"),
        ("/tmp/abs.txt", "_tmp_abs.txt"),
        ("..\\..\\win.txt", ".._.._win.txt"),
        ("nul\0byte.txt", "nul_byte.txt"),
        ("..", "hostile4"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = original.clone();
        patch_metadata(&mut c, |m| m.file_name = Some(fnm.to_string()));
        let name = format!("hostile{i}.sbx");
        std::fs::write(d.join(&name), &c).unwrap();
        let out = seqbox(&["decode", "-o", "out/inner", &name], d, &[]);
        assert_eq!(out.status.code(), Some(0), "{fnm:?}: {}", show(&out, d));
        let written = d.join("out/inner").join(expected);
        assert_eq!(
            sha256_file(&written),
            sha256_file(&data("seqbox/r100k.bin")),
            "{fnm:?}"
        );
        std::fs::remove_file(written).unwrap();
    }
    assert!(
        names_in(&d.join("out")) == ["inner"],
        "nothing escaped into out/"
    );
    assert!(names_in(&d.join("out/inner")).is_empty());
    assert!(!d.join("evil.txt").exists() && !Path::new("/tmp/abs.txt").exists());
}

#[test]
fn existing_outputs_are_refused_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("doc.txt"), b"version one").unwrap();
    std::fs::write(d.join("doc.txt.sbx"), b"precious, not a container").unwrap();
    let out = seqbox(&["encode", "doc.txt"], d, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read(d.join("doc.txt.sbx")).unwrap(),
        b"precious, not a container"
    );
    let out = seqbox(&["encode", "--overwrite", "doc.txt"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));

    std::fs::write(d.join("doc.txt"), b"edited since").unwrap();
    let out = seqbox(&["decode", "doc.txt.sbx"], d, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, d));
    assert_eq!(std::fs::read(d.join("doc.txt")).unwrap(), b"edited since");
    let out = seqbox(&["decode", "--overwrite", "doc.txt.sbx"], d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, d));
    assert_eq!(std::fs::read(d.join("doc.txt")).unwrap(), b"version one");
    assert_eq!(
        names_in(d),
        ["doc.txt", "doc.txt.sbx"],
        "no .part left behind"
    );
}

#[test]
fn a_hash_mismatch_fails_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    // Change data in block 3 and give it a valid CRC: only the hash can notice.
    c[3 * 512 + 40] ^= 0xFF;
    let uid: [u8; 6] = c[6..12].try_into().unwrap();
    write_header(&mut c[3 * 512..4 * 512], Version::V1, &uid, 3);
    std::fs::write(dir.path().join("forged.sbx"), &c).unwrap();
    let out = seqbox(&["check", "forged.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let out = seqbox(&["decode", "--json", "forged.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let r = &json(&out)["results"][0]["report"];
    assert_eq!(r["status"], "hash_mismatch");
    assert_eq!(r["assembly"]["hash"]["result"], "mismatch");
    assert_eq!(
        r["assembly"]["hash"]["expected"],
        "d2a14dbfb103fdd5546a17aa3a17fda83af33d0f3a3442f904f2bce7f152f786"
    );
    assert_eq!(names_in(dir.path()), ["forged.sbx"]);
}

#[test]
fn shuffled_blocks_duplicates_and_trailing_junk_still_decode_verified() {
    let dir = tempfile::tempdir().unwrap();
    let c = std::fs::read(data("seqbox/r100k.v2.sbx")).unwrap();
    let mut blocks: Vec<&[u8]> = c.chunks(128).collect();
    let meta = blocks.remove(0);
    blocks.reverse();
    blocks.swap(3, 300);
    let mut image = meta.to_vec();
    for (i, b) in blocks.iter().enumerate() {
        if i == 100 {
            // A duplicate inside the container pushes its last block past the end the
            // metadata gives: that block must still be found.
            image.extend_from_slice(blocks[10]);
        }
        image.extend_from_slice(b);
    }
    image.extend_from_slice(&noise(1000, 9));
    std::fs::write(dir.path().join("mixed.sbx"), &image).unwrap();
    let out = seqbox(
        &["decode", "--json", "-o", "r100k.bin", "mixed.sbx"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let r = &json(&out)["results"][0]["report"];
    assert_eq!(r["assembly"]["reordered"], true);
    assert_eq!(r["assembly"]["duplicate_blocks"], 1);
    assert_eq!(
        sha256_file(&dir.path().join("r100k.bin")),
        sha256_file(&data("seqbox/r100k.bin"))
    );
}

#[test]
fn names_too_long_for_a_v2_block_are_shortened_not_overflowed() {
    let dir = tempfile::tempdir().unwrap();
    let name = "Ein sehr langer Dateiname für Version zwei – größer als dreißig Bytes.txt";
    std::fs::write(dir.path().join(name), b"x").unwrap();
    let out = seqbox(
        &[
            "encode",
            "--json",
            "--sbx-version",
            "2",
            "-o",
            "long.sbx",
            name,
        ],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert!(
        json(&out)["results"][0]["report"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("shortened")
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("long.sbx"))
            .unwrap()
            .len(),
        256
    );
    std::fs::create_dir(dir.path().join("back")).unwrap();
    let out = seqbox(
        &["decode", "--json", "-o", "back", "long.sbx"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let back = names_in(&dir.path().join("back"));
    assert!(
        back[0].ends_with(".txt") && name.starts_with(back[0].trim_end_matches(".txt")),
        "{back:?}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("back").join(&back[0])).unwrap(),
        b"x"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // `seqbox info --json … | head -c 1`: the reader goes away after one byte, long before
    // the output (far more than a pipe holds) is written.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("f.bin");
    std::fs::write(&input, vec![7u8; 2_000]).unwrap();
    let encoded = seqbox(&["encode", input.to_str().unwrap()], dir.path(), &[]);
    assert!(encoded.status.success());
    let sbx = dir.path().join("f.bin.sbx");
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqbox"))
        .arg("info")
        .arg("--json")
        .args(std::iter::repeat_n(&sbx, 3000))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe is dropped
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "no panic exit");
}
