//! Outputs under pressure (issue 11): stored names as long as the file system allows or
//! longer, the output disk filling up, and two recoveries writing into one folder at once.
//! Whatever happens, no final name ever holds anything but the complete, verified file.

mod common;

use common::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, Target};
use seqbox::engine::{CancelFlag, decode, encode};
use seqbox::format::Version;
use seqbox::format::block::block_crc;
use std::path::{Path, PathBuf};

/// A file name of exactly `len` bytes ending in `.bin`, built from `unit` (1–3 byte chars).
fn name_of_len(len: usize, unit: char) -> String {
    let mut stem = String::new();
    while stem.len() + unit.len_utf8() <= len - 4 {
        stem.push(unit);
    }
    while stem.len() < len - 4 {
        stem.push('x');
    }
    format!("{stem}.bin")
}

/// Encode `data` under the file name `name` (stored in FNM) into `dir/c.sbx`.
fn container_named(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    let sbx = dir.join("c.sbx");
    let opts = EncodeOpts {
        output: Target::File(sbx.clone()),
        version: Version::V1,
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::remove_file(&input).unwrap();
    sbx
}

/// Every entry of `dir`, by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn stored_names_up_to_255_bytes_decode_under_their_own_name() {
    let data = noise(5000, 31);
    for (len, unit) in [(244, 'a'), (250, 'é'), (255, '日'), (255, 'z')] {
        let dir = tempfile::tempdir().unwrap();
        let name = name_of_len(len, unit);
        assert_eq!(name.len(), len);
        let sbx = container_named(dir.path(), &name, &data);
        let out_dir = dir.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let mut d = DecodeOpts::new(&sbx);
        d.output = Target::Folder(out_dir.clone());
        let r = decode::run(&d, &CancelFlag::new(), &|_| {})
            .unwrap_or_else(|e| panic!("{len} bytes of {unit}: {e}"));
        assert_eq!(r.status, DecodeStatus::Verified, "{len}");
        assert_eq!(r.output.as_deref(), Some(out_dir.join(&name).as_path()));
        assert!(std::fs::read(out_dir.join(&name)).unwrap() == data);
        assert_eq!(listing(&out_dir), vec![name.clone()], "no .part left");
        assert!(
            r.notes
                .iter()
                .all(|n| !n.contains("shortened") && !n.contains("bytes, longer"))
        );

        // Through the binary, beside the container.
        let o = seqbox(&["decode", "c.sbx"], dir.path(), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
        assert!(std::fs::read(dir.path().join(&name)).unwrap() == data);

        // Encoding it again beside itself: `NAME.sbx` is shortened where it must be.
        let o = seqbox(&["encode", &name, "--json"], dir.path(), &[]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
        let sbx_name = if len + 4 <= 255 {
            format!("{name}.sbx")
        } else {
            seqbox::format::metadata::shorten_name(&format!("{name}.sbx"), 255)
        };
        assert!(sbx_name.len() <= 255 && sbx_name.ends_with(".bin.sbx") == (len + 4 <= 255));
        assert!(
            dir.path().join(&sbx_name).is_file(),
            "{}",
            show(&o, dir.path())
        );
        let notes = String::from_utf8_lossy(&o.stdout).contains("bytes, longer than the 255");
        assert_eq!(notes, len + 4 > 255, "{}", show(&o, dir.path()));
    }
}

/// A container whose stored name is 100 bytes that are not UTF-8: read back, each becomes
/// U+FFFD (3 bytes), a 304-byte name no Linux file system takes.
fn container_with_300_byte_name(dir: &Path, data: &[u8]) -> PathBuf {
    let sbx = container_named(dir, &format!("{}.bin", "h".repeat(100)), data);
    let mut bytes = std::fs::read(&sbx).unwrap();
    let (at, len) = (16 + 4, 104);
    assert_eq!(&bytes[16..20], b"FNM\x68");
    bytes[at..at + 100].fill(0xFF);
    assert_eq!(&bytes[at + 100..at + len], b".bin");
    let crc = block_crc(Version::V1, &bytes[..512]);
    bytes[4..6].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&sbx, bytes).unwrap();
    sbx
}

#[test]
fn a_name_too_long_for_the_file_system_is_shortened_keeping_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let data = noise(3000, 32);
    let sbx = container_with_300_byte_name(dir.path(), &data);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut d = DecodeOpts::new(&sbx);
    d.output = Target::Folder(out_dir.clone());
    let r = decode::run(&d, &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(r.status, DecodeStatus::Verified);
    // 83 whole U+FFFD (249 bytes) + ".bin": cut at a character boundary within 255 bytes.
    let short = format!("{}.bin", "\u{FFFD}".repeat(83));
    assert_eq!(short.len(), 253);
    assert_eq!(r.output.as_deref(), Some(out_dir.join(&short).as_path()));
    assert!(std::fs::read(out_dir.join(&short)).unwrap() == data);
    assert_eq!(listing(&out_dir), vec![short.clone()]);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("304 bytes") && n.contains("255") && n.contains(&short)),
        "{:?}",
        r.notes
    );

    let o = seqbox(&["decode", "c.sbx"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("304 bytes"),
        "{}",
        show(&o, dir.path())
    );
    assert!(std::fs::read(dir.path().join(&short)).unwrap() == data);

    // recover names it the same way, twice over: the second copy's " (1)" fits too.
    std::fs::copy(&sbx, dir.path().join("disk.img")).unwrap();
    let o = seqbox(
        &["scan", "--catalog", "c.sqlite", "disk.img"],
        dir.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
    for _ in 0..2 {
        let o = seqbox(
            &["recover", "--catalog", "c.sqlite", "--out", "rec", "--json"],
            dir.path(),
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir.path()));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let notes = v["report"]["results"][0]["notes"].to_string();
        assert!(notes.contains("304 bytes"), "{v}");
    }
    let second = format!("{} (1).bin", "\u{FFFD}".repeat(82));
    assert_eq!(
        listing(&dir.path().join("rec")),
        vec![second.clone(), short.clone()]
    );
    for n in [&short, &second] {
        assert!(std::fs::read(dir.path().join("rec").join(n)).unwrap() == data);
    }
}

/// Run the real binary with the size of any file it writes limited to `limit` bytes, as on
/// a disk that fills up: SIGXFSZ is ignored, so a write past the limit fails with EFBIG.
fn seqbox_on_a_full_disk(args: &[&str], cwd: &Path, limit: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_seqbox"));
    cmd.args(args).current_dir(cwd);
    // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit).
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run seqbox")
}

/// Files in `dir` (recursively) with their SHA-256, to show nothing changed.
fn fingerprint(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                sha256_file(&e.path()),
            )
        })
        .collect();
    v.sort();
    v
}

/// The full-disk failure a user sees: exit 2 and a message naming the output and the cause.
fn assert_disk_full_error(o: &std::process::Output, dir: &Path, output: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", show(o, dir));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write")
            && err.contains(output)
            && err.contains("the output disk is full"),
        "{}",
        show(o, dir)
    );
}

#[test]
fn a_full_output_disk_fails_clearly_and_leaves_no_output_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = noise(3 << 20, 33);
    std::fs::write(d.join("big.bin"), &data).unwrap();
    let limit = 1 << 20;

    // encode: the container would be 3 MiB.
    let before = fingerprint(d);
    let o = seqbox_on_a_full_disk(&["encode", "big.bin"], d, limit);
    assert_disk_full_error(&o, d, "big.bin.sbx");
    assert_eq!(fingerprint(d), before, "input untouched, nothing left");

    // decode: the container is made without the limit; its output cannot be written.
    let o = seqbox(&["encode", "big.bin", "--sbx-version", "1"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    std::fs::create_dir(d.join("out")).unwrap();
    let before = fingerprint(d);
    let o = seqbox_on_a_full_disk(&["decode", "big.bin.sbx", "-o", "out/big.bin"], d, limit);
    assert_disk_full_error(&o, d, "big.bin");
    assert_eq!(fingerprint(d), before, "container untouched");
    assert!(
        listing(&d.join("out")).is_empty(),
        "{:?}",
        listing(&d.join("out"))
    );

    // recover: a small container fits and comes back whole; the big one cannot be written.
    std::fs::write(d.join("small.txt"), noise(4000, 34)).unwrap();
    let o = seqbox(&["encode", "small.txt", "--sbx-version", "1"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let mut img = std::fs::read(d.join("small.txt.sbx")).unwrap();
    img.extend(std::fs::read(d.join("big.bin.sbx")).unwrap());
    std::fs::write(d.join("disk.img"), &img).unwrap();
    let o = seqbox(&["scan", "--catalog", "c.sqlite", "disk.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let before = fingerprint(d);
    let o = seqbox_on_a_full_disk(
        &["recover", "--catalog", "c.sqlite", "--out", "rec"],
        d,
        limit,
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("File too large"),
        "{}",
        show(&o, d)
    );
    assert_eq!(fingerprint(d), before, "image and catalogue untouched");
    for name in listing(&d.join("rec")) {
        assert!(!name.ends_with(".part"), "{name} left behind");
        assert_eq!(name, "small.txt", "only a complete file has its final name");
        assert!(std::fs::read(d.join("rec").join(&name)).unwrap() == noise(4000, 34));
    }
}

#[test]
fn two_recoveries_into_one_folder_at_once_clobber_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut img = Vec::new();
    let files: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("f{i}.bin"), noise(1 << 20, 40 + i)))
        .collect();
    for (name, data) in &files {
        std::fs::write(d.join(name), data).unwrap();
        let o = seqbox(&["encode", name, "--sbx-version", "1"], d, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
        img.extend(std::fs::read(d.join(format!("{name}.sbx"))).unwrap());
        std::fs::remove_file(d.join(format!("{name}.sbx"))).unwrap();
    }
    std::fs::write(d.join("disk.img"), &img).unwrap();
    let o = seqbox(&["scan", "--catalog", "c.sqlite", "disk.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_seqbox"))
            .args(["recover", "--catalog", "c.sqlite", "--out", "rec"])
            .current_dir(d)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, &d.join("rec")));
    }
    let mut expected: Vec<String> = files
        .iter()
        .flat_map(|(n, _)| [n.clone(), n.replace(".bin", " (1).bin")])
        .collect();
    expected.sort();
    assert_eq!(listing(&d.join("rec")), expected);
    for (name, data) in &files {
        for n in [name.clone(), name.replace(".bin", " (1).bin")] {
            assert!(
                std::fs::read(d.join("rec").join(&n)).unwrap() == *data,
                "{n}"
            );
        }
    }
}
