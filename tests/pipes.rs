//! Pipes through the real binary: `seqbox encode -o OUT.sbx -` reads standard input (size and
//! hash stored when it ends, the name empty or given with `--name`), and `decode -o -` writes
//! the file to standard output.

mod common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Run the binary in `cwd` with `input` on its standard input.
fn seqbox_fed(args: &[&str], cwd: &Path, input: &[u8], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seqbox"));
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("SEQBOX_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run seqbox");
    let mut stdin = child.stdin.take().expect("a pipe");
    let data = input.to_vec();
    // Written from a thread so a child that stops reading early cannot deadlock the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for seqbox");
    writer.join().unwrap();
    out
}

fn info(container: &Path, dir: &Path) -> Value {
    let out = seqbox(&["info", "--json", container.to_str().unwrap()], dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["results"][0]["report"].clone()
}

/// The file a container holds, decoded to standard output.
fn decoded(container: &Path, dir: &Path) -> Vec<u8> {
    let out = seqbox(
        &["decode", "-o", "-", container.to_str().unwrap()],
        dir,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir));
    out.stdout
}

#[test]
fn a_pipe_is_encoded_with_its_size_and_hash_and_no_name() {
    let dir = tempfile::tempdir().unwrap();
    // Several encoder batches, and not a whole number of blocks or block sets.
    let data = noise(9 * 1024 * 1024 + 777, 41);
    for version in ["17", "1", "19"] {
        let out = seqbox_fed(
            &[
                "encode",
                "--sbx-version",
                version,
                "-o",
                "piped.sbx",
                "--overwrite",
                "-",
            ],
            dir.path(),
            &data,
            &[],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "v{version}: {}",
            show(&out, dir.path())
        );
        let c = dir.path().join("piped.sbx");
        let meta = &info(&c, dir.path())["metadata"];
        assert_eq!(meta["file_size"], data.len() as u64, "v{version}: {meta}");
        assert_eq!(meta["hash"], sha256_hex(&data), "v{version}: {meta}");
        assert_eq!(meta["file_name"], Value::Null, "v{version}: {meta}");
        assert_eq!(meta["file_time"], Value::Null, "v{version}: {meta}");
        assert_eq!(
            sha256_hex(&decoded(&c, dir.path())),
            sha256_hex(&data),
            "v{version}"
        );
        let check = seqbox(&["check", c.to_str().unwrap()], dir.path(), &[]);
        assert_eq!(check.status.code(), Some(0), "{}", show(&check, dir.path()));
    }
}

#[test]
fn a_pipe_gives_the_same_blocks_as_the_file_and_takes_its_name_from_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(3 * 1024 * 1024 + 5, 42);
    std::fs::write(dir.path().join("photos.tar"), &data).unwrap();
    let same = [("SOURCE_DATE_EPOCH", "1700000000")];
    let common = ["encode", "--sbx-version", "1", "--uid", "0a0b0c0d0e0f"];
    let from_file = seqbox(
        &[&common[..], &["-o", "file.sbx", "photos.tar"]].concat(),
        dir.path(),
        &same,
    );
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        show(&from_file, dir.path())
    );
    let piped = seqbox_fed(
        &[
            &common[..],
            &["--name", "photos.tar", "-o", "pipe.sbx", "-"],
        ]
        .concat(),
        dir.path(),
        &data,
        &same,
    );
    assert_eq!(piped.status.code(), Some(0), "{}", show(&piped, dir.path()));
    let a = std::fs::read(dir.path().join("file.sbx")).unwrap();
    let b = std::fs::read(dir.path().join("pipe.sbx")).unwrap();
    // Every data block is the same; only block 0 (the metadata: no file date for a pipe,
    // and the container's own name) differs.
    assert_eq!(a.len(), b.len());
    assert!(a[512..] == b[512..], "data blocks differ");
    let meta = &info(&dir.path().join("pipe.sbx"), dir.path())["metadata"];
    assert_eq!(meta["file_name"], "photos.tar", "{meta}");
    assert_eq!(meta["file_time"], Value::Null, "{meta}");
    // Decoded into a folder, the file takes the name given.
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = seqbox(
        &["decode", "-o", out_dir.to_str().unwrap(), "pipe.sbx"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert_eq!(std::fs::read(out_dir.join("photos.tar")).unwrap(), data);
}

#[test]
fn an_empty_pipe_makes_a_container_of_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = seqbox_fed(&["encode", "-o", "empty.sbx", "-"], dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let c = dir.path().join("empty.sbx");
    assert_eq!(info(&c, dir.path())["metadata"]["file_size"], 0);
    assert_eq!(decoded(&c, dir.path()), Vec::<u8>::new());
}

#[test]
fn a_pipe_needs_a_named_output_and_never_replaces_a_file_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(100_000, 43);
    // No -o: nowhere to put it.
    let out = seqbox_fed(&["encode", "-"], dir.path(), &data, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out, dir.path()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-o OUT.sbx"));
    // `-` with another input.
    std::fs::write(dir.path().join("a"), b"a").unwrap();
    let out = seqbox_fed(
        &["encode", "-o", dir.path().to_str().unwrap(), "a", "-"],
        dir.path(),
        &data,
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out, dir.path()));
    // A folder but no name to make the output's from.
    let out = seqbox_fed(
        &["encode", "-o", dir.path().to_str().unwrap(), "-"],
        dir.path(),
        &data,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--name"),
        "{}",
        show(&out, dir.path())
    );
    // ... with --name, the output is NAME.sbx in that folder.
    let out = seqbox_fed(
        &[
            "encode",
            "--name",
            "b.bin",
            "-o",
            dir.path().to_str().unwrap(),
            "-",
        ],
        dir.path(),
        &data,
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert_eq!(decoded(&dir.path().join("b.bin.sbx"), dir.path()), data);
    // An existing output stays as it was.
    std::fs::write(dir.path().join("keep.sbx"), b"precious").unwrap();
    let out = seqbox_fed(&["encode", "-o", "keep.sbx", "-"], dir.path(), &data, &[]);
    assert_ne!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert_eq!(
        std::fs::read(dir.path().join("keep.sbx")).unwrap(),
        b"precious"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".tmp") && !n.contains(".part")),
        "a temporary file was left: {names:?}"
    );
}

#[test]
fn decode_to_standard_output_gives_only_verified_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(200_000, 44);
    std::fs::write(dir.path().join("f.bin"), &data).unwrap();
    let out = seqbox(
        &["encode", "--sbx-version", "1", "-o", "f.sbx", "f.bin"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let c = dir.path().join("f.sbx");
    // Verified: the bytes on standard output, the words on standard error.
    let out = seqbox(&["decode", "-o", "-", "f.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert!(out.stdout == data, "standard output is not the file");
    let words = String::from_utf8_lossy(&out.stderr);
    assert!(words.contains("written to standard output"), "{words}");
    // No file named "-" (or anything else) appears.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["f.bin", "f.sbx"]);
    // A data block changed, its CRC made right again: every block reads, the hash fails,
    // and nothing reaches standard output.
    let mut bytes = std::fs::read(&c).unwrap();
    bytes[512 * 7 + 100] ^= 0x55;
    let uid: [u8; 6] = bytes[6..12].try_into().unwrap();
    seqbox::format::block::write_header(
        &mut bytes[512 * 7..512 * 8],
        seqbox::format::Version::V1,
        &uid,
        7,
    );
    std::fs::write(&c, &bytes).unwrap();
    let out = seqbox(&["decode", "-o", "-", "f.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    assert!(
        out.stdout.is_empty(),
        "{} bytes reached standard output",
        out.stdout.len()
    );
    let words = String::from_utf8_lossy(&out.stderr);
    assert!(words.contains("does not match its stored hash"), "{words}");
    // A block lost: incomplete, nothing written either.
    bytes[512 * 9..512 * 10].fill(0);
    std::fs::write(&c, &bytes).unwrap();
    let out = seqbox(&["decode", "-o", "-", "f.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    assert!(out.stdout.is_empty());
    // -o - takes one container and no --json.
    let out = seqbox(&["decode", "--json", "-o", "-", "f.sbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out, dir.path()));
}
