//! What a recovered ext4 file's report says beyond intact/damaged: an encrypted file needs its
//! key; a file edited after the snapshot comes back as the snapshot's version.

mod common;

use common::ext4img::{build, debugfs, variant};
use seqbox::engine::CancelFlag;
use seqbox::engine::ext4::recover::{self, RecoverOpts, Verdict};
use seqbox::engine::ext4::snapshot::{self, CreateOpts};

#[test]
fn encrypted_and_edited_files_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), variant("e4_4k"));
    // Two different files (not two names of one hard-linked inode).
    let big: Vec<(&Vec<u8>, &Vec<u8>)> = b
        .files
        .iter()
        .filter(|(p, data)| **p != b.victim && data.len() > 8192)
        .collect();
    let (s, e) = (big[0], big.iter().find(|(_, d)| *d != big[0].1).unwrap());
    let secret = String::from_utf8(s.0.clone()).unwrap();
    let edited = String::from_utf8(e.0.clone()).unwrap();
    // fscrypt's flag (plus extents): the bytes on disk are what they are, the key is elsewhere.
    debugfs(&b.img, format!("sif {secret} flags 0x80800\n").as_bytes());
    let snap = dir.path().join("s.sqlite");
    let opts = CreateOpts {
        image: b.img.clone(),
        offset: None,
        out: snap.clone(),
        map_only: false,
    };
    snapshot::create(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    // After the snapshot the other file is touched again.
    debugfs(
        &b.img,
        format!("sif {edited} mtime 20250101000000\n").as_bytes(),
    );

    let opts = RecoverOpts {
        snapshot: snap,
        snapshot_id: None,
        image: b.img.clone(),
        offset: None,
        paths: vec![secret.clone().into_bytes(), edited.clone().into_bytes()],
        out_dir: dir.path().join("out"),
        search_moved: false,
        overwrite: false,
    };
    let r = recover::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    let of = |p: &str| r.files.iter().find(|f| f.path == p.as_bytes()).unwrap();
    let s = of(&secret);
    assert_eq!(s.verdict, Verdict::Identical);
    assert!(
        s.reasons.iter().any(|r| r.contains("encrypted")),
        "{:?}",
        s.reasons
    );
    assert!(
        !s.reasons.iter().any(|r| r.contains("changed after")),
        "{:?}",
        s.reasons
    );
    let e = of(&edited);
    assert_eq!(e.verdict, Verdict::Identical);
    assert!(
        e.reasons
            .iter()
            .any(|r| r.contains("changed after the snapshot")),
        "{:?}",
        e.reasons
    );
    assert!(!e.reasons.iter().any(|r| r.contains("encrypted")));
}
