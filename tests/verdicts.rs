//! One verdict vocabulary and one exit-code rule for decode, check, repair and recover,
//! through the real binary: the words, the JSON verdicts and the exit code always agree.
//! (Issue 11, defects 4 and 5.)

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `seqbox encode ARGS -o OUT FILE` holding `data`, returning OUT's bytes.
fn encode(dir: &Path, name: &str, data: &[u8], args: &[&str]) -> Vec<u8> {
    std::fs::write(dir.join(name), data).unwrap();
    let out = format!("{name}.sbx");
    let mut all = vec!["encode"];
    all.extend(args);
    all.extend(["-o", &out, name]);
    let o = seqbox(&all, dir, &[("SOURCE_DATE_EPOCH", "1700000000")]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, dir));
    std::fs::remove_file(dir.join(name)).unwrap();
    std::fs::read(dir.join(out)).unwrap()
}

/// Defect 4: one password container in a catalogue must not stop the others from coming back.
#[test]
fn a_container_that_needs_its_password_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut plain = noise(3000, 1);
    plain.extend(std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap());
    plain.extend(noise(2000, 2));
    std::fs::write(d.join("plain.img"), &plain).unwrap();
    let mut locked = noise(5000, 3);
    locked.extend(std::fs::read(data("seqbox/r100k.v1.pw-chbs.sbx")).unwrap());
    std::fs::write(d.join("locked.img"), &locked).unwrap();
    let o = seqbox(&["scan", "--catalog", "c.sqlite", "plain.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = seqbox(
        &[
            "scan",
            "--catalog",
            "c.sqlite",
            "--password",
            "correct-horse-battery-staple",
            "locked.img",
        ],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));

    let o = seqbox(
        &[
            "recover",
            "--catalog",
            "c.sqlite",
            "--all",
            "--out",
            "out",
            "--json",
        ],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    let doc = json(&o);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["summary"], "1 of 2 files safe; 1 needs its password.");
    let verdicts: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["safe_verified", "needs_password"]);
    assert_eq!(
        std::fs::read(d.join("out/r100k.bin")).unwrap(),
        std::fs::read(data("seqbox/r100k.bin")).unwrap(),
        "the plain container is recovered bit-exact"
    );
    assert_eq!(
        std::fs::read_dir(d.join("out")).unwrap().count(),
        1,
        "nothing written for the locked one"
    );

    // The text says the same as the JSON and the exit code.
    let o = seqbox(
        &["recover", "--catalog", "c.sqlite", "--out", "out2"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let text = stdout(&o);
    assert!(
        text.starts_with("1 of 2 files safe; 1 needs its password."),
        "{text}"
    );
    assert!(
        text.contains("needs its password — it was stored with a password"),
        "{text}"
    );
}

/// Defect 5: a complete container made with `--no-meta` is safe for recover (exit 0, said in
/// a note), as it is for decode and check.
#[test]
fn a_complete_no_meta_container_is_safe_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let payload = noise(20_000, 9);
    let c = encode(d, "nm.bin", &payload, &["--sbx-version", "1", "--no-meta"]);
    let decoded_len = c.len() / 512 * 496;

    let o = seqbox(
        &["decode", "--json", "-o", "back.bin", "nm.bin.sbx"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert_eq!(json(&o)["results"][0]["verdict"], "safe_verified");
    let back = std::fs::read(d.join("back.bin")).unwrap();
    assert_eq!(back.len(), decoded_len, "no size stored: the padding stays");
    assert_eq!(back[..payload.len()], payload[..]);

    let o = seqbox(&["check", "nm.bin.sbx"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(
        stdout(&o).contains(
            "nm.bin.sbx: safe — verified — every block is present and valid (no hash stored)"
        ),
        "{}",
        stdout(&o)
    );

    // Two containers on one image, one of them without metadata: both safe, exit 0.
    let mut img = noise(1024, 4);
    img.extend(&c);
    img.extend(std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap());
    std::fs::write(d.join("disk.img"), &img).unwrap();
    let o = seqbox(&["scan", "--catalog", "c.sqlite", "disk.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = seqbox(
        &["recover", "--catalog", "c.sqlite", "--out", "out"],
        d,
        &[],
    );
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert!(text.starts_with("All 2 files safe."), "{text}");
    assert!(text.contains("no hash is stored"), "{text}");
}

/// Defect 5: a v1 container whose metadata block is lost is not "complete": its size and
/// hash are unknown, the padding is kept. Decode and check say so and exit 2.
#[test]
fn a_container_that_lost_its_metadata_is_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    c[..512].fill(0);
    std::fs::write(d.join("lost.sbx"), &c).unwrap();
    let o = seqbox(&["decode", "--json", "-o", "x.bin", "lost.sbx"], d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    let doc = json(&o);
    assert_eq!(doc["results"][0]["verdict"], "not_verified");
    assert!(
        doc["results"][0]["words"]
            .as_str()
            .unwrap()
            .contains("its metadata block is lost, so the file's size and hash are unknown"),
        "{doc}"
    );
    let o = seqbox(&["check", "lost.sbx"], d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    assert!(stdout(&o).contains("lost.sbx: not verified — its metadata block is lost"));

    // v17 without any metadata copy: the same.
    let mut c = std::fs::read(data("blkar/r100k.v17-d4p2b0.ecsbx")).unwrap();
    for k in 0..3 {
        c[k * 512..k * 512 + 512].fill(0);
    }
    std::fs::write(d.join("lost17.ecsbx"), &c).unwrap();
    let o = seqbox(&["check", "--json", "lost17.ecsbx"], d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    assert_eq!(json(&o)["results"][0]["verdict"], "not_verified");
}

/// Defect 5: Check and Decode never disagree. A v17 container with damage its parity covers:
/// check says "damaged but all data safe (repairable)" and exits 0, decode restores it
/// bit-exact ("safe after repair", exit 0), repair makes it clean.
#[test]
fn check_and_decode_agree_on_a_repairable_container() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = std::fs::read(data("blkar/r100k.bin")).unwrap();
    let mut c = std::fs::read(data("blkar/r100k.v17-default.ecsbx")).unwrap();
    c[600] ^= 1;
    c[40 * 512 + 77] ^= 0x10;
    std::fs::write(d.join("hurt.ecsbx"), &c).unwrap();

    let o = seqbox(&["check", "--json", "hurt.ecsbx"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let doc = json(&o);
    assert_eq!(doc["results"][0]["verdict"], "damaged_repairable");
    assert_eq!(doc["ok"], true);
    let o = seqbox(&["check", "hurt.ecsbx"], d, &[]);
    assert!(
        stdout(&o).contains(
            "hurt.ecsbx: damaged but all data safe (repairable) — 2 blocks damaged or missing"
        ),
        "{}",
        stdout(&o)
    );

    let o = seqbox(
        &["decode", "--json", "-o", "back.bin", "hurt.ecsbx"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert_eq!(json(&o)["results"][0]["verdict"], "safe_after_repair");
    assert_eq!(std::fs::read(d.join("back.bin")).unwrap(), original);

    let o = seqbox(
        &["repair", "--json", "-o", "fixed.ecsbx", "hurt.ecsbx"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert_eq!(json(&o)["results"][0]["verdict"], "safe_after_repair");
    let o = seqbox(&["check", "--json", "fixed.ecsbx"], d, &[]);
    assert_eq!(json(&o)["results"][0]["verdict"], "safe_verified");
    assert_eq!(
        std::fs::read(d.join("fixed.ecsbx")).unwrap(),
        std::fs::read(data("blkar/r100k.v17-default.ecsbx")).unwrap()
    );
}

/// The summary line of a multi-container command says what the exit code says.
#[test]
fn the_summary_line_and_the_exit_code_agree() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(data("seqbox/r100k.v1.sbx"), d.join("good.sbx")).unwrap();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    c.truncate(100 * 512);
    std::fs::write(d.join("cut.sbx"), &c).unwrap();
    let o = seqbox(&["check", "good.sbx", "cut.sbx"], d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    let text = stdout(&o);
    assert!(
        text.trim_end()
            .ends_with("1 of 2 containers safe; 1 incomplete."),
        "{text}"
    );
    // Exactly what is missing: blocks 100.. of 202, i.e. bytes 99·496 to the end.
    assert!(
        text.contains("cut.sbx: incomplete — 49.7 KiB missing (bytes 49104–99999)"),
        "{text}"
    );
    let o = seqbox(&["check", "good.sbx", "good.sbx"], d, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).trim_end().ends_with("All 2 containers safe."));
}

/// Recover of a v1 container whose metadata block was erased on the disk: the slot before
/// its block 1 is zeros, so its metadata is lost (size and hash unknown) — not verified, exit
/// 2 — while the same blocks behind other data read as a container made without metadata.
#[test]
fn recover_tells_erased_metadata_from_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut c = std::fs::read(data("seqbox/r100k.v1.sbx")).unwrap();
    c[..512].fill(0);
    let mut img = noise(4096, 7);
    img.extend(&c);
    std::fs::write(d.join("erased.img"), &img).unwrap();
    let o = seqbox(&["scan", "--catalog", "e.sqlite", "erased.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = seqbox(
        &["recover", "--catalog", "e.sqlite", "--out", "out", "--json"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, d));
    let doc = json(&o);
    assert_eq!(doc["items"][0]["verdict"], "not_verified", "{doc}");
    assert!(
        doc["items"][0]["line"]
            .as_str()
            .unwrap()
            .contains("its metadata block is lost"),
        "{doc}"
    );
}

/// Two encodings of a file with one UID on one disk (an edited file re-encoded with its old
/// UID, the older container not yet overwritten): recover gives the newest, from the blocks
/// lying where its metadata puts them, and names the other — never the older one silently.
#[test]
fn of_two_encodings_with_one_uid_the_newest_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = noise(30_000, 21);
    let mut new = old.clone();
    new[1000..1100].fill(b'N');
    let enc = |name: &str, bytes: &[u8], epoch: &str| {
        std::fs::write(d.join(name), bytes).unwrap();
        let out = format!("{name}.sbx");
        let o = seqbox(
            &[
                "encode",
                "--sbx-version",
                "1",
                "--uid",
                "0badc0ffee01",
                "-o",
                &out,
                name,
            ],
            d,
            &[("SOURCE_DATE_EPOCH", epoch)],
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
        std::fs::read(d.join(out)).unwrap()
    };
    let older = enc("report.txt", &old, "1600000000");
    std::fs::remove_file(d.join("report.txt.sbx")).unwrap();
    let newer = enc("report.txt", &new, "1700000000");
    // The older container first on the disk: found first, as likely as not.
    let mut img = older.clone();
    img.extend(noise(5000, 3));
    img.extend(&newer);
    std::fs::write(d.join("two.img"), &img).unwrap();
    let o = seqbox(&["scan", "--catalog", "t.sqlite", "two.img"], d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    let o = seqbox(
        &["recover", "--catalog", "t.sqlite", "--out", "out", "--json"],
        d,
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o, d));
    assert_eq!(std::fs::read(d.join("out/report.txt")).unwrap(), new);
    let doc = json(&o);
    let notes = doc["report"]["results"][0]["notes"].to_string();
    assert!(
        notes.contains("1 other encoding(s) of this file share its UID (30000 bytes, encoded 2020-09-13T12:26:40Z); the newest, encoded 2023-11-14T22:13:20Z, was recovered"),
        "{notes}"
    );
}
