//! Building small FAT12/16/32 images at test time without root: `mkfs.fat` for the file
//! system (fixed volume id), `mcopy`/`mdel`/`mmd` for files, the FSInfo next-free hint set
//! back to cluster 2 after deleting so new files fill the gaps and fragment, and `mshowfat`
//! to read back where mtools put a file (the cross-check). Panics with a clear message when
//! dosfstools or mtools are missing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const VOLUME_ID: &str = "1234ABCD";

fn tool(name: &str) -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    for d in dirs.split(':').chain(["/usr/sbin", "/sbin"]) {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} not found: these tests build FAT images with dosfstools and mtools \
         (apt-get install dosfstools mtools)"
    );
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .env("MTOOLS_SKIP_CHECK", "1")
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// `mkfs.fat -F bits -s spc -C img kib` with a fixed volume id.
pub fn mkfs(img: &Path, bits: u8, spc: u8, kib: u64) {
    let _ = std::fs::remove_file(img);
    run(
        Command::new(tool("mkfs.fat"))
            .args([
                "-F",
                &bits.to_string(),
                "-s",
                &spc.to_string(),
                "-i",
                VOLUME_ID,
                "-C",
            ])
            .arg(img)
            .arg(kib.to_string()),
        "mkfs.fat",
    );
}

/// Copy `data` into the image as `dest` (`/dir/name`).
pub fn put(img: &Path, dest: &str, data: &[u8]) {
    let src = img.with_extension("src.tmp");
    std::fs::write(&src, data).unwrap();
    run(
        Command::new(tool("mcopy"))
            .arg("-i")
            .arg(img)
            .arg(&src)
            .arg(format!("::{dest}")),
        "mcopy",
    );
    std::fs::remove_file(&src).unwrap();
}

pub fn mkdir(img: &Path, dir: &str) {
    run(
        Command::new(tool("mmd"))
            .arg("-i")
            .arg(img)
            .arg(format!("::{dir}")),
        "mmd",
    );
}

/// Delete `path` and set the FSInfo next-free hint back to 2 (FAT32), so the next file
/// written fills the gaps.
pub fn del(img: &Path, path: &str) {
    run(
        Command::new(tool("mdel"))
            .arg("-i")
            .arg(img)
            .arg(format!("::{path}")),
        "mdel",
    );
    reset_hint(img);
}

/// FAT32: the FSInfo sector's next-free hint (u32 at 0x1EC) back to cluster 2.
pub fn reset_hint(img: &Path) {
    let b = std::fs::read(img).unwrap();
    let fat32 = u16::from_le_bytes([b[22], b[23]]) == 0;
    if !fat32 {
        return;
    }
    let bps = u64::from(u16::from_le_bytes([b[11], b[12]]));
    let fsinfo = u64::from(u16::from_le_bytes([b[48], b[49]]));
    scribble(img, fsinfo * bps + 0x1EC, &2u32.to_le_bytes());
}

/// Write `bytes` at `at` in the image.
pub fn scribble(img: &Path, at: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

/// The clusters of `path` as mtools sees them (`mshowfat`): runs `(first, count)`.
pub fn clusters(img: &Path, path: &str) -> Vec<(u64, u64)> {
    let text = run(
        Command::new(tool("mshowfat"))
            .arg("-i")
            .arg(img)
            .arg(format!("::{path}")),
        "mshowfat",
    );
    text.split('<')
        .skip(1)
        .map(|r| {
            let r = r.split('>').next().unwrap();
            let mut it = r.split('-').map(|n| n.trim().parse::<u64>().unwrap());
            let a = it.next().unwrap();
            let b = it.next().unwrap_or(a);
            (a, b - a + 1)
        })
        .collect()
}
