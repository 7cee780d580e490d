//! What a source is, taken when its scan starts and again when it ends: the file (device,
//! inode, size, modification time) or the block device (device number, size, serial when
//! the system tells it), and a fingerprint of its content sampled over its whole length.
//! The catalogue compares these to tell the same source from a moved, changed or different
//! one. Reads the source (read-only) at a few hundred places; never writes.

use crate::engine::catalog::{SourceKey, SourceKind};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::Path;

/// Evenly spaced samples read for the fingerprint (start and end included)...
const SAMPLES: u64 = 64;
/// ...of this many bytes each.
const SAMPLE: usize = 4096;
/// The first and last bytes read whole: partition tables and file-system headers live there.
const ENDS: usize = 64 << 10;

/// The key of an open source of `size` bytes.
pub fn take(file: &File, size: u64) -> SourceKey {
    let mut key = file_key(file, size);
    let mut h = Sha256::new();
    h.update(size.to_le_bytes());
    if key.kind == SourceKind::BlockDevice {
        // Two disks of the same model can hold the same bytes where the samples fall.
        h.update(device_serial(Path::new("/sys"), key.device).unwrap_or_default());
    }
    for (at, len) in sample_ranges(size) {
        h.update(at.to_le_bytes());
        let mut buf = vec![0u8; len];
        match read_at(file, &mut buf, at) {
            Ok(()) => h.update(&buf),
            // A sector that cannot be read is part of what the source is now.
            Err(_) => h.update(b"unreadable"),
        }
    }
    let d = h.finalize();
    key.fingerprint = crate::format::hash::hex(&d[..16]);
    key
}

/// Whether `f` is the file (or device) `key` was taken of: same kind, device and inode.
pub fn same_file(f: &File, key: &SourceKey) -> bool {
    let now = file_key(f, key.size);
    (now.kind, now.device, now.inode) == (key.kind, key.device, key.inode)
}

/// The byte ranges the fingerprint reads: the whole source when it is small, else both ends
/// and samples spread evenly between them.
fn sample_ranges(size: u64) -> Vec<(u64, usize)> {
    let whole = 2 * ENDS as u64 + SAMPLES * SAMPLE as u64;
    if size <= whole {
        return vec![(0, size as usize)];
    }
    let mut out = vec![(0, ENDS)];
    let span = size - SAMPLE as u64;
    out.extend((0..SAMPLES).map(|i| (span / (SAMPLES - 1) * i, SAMPLE)));
    out.push((size - ENDS as u64, ENDS));
    out
}

#[cfg(unix)]
fn file_key(file: &File, size: u64) -> SourceKey {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(m) = file.metadata() else {
        return SourceKey::other(size);
    };
    let ft = m.file_type();
    if ft.is_file() {
        SourceKey {
            kind: SourceKind::File,
            device: m.dev(),
            inode: m.ino(),
            size,
            mtime_ns: Some(m.mtime() * 1_000_000_000 + m.mtime_nsec()),
            fingerprint: String::new(),
        }
    } else if ft.is_block_device() {
        // A device's times say nothing about its content.
        SourceKey {
            kind: SourceKind::BlockDevice,
            device: m.rdev(),
            inode: 0,
            size,
            mtime_ns: None,
            fingerprint: String::new(),
        }
    } else {
        SourceKey::other(size)
    }
}

#[cfg(not(unix))]
fn file_key(file: &File, size: u64) -> SourceKey {
    let mtime_ns = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64);
    SourceKey {
        kind: SourceKind::File,
        mtime_ns,
        ..SourceKey::other(size)
    }
}

#[cfg(unix)]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(not(unix))]
fn read_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(buf)
}

/// What the system says identifies the disk behind device number `rdev` (Linux sysfs under
/// `sys`): its WWID or serial, and for a partition which one; for a loop device its backing
/// file and offset. `None` when nothing is known.
fn device_serial(sys: &Path, rdev: u64) -> Option<Vec<u8>> {
    let (major, minor) = (
        ((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff),
        ((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff),
    );
    let mut dir = std::fs::canonicalize(sys.join(format!("dev/block/{major}:{minor}"))).ok()?;
    let mut out = Vec::new();
    if let Ok(start) = std::fs::read(dir.join("start")) {
        // A partition: its place on the disk, then the disk's own identity.
        out.extend_from_slice(b"partition at ");
        out.extend_from_slice(&start);
        dir.pop();
    }
    let found = [
        "wwid",
        "device/wwid",
        "serial",
        "device/serial",
        "loop/backing_file",
    ]
    .iter()
    .filter_map(|f| std::fs::read(dir.join(f)).ok())
    .find(|v| !v.trim_ascii().is_empty())?;
    out.extend_from_slice(found.trim_ascii());
    if let Ok(offset) = std::fs::read(dir.join("loop/offset")) {
        out.extend_from_slice(&offset);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_cover_the_whole_source_and_small_ones_are_read_whole() {
        assert_eq!(sample_ranges(1000), vec![(0, 1000)]);
        let size = 10u64 << 30;
        let r = sample_ranges(size);
        assert_eq!(r.len() as u64, SAMPLES + 2);
        assert_eq!(r[0], (0, ENDS));
        assert_eq!(*r.last().unwrap(), (size - ENDS as u64, ENDS));
        let gaps: Vec<u64> = r[1..r.len() - 1]
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .collect();
        assert!(
            gaps.iter().all(|&g| g == gaps[0] && g < size / 60),
            "{gaps:?}"
        );
        assert!(r.iter().all(|&(a, n)| a + n as u64 <= size));
    }

    #[test]
    fn a_disk_is_told_by_its_serial_and_a_partition_by_its_place_too() {
        let sys = tempfile::tempdir().unwrap();
        let disk = sys.path().join("devices/sda");
        std::fs::create_dir_all(disk.join("sda1")).unwrap();
        std::fs::create_dir_all(disk.join("device")).unwrap();
        std::fs::write(disk.join("device/wwid"), "naa.5000c500a1b2c3d4\n").unwrap();
        std::fs::write(disk.join("sda1/start"), "2048\n").unwrap();
        std::fs::create_dir_all(sys.path().join("dev/block")).unwrap();
        std::os::unix::fs::symlink(&disk, sys.path().join("dev/block/8:0")).unwrap();
        std::os::unix::fs::symlink(disk.join("sda1"), sys.path().join("dev/block/8:1")).unwrap();
        let dev = |major: u64, minor: u64| (major << 8) | minor;
        assert_eq!(
            device_serial(sys.path(), dev(8, 0)).unwrap(),
            b"naa.5000c500a1b2c3d4"
        );
        assert_eq!(
            device_serial(sys.path(), dev(8, 1)).unwrap(),
            b"partition at 2048\nnaa.5000c500a1b2c3d4"
        );
        assert_eq!(device_serial(sys.path(), dev(8, 16)), None);
    }
}
