//! The NTFS reader on volumes built at test time with ntfs-3g (mkntfs, ntfscp): every file's
//! path, size, resident bytes and runs cross-checked against ntfscluster/ntfscat, a file in
//! six fragments, `$MFT`'s own runs, `$Bitmap`, deleted records, a volume inside an MBR
//! partition, and hostile images (torn fixups, runs past the end, loops, truncation).

mod common;

use common::ext4img::payload;
use common::ntfsimg::{
    self, Built, CLUSTER, PHOTO, Record, Run3, build, cat, data_runs, delete, record_of,
    record_pos, record_runs, scribble,
};
use seqbox::engine::CancelFlag;
use seqbox::engine::ntfs::{Data, RunKind, Tree, Volume, open_image, walk};
use std::path::{Path, PathBuf};

fn open(img: &Path) -> Volume {
    Volume::open(open_image(img, None).unwrap()).unwrap()
}

fn tree(img: &Path) -> (Volume, Tree) {
    let v = open(img);
    let t = walk(&v, &CancelFlag::new()).unwrap();
    (v, t)
}

fn as3(runs: &[seqbox::engine::ntfs::Run]) -> Vec<Run3> {
    runs.iter()
        .map(|r| {
            let lcn = if r.kind == RunKind::Sparse {
                -1
            } else {
                r.physical as i64
            };
            (r.logical, lcn, r.len)
        })
        .collect()
}

fn by_path<'a>(t: &'a Tree, p: &str) -> &'a seqbox::engine::ntfs::FileRec {
    t.files
        .values()
        .find(|f| f.paths.iter().any(|x| x == p.as_bytes()))
        .unwrap_or_else(|| panic!("{p} not found in {:?}", t.files))
}

/// The file's bytes read through our runs.
fn read(v: &Volume, f: &seqbox::engine::ntfs::FileRec) -> Vec<u8> {
    match &f.data {
        Data::Resident(b) => b.clone(),
        Data::NonResident { runs, size, .. } => {
            let mut b = v.read_runs(runs, size.div_ceil(CLUSTER) * CLUSTER);
            b.truncate(*size as usize);
            b
        }
    }
}

#[test]
fn every_file_matches_ntfs_3g() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(v.label, "SEQBOXNTFS");
    assert_eq!(v.geo.cluster_size, 4096);
    assert_eq!(t.files.len(), b.files.len(), "{:?}", t.files.keys());
    for (path, content) in &b.files {
        let f = by_path(&t, path);
        assert_eq!(f.record, record_of(&b.img, path), "{path}");
        assert_eq!(f.size, content.len() as u64, "{path}");
        assert_eq!(&read(&v, f), content, "{path}");
        assert_eq!(&cat(&b.img, path), content, "{path}: ntfs-3g disagrees");
        match &f.data {
            Data::Resident(_) => assert!(data_runs(&b.img, path).is_empty(), "{path}"),
            Data::NonResident { runs, .. } => {
                assert_eq!(as3(runs), data_runs(&b.img, path), "{path}")
            }
        }
    }
    assert!(matches!(by_path(&t, "/small.txt").data, Data::Resident(_)));
    let photo = by_path(&t, PHOTO);
    let Data::NonResident { runs, .. } = &photo.data else {
        panic!("photo resident")
    };
    assert_eq!(as3(runs), b.plan);
    assert!(runs.iter().all(|r| r.kind == RunKind::Data));
    // $MFT's own runs, and the structures for the map.
    assert_eq!(as3(&v.mft_runs), record_runs(&b.img, 0, "0x80"));
    let mft = t.structures.iter().find(|s| s.what == "$MFT").unwrap();
    assert_eq!(mft.start, v.geo.mft_lcn * CLUSTER);
    for what in ["$MFTMirr", "$LogFile", "$Bitmap", "$Boot", "$UpCase"] {
        assert!(t.structures.iter().any(|s| s.what == what), "{what}");
    }
    assert_eq!(t.structures[0].start, 0, "boot area first");
    let last = t.structures.last().unwrap();
    assert_eq!(last.what, "backup boot sector");
    assert_eq!(&ntfsimg::read_at(&b.img, last.start, 11)[3..], b"NTFS    ");
    // $Bitmap: the photo's clusters in use, the gaps between them free.
    for &(_, lcn, len) in &b.plan {
        for c in lcn as u64..lcn as u64 + len {
            assert_eq!(v.cluster_in_use(c), Some(true), "cluster {c}");
        }
    }
    assert_eq!(v.cluster_in_use(b.plan[0].1 as u64 - 1), Some(false));
    assert_eq!(v.cluster_in_use(v.geo.clusters), None);
    assert!(t.deleted.is_empty());
    // Through the shared trait: identity for "refuses a different volume".
    let serial = u64::from_le_bytes(ntfsimg::read_at(&b.img, 72, 8).try_into().unwrap());
    let nv = seqbox::engine::fs::ntfs::NtfsVolume::new(v);
    let info = seqbox::engine::fs::Volume::info(&nv);
    assert_eq!(info.uuid, format!("{serial:016X}"));
    assert_eq!(info.features, vec!["ntfs-3.1".to_string()]);
    assert!(info.clean, "mkntfs leaves the volume clean");
    assert_eq!((info.block_size, info.block_origin), (CLUSTER, 0));
}

#[test]
fn a_deleted_record_keeps_its_path_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let n = delete(&b.img, PHOTO);
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert!(!t.files.contains_key(&n));
    let f = &t.deleted[&n];
    assert!(!f.in_use);
    assert_eq!(f.paths, vec![PHOTO.as_bytes().to_vec()]);
    let Data::NonResident { runs, .. } = &f.data else {
        panic!("resident")
    };
    assert_eq!(as3(runs), b.plan);
    assert_eq!(read(&v, f), b.files[PHOTO]);
    assert_eq!(v.cluster_in_use(b.plan[2].1 as u64), Some(false));
}

#[test]
fn hard_links_are_several_paths_and_dos_aliases_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    ntfsimg::add_name(&b.img, PHOTO, "PHOTO~1.JPG", 2);
    ntfsimg::add_name(&b.img, PHOTO, "again.jpg", 1);
    let n = record_of(&b.img, PHOTO);
    // ntfs-3g reads the record with its three names.
    let info = ntfsimg::run(
        std::process::Command::new(ntfsimg::tool("ntfsinfo"))
            .arg("-F")
            .arg(PHOTO)
            .arg(&b.img),
        "ntfsinfo",
    );
    let info = String::from_utf8_lossy(&info);
    for name in ["'photo.jpg'", "'again.jpg'", "'PHOTO~1.JPG'"] {
        assert!(info.contains(name), "{name}: {info}");
    }
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    let f = &t.files[&n];
    assert_eq!(
        f.paths,
        vec![b"/again.jpg".to_vec(), PHOTO.as_bytes().to_vec()]
    );
    assert_eq!(read(&v, f), b.files[PHOTO]);
    // Through the trait: one file, two paths (nlink 2).
    let tree = seqbox::engine::fs::Volume::walk(
        &seqbox::engine::fs::ntfs::NtfsVolume::new(v),
        &CancelFlag::new(),
    )
    .unwrap();
    let rec = tree.files.iter().find(|r| r.id == n).unwrap();
    assert_eq!((rec.paths.len(), rec.nlink), (2, 2));
}

#[test]
fn a_fragmented_mft_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let to = b.plan.iter().map(|r| r.1 as u64 + r.2).max().unwrap() + 20;
    // Records 64 on (the files') then live in the second fragment.
    let runs = ntfsimg::fragment_mft(&b.img, 12, to);
    for (path, content) in &b.files {
        assert_eq!(&cat(&b.img, path), content, "ntfs-3g: {path}");
    }
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(as3(&v.mft_runs), runs);
    assert_eq!(t.files.len(), b.files.len());
    for (path, content) in &b.files {
        assert_eq!(&read(&v, by_path(&t, path)), content, "{path}");
    }
    let mft: Vec<u64> = t
        .structures
        .iter()
        .filter(|s| s.what == "$MFT")
        .map(|s| s.start)
        .collect();
    assert_eq!(mft, vec![runs[0].1 as u64 * CLUSTER, to * CLUSTER]);
}

#[test]
fn data_runs_continued_in_an_extension_record_are_joined() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let n = record_of(&b.img, PHOTO);
    // Runs 3… (from VCN 12) move to record 40, a free (formatted, not in use) slot.
    ntfsimg::split_into_extension(&b.img, PHOTO, &b.plan, 3, 40);
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert!(
        !t.files.contains_key(&40),
        "an extension record is not a file"
    );
    let f = &t.files[&n];
    let Data::NonResident { runs, .. } = &f.data else {
        panic!("resident")
    };
    assert_eq!(as3(runs), b.plan);
    assert_eq!(read(&v, f), b.files[PHOTO]);
}

#[test]
fn a_sparse_run_is_a_hole_read_as_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let n = record_of(&b.img, PHOTO);
    // The third fragment (clusters 7–11) becomes a sparse run in a sparse attribute.
    let mut runs = b.plan.clone();
    runs[2].1 = -1;
    let mut rec = Record::read(&b.img, n);
    rec.set_data_runs(&runs);
    let a = rec.attr(0x80);
    rec.b[a + 0x0D] |= 0x80; // attribute flags: sparse
    let si = rec.attr(0x10);
    let v_off = si + u16::from_le_bytes([rec.b[si + 0x14], rec.b[si + 0x15]]) as usize;
    rec.b[v_off + 0x21] |= 0x02; // file attributes: FILE_ATTRIBUTE_SPARSE_FILE (0x200)
    rec.write(&b.img);
    assert_eq!(data_runs(&b.img, PHOTO), runs, "ntfs-3g reads the hole");
    let mut want = b.files[PHOTO].clone();
    want[7 * CLUSTER as usize..12 * CLUSTER as usize].fill(0);
    assert_eq!(cat(&b.img, PHOTO), want, "ntfs-3g reads zeros there");
    let (v, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    let f = &t.files[&n];
    let Data::NonResident { runs: got, .. } = &f.data else {
        panic!("resident")
    };
    assert_eq!(got[2].kind, RunKind::Sparse);
    assert_eq!(as3(got), runs);
    assert_eq!(read(&v, f), want);
    // Through the trait the hole is a gap between extents.
    let tree = seqbox::engine::fs::Volume::walk(
        &seqbox::engine::fs::ntfs::NtfsVolume::new(v),
        &CancelFlag::new(),
    )
    .unwrap();
    let rec = tree.files.iter().find(|r| r.id == n).unwrap();
    let logical: Vec<u64> = rec.extents.iter().map(|e| e.logical).collect();
    assert_eq!(logical, vec![0, 4, 12, 14, 18]);
}

/// Point the photo's `$FILE_NAME` at record `parent` with sequence number `seq`.
fn set_parent(img: &Path, photo: u64, parent: u64, seq: u16) {
    let mut rec = Record::read(img, photo);
    let a = rec.attr(0x30);
    let v_off = a + u16::from_le_bytes([rec.b[a + 0x14], rec.b[a + 0x15]]) as usize;
    let reference = parent | (u64::from(seq) << 48);
    rec.b[v_off..v_off + 8].copy_from_slice(&reference.to_le_bytes());
    rec.write(img);
}

#[test]
fn paths_follow_parent_directories_and_catch_reused_ones() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let photo = record_of(&b.img, PHOTO);
    // /b.bin's record made a directory (flag 0x02), the photo's name moved under it.
    let folder = record_of(&b.img, "/b.bin");
    let pos = record_pos(&b.img, folder);
    let mut flags = ntfsimg::read_at(&b.img, pos + 22, 2);
    flags[0] |= 2;
    scribble(&b.img, pos + 22, &flags);
    let seq = u16::from_le_bytes(ntfsimg::read_at(&b.img, pos + 16, 2).try_into().unwrap());
    set_parent(&b.img, photo, folder, seq);
    let (_, t) = tree(&b.img);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.files[&photo].paths, vec![b"/b.bin/photo.jpg".to_vec()]);
    assert!(!t.files.contains_key(&folder), "a directory is not a file");
    assert_eq!(t.dirs, 1);
    // The same parent with another sequence number: the folder was deleted and its record
    // reused since — the photo's place is unknown.
    set_parent(&b.img, photo, folder, seq + 1);
    let (_, t) = tree(&b.img);
    let p = t.problems.iter().find(|p| p.ino == photo).unwrap();
    assert!(p.what.contains("was reused"), "{p}");
    assert_eq!(
        t.files[&photo].paths,
        vec![b"/$OrphanFiles/photo.jpg".to_vec()]
    );
}

#[test]
fn times_are_those_ntfs_3g_shows() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let (_, t) = tree(&b.img);
    let info = ntfsimg::run(
        std::process::Command::new(ntfsimg::tool("ntfsinfo"))
            .arg("-F")
            .arg("/a.bin")
            .arg(&b.img),
        "ntfsinfo",
    );
    let info = String::from_utf8_lossy(&info);
    // The first "File Altered Time" is $STANDARD_INFORMATION's (seconds, UTC).
    let shown = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("File Altered Time:"))
        .unwrap()
        .trim()
        .to_string();
    let secs = ntfsimg::run(
        std::process::Command::new("date")
            .args(["-u", "-d", &shown, "+%s"])
            .env("TZ", "UTC"),
        "date",
    );
    let secs: i64 = String::from_utf8_lossy(&secs).trim().parse().unwrap();
    let f = by_path(&t, "/a.bin");
    assert_eq!(f.times.modified.div_euclid(1_000_000_000), secs, "{shown}");
    assert!(f.times.created <= f.times.modified);
}

#[test]
fn a_volume_inside_an_mbr_partition_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let vol = std::fs::read(&b.img).unwrap();
    let mut disk = vec![0u8; 1 << 20];
    let e = &mut disk[446..462];
    e[4] = 0x07;
    e[8..12].copy_from_slice(&2048u32.to_le_bytes());
    e[12..16].copy_from_slice(&((vol.len() / 512) as u32).to_le_bytes());
    disk[510] = 0x55;
    disk[511] = 0xAA;
    disk.extend_from_slice(&vol);
    let img = dir.path().join("disk.img");
    std::fs::write(&img, &disk).unwrap();
    assert_eq!(
        seqbox::engine::fs::image::holds_fs(&img),
        Some(seqbox::engine::fs::image::Kind::Ntfs)
    );
    let v = open(&img);
    assert_eq!(v.image.offset(), 1 << 20);
    let t = walk(&v, &CancelFlag::new()).unwrap();
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(read(&v, by_path(&t, PHOTO)), b.files[PHOTO]);
}

fn copy(b: &Built, name: &str) -> PathBuf {
    let p = b.img.with_file_name(name);
    std::fs::copy(&b.img, &p).unwrap();
    p
}

#[test]
fn hostile_records_are_problems_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let photo = record_of(&b.img, PHOTO);
    let pos = record_pos(&b.img, photo);

    // A torn write: the end of the record's first sector no longer holds the sequence number.
    let img = copy(&b, "torn.img");
    scribble(&img, pos + 510, &[0x12, 0x34]);
    let (_, t) = tree(&img);
    let p = t.problems.iter().find(|p| p.ino == photo).unwrap();
    assert!(p.what.contains("bad fixup"), "{p}");
    assert!(!t.files.contains_key(&photo));
    assert_eq!(
        t.files.len(),
        b.files.len() - 1,
        "the other files are still read"
    );

    // Runs past the end of the volume: cut there, reported.
    let img = copy(&b, "past.img");
    let mut rec = Record::read(&img, photo);
    rec.set_data_runs(&[(0, 6130, 22)]);
    rec.write(&img);
    let (v, t) = tree(&img);
    let p = t.problems.iter().find(|p| p.ino == photo).unwrap();
    assert!(p.what.contains("past the end of the volume"), "{p}");
    let Data::NonResident { runs, .. } = &t.files[&photo].data else {
        panic!("resident")
    };
    assert_eq!(as3(runs), vec![(0, 6130, v.geo.clusters - 6130)]);

    // An attribute length that runs past the record.
    let img = copy(&b, "attr.img");
    let mut rec = Record::read(&img, photo);
    let a = rec.attr(0x30);
    rec.b[a + 4..a + 8].copy_from_slice(&4000u32.to_le_bytes());
    rec.write(&img);
    let (_, t) = tree(&img);
    let p = t.problems.iter().find(|p| p.ino == photo).unwrap();
    assert!(p.what.contains("length 4000"), "{p}");

    // An impossible data size (2^64 − 1 bytes): reported, taken as the allocation.
    let img = copy(&b, "size.img");
    let mut rec = Record::read(&img, photo);
    let a = rec.attr(0x80);
    rec.b[a + 0x30..a + 0x38].copy_from_slice(&u64::MAX.to_le_bytes());
    rec.write(&img);
    let (_, t) = tree(&img);
    let p = t.problems.iter().find(|p| p.ino == photo).unwrap();
    assert!(p.what.contains("impossible $DATA size"), "{p}");
    assert_eq!(t.files[&photo].size, 22 * CLUSTER);

    // A file whose $FILE_NAME names itself as its parent directory: a loop, caught.
    let img = copy(&b, "loop.img");
    let mut rec = Record::read(&img, photo);
    let a = rec.attr(0x30);
    let v_off = a + u16::from_le_bytes([rec.b[a + 0x14], rec.b[a + 0x15]]) as usize;
    let seq = u16::from_le_bytes([rec.b[16], rec.b[17]]);
    let reference = photo | (u64::from(seq) << 48);
    rec.b[v_off..v_off + 8].copy_from_slice(&reference.to_le_bytes());
    rec.write(&img);
    let (_, t) = tree(&img);
    assert!(
        t.problems.iter().any(|p| p.what.contains("loop")),
        "{:?}",
        t.problems
    );
    assert_eq!(
        t.files[&photo].paths,
        vec![b"/$OrphanFiles/photo.jpg".to_vec()]
    );

    // $MFT's own record destroyed: the volume cannot be read, said in words.
    let img = copy(&b, "mft.img");
    let mft0 = record_pos(&img, 0);
    scribble(&img, mft0, &[0u8; 1024]);
    let e = Volume::open(open_image(&img, None).unwrap()).unwrap_err();
    assert!(e.to_string().contains("$MFT record 0"), "{e}");

    // A truncated image: the volume is larger than the file.
    let img = copy(&b, "short.img");
    let f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    f.set_len(16 << 20).unwrap();
    let (_, t) = tree(&img);
    assert!(
        t.problems
            .iter()
            .any(|p| p.what.contains("image holds only")),
        "{:?}",
        t.problems
    );
}

/// Rounds of random damage (`NTFS_DAMAGE_ROUNDS` for a longer local hunt).
fn rounds() -> u64 {
    std::env::var("NTFS_DAMAGE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

#[test]
fn random_damage_to_the_mft_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let mft = record_pos(&b.img, 0) as usize;
    let clean = std::fs::read(&b.img).unwrap();
    let img = dir.path().join("noisy.img");
    let db = dir.path().join("noisy.sqlite");
    for round in 0..rounds() {
        let noise = payload(64, 1000 + round);
        let mut bytes = clean.clone();
        for k in 0..8 {
            let pick = u32::from_le_bytes(noise[k * 4..k * 4 + 4].try_into().unwrap()) as usize;
            // Mostly the first 80 records, sometimes the boot sector.
            let at = if k == 7 && round % 5 == 0 {
                pick % 512
            } else {
                mft + pick % (80 * 1024)
            };
            bytes[at] ^= noise[32 + k] | 1;
        }
        std::fs::write(&img, &bytes).unwrap();
        if let Ok(v) = open_image(&img, None).and_then(Volume::open) {
            let t = walk(&v, &CancelFlag::new()).unwrap();
            for f in t.files.values().chain(t.deleted.values()) {
                if let Data::NonResident { runs, .. } = &f.data {
                    assert!(runs.iter().all(|r| r.physical + r.len <= v.geo.clusters));
                }
            }
        }
        let _ = std::fs::remove_file(&db);
        let _ = seqbox::engine::fs::snapshot::create(
            &seqbox::engine::fs::snapshot::CreateOpts {
                image: img.clone(),
                offset: None,
                out: db.clone(),
                map_only: false,
            },
            &CancelFlag::new(),
            &|_| {},
        );
        assert_eq!(std::fs::read(&img).unwrap(), bytes, "the image was written");
    }
}

#[test]
fn a_compressed_attribute_is_reported_as_compressed_not_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let b = build(dir.path());
    let n = record_of(&b.img, "/b.bin");
    let mut rec = Record::read(&b.img, n);
    let a = rec.attr(0x80);
    rec.b[a + 0x0C] |= 0x01; // attribute flags: compressed
    rec.b[a + 0x22] = 4; // compression unit: 2^4 clusters
    rec.write(&b.img);
    let (_, t) = tree(&b.img);
    let Data::NonResident {
        runs, compressed, ..
    } = &t.files[&n].data
    else {
        panic!("resident")
    };
    assert!(compressed);
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| r.kind == RunKind::Compressed),
        "{runs:?}"
    );
}
