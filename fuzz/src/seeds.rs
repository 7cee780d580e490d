//! Seed inputs the targets write for themselves (fuzz/seeds.sh runs each target once with
//! `SEQBOX_FUZZ_WRITE_SEEDS=DIR`): small containers of every version, damaged ones, disk
//! images holding several containers, rs_repair recipes, and catalogues of real scans.
//!
//! Everything is deterministic (fixed UIDs, dates, contents): the same seeds every run.

use crate::{never, noise, quiet};
use seqbox::engine::encode::{self, EncodeOpts, RsParams, Target};
use seqbox::engine::scan::{self, ScanOpts};
use seqbox::format::Version;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

/// The environment variable that turns a target's start-up into seed writing.
pub const ENV: &str = "SEQBOX_FUZZ_WRITE_SEEDS";

/// Called from each target's `init`: when [`ENV`] names a folder, write this target's seeds
/// into `FOLDER/<target>/` and exit.
pub fn write_if_asked(target: &str) {
    let Some(dir) = std::env::var_os(ENV) else {
        return;
    };
    let dir = PathBuf::from(dir).join(target);
    std::fs::create_dir_all(&dir).expect("seed folder");
    let seeds = match target {
        "block_header" => block_header(),
        "container_decode" => containers(),
        "scan" => images(),
        "rs_repair" => recipes(),
        "catalog_open" => catalogues(),
        "ext4" => patch_lists(),
        "fat" => fat_patch_lists(),
        "ntfs" => ntfs_patch_lists(),
        _ => Vec::new(),
    };
    for (name, bytes) in &seeds {
        std::fs::write(dir.join(name), bytes).expect("seed file");
    }
    eprintln!(
        "{target}: {} seed(s) written to {}",
        seeds.len(),
        dir.display()
    );
    std::process::exit(0);
}

/// What one container is made of.
#[derive(Clone, Copy)]
pub struct Spec {
    pub version: Version,
    pub rs: (usize, usize, u32),
    pub len: usize,
    pub seed: u64,
    pub password: Option<&'static str>,
    pub no_meta: bool,
    pub uid: [u8; 6],
}

impl Spec {
    pub fn new(version: Version, len: usize, seed: u64) -> Spec {
        Spec {
            version,
            rs: (4, 2, 0),
            len,
            seed,
            password: None,
            no_meta: false,
            uid: [0x5E, 0xED, 0, 0, (seed >> 8) as u8, seed as u8],
        }
    }
}

/// Encode `spec` (in a scratch folder) and return the container's bytes.
pub fn container(spec: Spec) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp folder");
    let input = dir.path().join(format!("file-{}.bin", spec.seed));
    std::fs::write(&input, noise(spec.len, spec.seed)).expect("input");
    // The file's date goes into the metadata (FDT): fixed, so the seeds are too.
    std::fs::File::options()
        .write(true)
        .open(&input)
        .and_then(|f| f.set_modified(UNIX_EPOCH + Duration::from_secs(1_600_000_000)))
        .expect("input date");
    let out = dir.path().join("c.sbx");
    let mut o = EncodeOpts::new(&input);
    o.output = Target::File(out.clone());
    o.version = spec.version;
    o.rs = RsParams {
        data: spec.rs.0,
        parity: spec.rs.1,
        burst: spec.rs.2,
    };
    o.uid = Some(spec.uid);
    o.no_meta = spec.no_meta;
    o.password = spec.password.map(str::to_string);
    o.sbx_time = Some(1_700_000_000);
    encode::run(&o, &never(), &quiet).expect("seed container");
    std::fs::read(out).expect("seed container bytes")
}

fn block_header() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for v in [Version::V1, Version::V2, Version::V3, Version::V17] {
        let c = container(Spec::new(v, 700, 1));
        let bs = v.block_size();
        out.push((format!("meta-v{}", v.byte()), c[..bs].to_vec()));
        out.push((format!("data-v{}", v.byte()), c[bs..2 * bs].to_vec()));
        // The metadata payload alone, as Metadata::parse sees it.
        out.push((format!("payload-v{}", v.byte()), c[16..bs].to_vec()));
    }
    out
}

/// Containers of every version and shape, intact and damaged.
fn containers() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut add = |name: &str, spec: Spec| out.push((name.to_string(), container(spec)));
    add("v1", Spec::new(Version::V1, 3000, 2));
    add("v2", Spec::new(Version::V2, 900, 3));
    add("v3", Spec::new(Version::V3, 9000, 4));
    add("v1-empty", Spec::new(Version::V1, 0, 5));
    add(
        "v1-nometa",
        Spec {
            no_meta: true,
            ..Spec::new(Version::V1, 2000, 6)
        },
    );
    add(
        "v1-password",
        Spec {
            password: Some("fuzz"),
            ..Spec::new(Version::V1, 1500, 7)
        },
    );
    add("v17", Spec::new(Version::V17, 5000, 8));
    add(
        "v17-b3",
        Spec {
            rs: (3, 2, 3),
            ..Spec::new(Version::V17, 6000, 9)
        },
    );
    add(
        "v18-b1",
        Spec {
            rs: (2, 1, 1),
            ..Spec::new(Version::V18, 1200, 10)
        },
    );
    add(
        "v19",
        Spec {
            rs: (2, 1, 0),
            ..Spec::new(Version::V19, 5000, 11)
        },
    );
    add(
        "v17-empty-b2",
        Spec {
            rs: (4, 2, 2),
            ..Spec::new(Version::V17, 0, 12)
        },
    );
    let mut damaged = Vec::new();
    for (name, c) in &out {
        let mut d = c.clone();
        let n = d.len();
        // A bit flip in the second block, and the last 100 bytes gone.
        if n > 600 {
            d[600] ^= 0x10;
            d.truncate(n - 100);
        }
        damaged.push((format!("{name}-damaged"), d));
        // Shifted by 7 bytes (an unaligned copy inside a bigger file).
        let mut s = vec![0u8; 7];
        s.extend_from_slice(c);
        damaged.push((format!("{name}-shifted"), s));
    }
    out.extend(damaged);
    out
}

/// Disk images holding containers among other data; odd last byte = scan with the password.
fn images() -> Vec<(String, Vec<u8>)> {
    let plain = [
        container(Spec::new(Version::V1, 2500, 20)),
        container(Spec {
            rs: (3, 1, 2),
            ..Spec::new(Version::V17, 3000, 21)
        }),
        container(Spec::new(Version::V2, 700, 22)),
    ];
    let hidden = container(Spec {
        password: Some("fuzz"),
        ..Spec::new(Version::V1, 1800, 23)
    });
    let mut a = noise(1000, 24);
    for c in &plain {
        a.extend_from_slice(c);
        a.extend(vec![0u8; 1536]);
        a.extend(noise(333, c.len() as u64));
    }
    a.push(0);
    let mut b = vec![0u8; 4096];
    b.extend_from_slice(&hidden);
    b.extend(noise(99, 25));
    b.push(1);
    // Shuffled blocks of one container: out of order, metadata last.
    let v1 = &plain[0];
    let mut shuffled: Vec<&[u8]> = v1.chunks(512).collect();
    shuffled.rotate_left(1);
    let mut c: Vec<u8> = shuffled.concat();
    c.push(0);
    vec![
        ("mixed".into(), a),
        ("password".into(), b),
        ("shuffled".into(), c),
    ]
}

/// rs_repair recipes: version, M, P, B, hash kind, size (2 bytes LE), seed (4), pad tail,
/// then damage operations of 4 bytes (kind, a, b as 2 bytes LE).
fn recipes() -> Vec<(String, Vec<u8>)> {
    let r = |name: &str, head: [u8; 12], ops: &[[u8; 4]]| {
        let mut v = head.to_vec();
        for o in ops {
            v.extend_from_slice(o);
        }
        (name.to_string(), v)
    };
    vec![
        r(
            "intact-v17",
            [0, 9, 1, 0, 1, 0x10, 0x27, 1, 0, 0, 0, 0],
            &[],
        ),
        r(
            "erase-two",
            [0, 3, 1, 2, 1, 0x00, 0x20, 2, 0, 0, 0, 0],
            &[[0, 0, 5, 0], [0, 0, 9, 0]],
        ),
        r(
            "burst-v18",
            [1, 5, 2, 4, 1, 0x00, 0x30, 3, 0, 0, 0, 0],
            &[[1, 3, 20, 0]],
        ),
        r(
            "flip-v19",
            [2, 1, 1, 0, 0, 0x00, 0x40, 4, 0, 0, 0, 0],
            &[[2, 3, 7, 1]],
        ),
        r(
            "truncate",
            [0, 4, 2, 1, 2, 0x88, 0x13, 5, 0, 0, 0, 0],
            &[[3, 0, 100, 0]],
        ),
        r(
            "swap-stale",
            [0, 2, 2, 3, 1, 0x00, 0x10, 6, 0, 0, 0, 0],
            &[[4, 2, 7, 0], [5, 4, 1, 0]],
        ),
        r(
            "chance-shift",
            [1, 6, 3, 0, 1, 0x00, 0x08, 7, 0, 0, 0, 0],
            &[[6, 1, 3, 0], [7, 5, 0, 0]],
        ),
        r(
            "pad-tail",
            [0, 10, 2, 12, 1, 0xE8, 0x03, 8, 0, 0, 0, 33],
            &[[0, 0, 2, 0]],
        ),
    ]
}

/// ext4 patch lists (the images themselves come from seeds.sh): each base image as it is,
/// and a few patches of its superblock and first inode table block.
fn patch_lists() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = (0..5u8)
        .map(|i| (format!("patch-base-{i}"), vec![i]))
        .collect();
    // s_inodes_count (superblock + 0) = 0xFFFFFFFF; s_log_block_size (+ 24) = 7.
    out.push((
        "patch-sb-inodes".into(),
        vec![0, 0x00, 0x04, 0x00, 3, 0xFF, 0xFF, 0xFF, 0xFF],
    ));
    out.push(("patch-sb-blocksize".into(), vec![0, 0x18, 0x04, 0x00, 0, 7]));
    out
}

/// FAT patch lists over the two FAT12 seed images (see the fat target): each base as it is,
/// a FAT entry that loops back (cluster 3 → 2 in the first FAT), a cluster past the end, and
/// a first FAT whose media byte is gone.
fn fat_patch_lists() -> Vec<(String, Vec<u8>)> {
    vec![
        ("patch-base-0".into(), vec![0]),
        ("patch-base-1".into(), vec![1]),
        // FAT12 entry 3 (bytes 4..6 of the FAT at 512) = 2: 0x002 in the high 12 bits.
        ("patch-fat-loop".into(), vec![0, 0x04, 0x02, 0x00, 1, 0x20, 0x00]),
        ("patch-fat-far".into(), vec![0, 0x04, 0x02, 0x00, 1, 0xF0, 0xFE]),
        ("patch-fat1-media".into(), vec![1, 0x00, 0x02, 0x00, 0, 0x00]),
    ]
}

/// NTFS patch lists over the seed volume (seeds.sh builds it): as it is, and patches of the
/// boot sector's sectors per cluster (13), `$MFT` cluster (48) and record size (64).
fn ntfs_patch_lists() -> Vec<(String, Vec<u8>)> {
    vec![
        ("patch-base".into(), vec![0]),
        ("patch-boot-spc".into(), vec![0, 13, 0, 0, 0, 0xF0]),
        ("patch-boot-mft".into(), vec![0, 48, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1]),
        ("patch-boot-record".into(), vec![0, 64, 0, 0, 0, 0x81]),
    ]
}

/// Catalogues of scans of the fixed catalogue sources (raw-file inputs), and edit lists
/// over the catalogue of all of them (see the catalog_open target for the edit format).
fn catalogues() -> Vec<(String, Vec<u8>)> {
    let sources = catalog_sources::ensure();
    let dir = tempfile::tempdir().expect("temp folder");
    let mut out = vec![(
        "all".to_string(),
        catalogue_of_all_sources(&dir.path().join("all")),
    )];
    for (name, srcs) in [("a-plain", &sources[..1]), ("b-partial", &sources[1..2])] {
        out.push((
            name.to_string(),
            catalogue_of(&dir.path().join(name), &[(srcs, None)]),
        ));
    }
    let int = |v: i64| v.to_le_bytes();
    let edit = |op: u8, table: u8, row: u8, col: u8, value: &[u8]| {
        let mut e = vec![op, table, row, col];
        e.extend_from_slice(value);
        e
    };
    // Tables: 0 source, 1 block_run, 2 metadata, 3 layout_run (columns as listed there).
    out.push(("edit-count".into(), edit(0, 1, 0, 3, &int(1 << 40))));
    out.push(("edit-burst".into(), edit(1, 1, 1, 9, &[0])));
    out.push(("edit-slot".into(), edit(0, 1, 2, 6, &int(i64::MAX))));
    out.push(("edit-size".into(), edit(0, 2, 0, 7, &int(-1))));
    out.push((
        "edit-payload".into(),
        edit(2, 2, 1, 4, &[4, b'F', b'N', b'M', 0xFF]),
    ));
    out.push(("edit-sectors".into(), edit(0, 3, 0, 2, &int(1 << 50))));
    out.push(("edit-source".into(), edit(0, 0, 0, 1, &int(1 << 45))));
    out.push(("edit-delete".into(), edit(3, 2, 0, 0, &[])));
    out
}

/// The catalogue of every catalogue source, as bytes (made in `dir`): `a` and `b` scanned
/// plainly, then `c` with the password `fuzz` (one scan finds only one kind today).
pub fn catalogue_of_all_sources(dir: &Path) -> Vec<u8> {
    let s = catalog_sources::ensure();
    catalogue_of(dir, &[(&s[..2], None), (&s[2..], Some("fuzz"))])
}

/// Scan each group of sources (with its password) into one new catalogue; its bytes.
fn catalogue_of(dir: &Path, scans: &[(&[PathBuf], Option<&str>)]) -> Vec<u8> {
    std::fs::create_dir_all(dir).expect("catalogue folder");
    let cat = dir.join("catalogue.sqlite");
    crate::remove_db(&cat);
    for (sources, password) in scans {
        let opts = ScanOpts {
            sources: sources.to_vec(),
            catalog: cat.clone(),
            password: password.map(str::to_string),
            ..ScanOpts::default()
        };
        scan::run(&opts, &never(), &quiet).expect("seed scan");
    }
    checkpoint(&cat);
    std::fs::read(&cat).expect("catalogue")
}

/// Fold the write-ahead log into the main file, so the file alone is the whole catalogue.
fn checkpoint(db: &Path) {
    let _ = seqbox::engine::catalog::Catalog::open_existing(db);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    assert!(
        !wal.exists()
            || std::fs::metadata(&wal)
                .map(|m| m.len() == 0)
                .unwrap_or(true),
        "the catalogue's write-ahead log was not folded in"
    );
}

/// The sources the catalogue seeds were scanned from, at a fixed path so that mutated
/// catalogues still point at them.
pub mod catalog_sources {
    use super::{Spec, container};
    use crate::noise;
    use seqbox::format::Version;
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// The fixed folder (on tmpfs) holding the sources.
    pub fn dir() -> PathBuf {
        PathBuf::from("/dev/shm/seqbox-fuzz-catalog-sources")
    }

    /// Create the sources if they are not there yet (atomically: several fuzzing processes
    /// may start at once). Returns their paths.
    pub fn ensure() -> Vec<PathBuf> {
        static DONE: OnceLock<Vec<PathBuf>> = OnceLock::new();
        DONE.get_or_init(|| {
            let dir = dir();
            std::fs::create_dir_all(&dir).expect("catalogue sources folder");
            let [a, b, c] = build();
            [("a.img", a), ("b.img", b), ("c.img", c)]
                .into_iter()
                .map(|(name, bytes)| {
                    let p = dir.join(name);
                    if std::fs::read(&p).ok().as_deref() != Some(&bytes[..]) {
                        let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
                        std::fs::write(&tmp, &bytes).expect("catalogue source");
                        std::fs::rename(&tmp, &p).expect("catalogue source in place");
                    }
                    p
                })
                .collect()
        })
        .clone()
    }

    /// Three images: `a` holds three containers (v1, v17 with B = 2, v1 without metadata),
    /// `b` a damaged copy of part of `a` (so recovery has copies to choose between), `c` a
    /// v2 container made with the password "fuzz".
    fn build() -> [Vec<u8>; 3] {
        let parts = [
            container(Spec::new(Version::V1, 3000, 40)),
            container(Spec {
                rs: (3, 2, 2),
                ..Spec::new(Version::V17, 4000, 41)
            }),
            container(Spec {
                no_meta: true,
                ..Spec::new(Version::V1, 1000, 43)
            }),
        ];
        let mut a = noise(777, 44);
        for p in &parts {
            a.extend_from_slice(p);
            a.extend(vec![0u8; 1024]);
        }
        let mut b = vec![0u8; 300];
        b.extend_from_slice(&a[777..777 + parts[0].len() + parts[1].len()]);
        for i in (0..b.len()).step_by(2048) {
            b[i] ^= 0xFF;
        }
        let mut c = noise(300, 45);
        c.extend(container(Spec {
            password: Some("fuzz"),
            ..Spec::new(Version::V2, 600, 42)
        }));
        [a, b, c]
    }
}
