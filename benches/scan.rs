//! Scan and recover throughput (issue #4): a 512 MiB image holding containers (v1 and v17,
//! some at unaligned offsets) between random data and zeros, scanned into a fresh catalogue,
//! against `dd if=IMAGE of=/dev/null bs=1M` on the same image in the same run (the cost of
//! just reading it); then recovery of 256 MiB of containers. Warm page cache, best of 3.
//!
//! Run: `cargo bench --bench scan`. Prints MB/s, ratios and the peak resident memory.

use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::recover::{RecoverOpts, Selection};
use seqbox::engine::scan::ScanOpts;
use seqbox::engine::{CancelFlag, encode, recover, scan};
use seqbox::format::Version;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::{RUNS, best, dd, noise};

fn encode_file(dir: &Path, name: &str, mib: usize, version: Version) -> PathBuf {
    let input = dir.join(name);
    std::fs::write(&input, noise(mib << 20, mib as u64 + version.byte() as u64)).unwrap();
    let out = dir.join(format!("{name}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        rs: RsParams::default(),
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::remove_file(&input).unwrap();
    out
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Scan `image` (up to `to` bytes) into a fresh catalogue in a child process of this bench and
/// return that process's peak resident memory, so nothing else the bench holds counts.
fn child_peak_mib(image: &Path, catalog: &Path, to: u64) -> Option<f64> {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", catalog.display()));
    }
    let out = Command::new(std::env::current_exe().ok()?)
        .env("SEQBOX_SCAN_CHILD", "1")
        .arg(image)
        .arg(catalog)
        .arg(to.to_string())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    if std::env::var_os("SEQBOX_SCAN_CHILD").is_some() {
        let args: Vec<String> = std::env::args().collect();
        let opts = ScanOpts {
            sources: vec![PathBuf::from(&args[1])],
            catalog: PathBuf::from(&args[2]),
            to: args[3].parse().ok(),
            ..Default::default()
        };
        scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        println!("{}", peak_rss_mib().unwrap_or(0.0));
        return;
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let d = dir.path();
    // 128 MiB v1 + 128 MiB v17 of containers in a 512 MiB image.
    let c1 = encode_file(d, "a.bin", 120, Version::V1);
    let c17 = encode_file(d, "b.bin", 100, Version::V17);
    let image = d.join("disk.img");
    {
        let mut f = std::fs::File::create(&image).unwrap();
        f.write_all(&noise(64 << 20, 1)).unwrap();
        f.write_all(&[0u8; 333]).unwrap(); // the v1 container starts unaligned
        f.write_all(&std::fs::read(&c1).unwrap()).unwrap();
        f.write_all(&vec![0u8; 64 << 20]).unwrap();
        f.write_all(&std::fs::read(&c17).unwrap()).unwrap();
        let len = f.metadata().unwrap().len();
        f.write_all(&noise((512 << 20) - len as usize, 2)).unwrap();
    }
    // A second image of the same size where containers are a small part (16 MiB), as on a
    // disk where a few files were protected: mostly signature search, little CRC.
    let c_small = encode_file(d, "c.bin", 15, Version::V17);
    let sparse = d.join("sparse.img");
    {
        let mut f = std::fs::File::create(&sparse).unwrap();
        f.write_all(&noise(200 << 20, 3)).unwrap();
        f.write_all(&[7u8; 777]).unwrap();
        f.write_all(&std::fs::read(&c_small).unwrap()).unwrap();
        let len = f.metadata().unwrap().len();
        f.write_all(&noise((512 << 20) - len as usize, 4)).unwrap();
    }
    let size = std::fs::metadata(&image).unwrap().len();
    let containers = std::fs::metadata(&c1).unwrap().len() + std::fs::metadata(&c17).unwrap().len();
    for img in [&image, &sparse] {
        // Warm the page cache without holding the image in memory.
        use std::io::Read;
        let mut f = std::fs::File::open(img).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        while f.read(&mut buf).unwrap() > 0 {}
    }

    let dd_of = |img: &Path| {
        let (t, ok) = best(|| dd(img));
        assert!(ok, "dd failed");
        t
    };
    let scan_of = |img: &Path, catalog: &Path| {
        best(|| {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", catalog.display()));
            }
            let opts = ScanOpts {
                sources: vec![img.to_path_buf()],
                catalog: catalog.to_path_buf(),
                ..Default::default()
            };
            scan::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
        })
    };
    let dd = dd_of(&image);
    let dd_sparse = dd_of(&sparse);
    let (sc_sparse, sparse_report) = scan_of(&sparse, &d.join("sparse.sqlite"));
    assert_eq!(sparse_report.containers, 1);
    let catalog = d.join("scan.sqlite");
    let (sc, report) = scan_of(&image, &catalog);
    assert_eq!(report.containers, 2);
    let small = child_peak_mib(&image, &d.join("small.sqlite"), 256 << 20);
    let whole = child_peak_mib(&image, &d.join("whole.sqlite"), size);
    let out = d.join("out");
    let (rec, r) = best(|| {
        let _ = std::fs::remove_dir_all(&out);
        let opts = RecoverOpts {
            catalog: catalog.clone(),
            out_dir: out.clone(),
            select: Selection::All,
            partial: false,
            password: None,
        };
        recover::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
    });
    assert!(r.success());
    let mbs = |bytes: u64, t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
    println!(
        "image: {} MiB with {} MiB of SBX containers (v1 unaligned, v17 10+2 B12), warm page cache, best of {RUNS}",
        size >> 20,
        containers >> 20
    );
    println!(
        "dd bs=1M              : {:7.3} s  {:7.0} MB/s  (the limit)",
        dd.as_secs_f64(),
        mbs(size, dd)
    );
    println!(
        "scan                  : {:7.3} s  {:7.0} MB/s  {:.2}x the dd time; {} blocks",
        sc.as_secs_f64(),
        mbs(size, sc),
        sc.as_secs_f64() / dd.as_secs_f64(),
        report.sources[0].blocks
    );
    println!(
        "recover               : {:7.3} s  {:7.0} MB/s of containers ({} files, hash verified)",
        rec.as_secs_f64(),
        mbs(containers, rec),
        r.results.len()
    );
    println!(
        "second image: {} MiB with 15 MiB of containers (v17), mostly random data",
        std::fs::metadata(&sparse).unwrap().len() >> 20
    );
    println!(
        "dd bs=1M              : {:7.3} s  {:7.0} MB/s  (the limit)",
        dd_sparse.as_secs_f64(),
        mbs(size, dd_sparse)
    );
    println!(
        "scan                  : {:7.3} s  {:7.0} MB/s  {:.2}x the dd time; {} blocks",
        sc_sparse.as_secs_f64(),
        mbs(size, sc_sparse),
        sc_sparse.as_secs_f64() / dd_sparse.as_secs_f64(),
        sparse_report.sources[0].blocks
    );
    if let (Some(a), Some(b)) = (small, whole) {
        println!(
            "peak resident memory  : {a:.0} MiB scanning the first 256 MiB, {b:.0} MiB scanning all {} MiB",
            size >> 20
        );
    }
}
