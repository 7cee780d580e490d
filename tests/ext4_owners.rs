//! The block map's "which file is here": owner runs from the live ext4 metadata agree with a
//! snapshot's, and a byte range finds the files that own it.

mod common;

use common::ext4img::{build, variant};
use seqbox::engine::CancelFlag;
use seqbox::engine::ext4::owners::{live_owner_runs, owners_between};
use seqbox::engine::ext4::snapshot::{self, CreateOpts};
use seqbox::engine::ext4::{RunKind, Snapshots};

#[test]
fn live_owners_match_the_snapshot_and_a_range_finds_its_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["e4_4k", "e3_1k"] {
        let b = build(dir.path(), variant(name));
        let live = live_owner_runs(&b.img, &CancelFlag::new()).unwrap();
        let db = dir.path().join(format!("{name}.sqlite"));
        let opts = CreateOpts {
            image: b.img.clone(),
            offset: None,
            out: db.clone(),
            map_only: true,
        };
        snapshot::create(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        let snap = Snapshots::open(&db).unwrap().owner_runs(1).unwrap();
        let key = |r: &seqbox::engine::ext4::OwnerRun| (r.byte_start, r.byte_len, r.path.clone());
        let mut a: Vec<_> = live.iter().map(key).collect();
        let mut s: Vec<_> = snap.iter().map(key).collect();
        a.sort();
        s.sort();
        assert_eq!(a, s, "{name}: live metadata and snapshot agree");
        assert!(live.windows(2).all(|w| w[0].byte_start <= w[1].byte_start));

        // Every byte of the victim's data runs is owned by it, and nothing else is there.
        let victim_runs: Vec<_> = live
            .iter()
            .filter(|r| r.path == b.victim && r.kind == RunKind::Data)
            .collect();
        assert!(victim_runs.len() > 1, "{name}: the victim is fragmented");
        for r in victim_runs {
            let mid = r.byte_start + r.byte_len / 2;
            let found = owners_between(&live, mid, mid + 1, 4);
            assert_eq!(found.len(), 1, "{name}");
            assert_eq!(found[0].path, b.victim);
        }
        assert!(
            owners_between(&live, 0, 1024, 4).is_empty(),
            "the boot area is no file's"
        );
    }
}

#[test]
fn a_snapshot_remembers_its_image_by_absolute_path() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), variant("e4_1k"));
    let name = b.img.file_name().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqbox"))
        .current_dir(dir.path())
        .arg("snapshot")
        .arg("create")
        .arg(name)
        .args(["-o", "rel.sqlite", "--map-only"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = Snapshots::open(&dir.path().join("rel.sqlite"))
        .unwrap()
        .list()
        .unwrap();
    assert_eq!(list[0].image, std::fs::canonicalize(&b.img).unwrap());
}

#[test]
fn a_damaged_file_system_falls_back_to_its_snapshot_for_owners() {
    use seqbox::engine::ext4::owners::{default_snapshot_path, owner_runs};
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path(), variant("e4_4k"));
    let opts = CreateOpts {
        image: b.img.clone(),
        offset: None,
        out: default_snapshot_path(&b.img),
        map_only: true,
    };
    snapshot::create(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    let before = live_owner_runs(&b.img, &CancelFlag::new()).unwrap();
    // The superblock is lost: the live metadata cannot be read any more.
    common::ext4img::scribble(&b.img, 1024, &[0u8; 1024]);
    assert!(live_owner_runs(&b.img, &CancelFlag::new()).is_err());
    let after = owner_runs(&b.img, &CancelFlag::new()).unwrap();
    let key = |r: &seqbox::engine::ext4::OwnerRun| (r.byte_start, r.byte_len, r.path.clone());
    let mut a: Vec<_> = before.iter().map(key).collect();
    let mut s: Vec<_> = after.iter().map(key).collect();
    a.sort();
    s.sort();
    assert_eq!(a, s, "the snapshot knows the same owners");
    // Without a snapshot, the error stands.
    std::fs::remove_file(default_snapshot_path(&b.img)).unwrap();
    assert!(owner_runs(&b.img, &CancelFlag::new()).is_err());
}
