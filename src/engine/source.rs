//! The one read seam for sources (containers, disk images, devices): positioned reads of a
//! read-only source, and a tolerant read that survives unreadable sectors.
//!
//! A failing disk answers some reads with an I/O error. [`read_tolerant`] then retries the
//! range in smaller reads, halving at sector boundaries down to single 512-byte sectors,
//! zero-fills the sectors that still fail and returns their byte ranges, so the caller can
//! treat what was there as missing and report exactly where. Everything else comes back.
//! Nothing here ever writes to a source.

use serde::Serialize;
use std::fs::File;
use std::io;

/// The unit a disk fails in; tolerant reads retry down to single sectors.
pub const SECTOR: u64 = 512;

/// A range of bytes of a source, `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn new(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether the range shares a byte with `start..end`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }

    /// The part of the range inside `start..end`, if any.
    pub fn clip(&self, start: u64, end: u64) -> Option<ByteRange> {
        let r = ByteRange::new(self.start.max(start), self.end.min(end));
        (!r.is_empty()).then_some(r)
    }
}

/// Whether any of `ranges` shares a byte with `start..end`.
pub fn any_overlap(ranges: &[ByteRange], start: u64, end: u64) -> bool {
    ranges.iter().any(|r| r.overlaps(start, end))
}

/// Append `r` to a list kept in increasing order, merging it with the last entry when they
/// touch or overlap. At most `cap` entries are kept; the caller counts bytes separately.
pub fn push_merged(list: &mut Vec<ByteRange>, r: ByteRange, cap: usize) {
    if r.is_empty() {
        return;
    }
    let len = list.len();
    match list.last_mut() {
        Some(last) if r.start <= last.end && r.end >= last.start => {
            last.start = last.start.min(r.start);
            last.end = last.end.max(r.end);
        }
        _ if len < cap => list.push(r),
        _ => {}
    }
}

/// `a–b, c–d, …` (inclusive ends, as people count bytes) for the first `show` ranges.
pub fn list_ranges(ranges: &[ByteRange], show: usize) -> String {
    let mut s: Vec<String> = ranges
        .iter()
        .take(show)
        .map(|r| format!("{}–{}", r.start, r.end.saturating_sub(1)))
        .collect();
    if ranges.len() > show {
        s.push("…".into());
    }
    s.join(", ")
}

/// Positioned reads of a read-only source. `read_at` may return fewer bytes than asked (0 at
/// the end) and fails with an error where the medium cannot be read.
pub trait ReadAt: Send {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// The first offset at or after `offset` that may hold data; everything before it reads
    /// as zeros (a hole of a sparse file). `None` when the source cannot tell.
    fn data_from(&self, _offset: u64) -> Option<u64> {
        None
    }
}

impl ReadAt for File {
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }

    /// `lseek(SEEK_DATA)`: holes of a sparse image need not be read. A device or a file
    /// system without hole support answers with `offset` itself (or an error: `None`).
    #[cfg(target_os = "linux")]
    fn data_from(&self, offset: u64) -> Option<u64> {
        use std::os::fd::AsRawFd;
        let at = i64::try_from(offset).ok()?;
        // SAFETY: lseek on a descriptor we own; it moves only this descriptor's offset, and
        // every read of a source is positioned (pread), so nothing depends on that offset.
        let r = unsafe { libc::lseek(self.as_raw_fd(), at, libc::SEEK_DATA) };
        if r >= 0 {
            return Some(r as u64);
        }
        // ENXIO: no data at or after `offset`.
        (io::Error::last_os_error().raw_os_error() == Some(libc::ENXIO)).then_some(u64::MAX)
    }
}

impl<R: ReadAt + Sync> ReadAt for std::sync::Arc<R> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn data_from(&self, offset: u64) -> Option<u64> {
        (**self).data_from(offset)
    }
}

/// What a tolerant read got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tolerant {
    /// Bytes filled from the start of the buffer (fewer than asked only at the end of the
    /// source). Unreadable sectors count as filled: they hold zeros.
    pub len: usize,
    /// The bytes that could not be read (zeroed in the buffer), in order, merged, clipped to
    /// the range asked for.
    pub unreadable: Vec<ByteRange>,
}

/// Read `buf.len()` bytes at `offset` (fewer at the end of the source). Where a read fails,
/// retry in smaller reads down to single sectors; sectors that still fail are zero-filled
/// and listed. Interrupted reads are repeated. Pass a buffer that ends at or before the end
/// of the source when its length is known: an unreadable sector cannot tell where it ends.
pub fn read_tolerant(src: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> Tolerant {
    let mut bad = Vec::new();
    let len = fill(src, offset, buf, &mut bad);
    let mut unreadable: Vec<ByteRange> = Vec::with_capacity(bad.len());
    for r in bad {
        push_merged(&mut unreadable, r, usize::MAX);
    }
    Tolerant { len, unreadable }
}

/// Fill `buf` from `offset`; on an error, split what is left at a sector boundary near its
/// middle and fill both halves (recursion depth ≤ log2 of the length in sectors).
fn fill(src: &dyn ReadAt, offset: u64, buf: &mut [u8], bad: &mut Vec<ByteRange>) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match src.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => return n,
            Ok(k) => n += k.min(buf.len() - n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                let at = offset + n as u64;
                let rest = (buf.len() - n) as u64;
                if at / SECTOR == (at + rest - 1) / SECTOR {
                    // One sector (or part of one) that cannot be read.
                    buf[n..].fill(0);
                    bad.push(ByteRange::new(at, at + rest));
                    return buf.len();
                }
                let mut mid = (at + rest / 2) / SECTOR * SECTOR;
                if mid <= at {
                    mid += SECTOR;
                }
                let split = n + (mid - at) as usize;
                let (left, right) = buf[n..].split_at_mut(split - n);
                let got = fill(src, at, left, bad);
                if got < left.len() {
                    return n + got;
                }
                return split + fill(src, mid, right, bad);
            }
        }
    }
    n
}

/// A source for tests: bytes in memory that answer reads touching chosen ranges with an I/O
/// error (EIO), as a failing disk does. Reads return at most `max_read` bytes at a time, so
/// callers must cope with short reads too.
#[derive(Clone, Debug)]
pub struct FaultySource {
    pub bytes: Vec<u8>,
    pub bad: Vec<ByteRange>,
    pub max_read: usize,
}

impl FaultySource {
    pub fn new(bytes: Vec<u8>, bad: Vec<ByteRange>) -> FaultySource {
        FaultySource {
            bytes,
            bad,
            max_read: usize::MAX,
        }
    }
}

impl ReadAt for FaultySource {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let len = self.bytes.len() as u64;
        if offset >= len || buf.is_empty() {
            return Ok(0);
        }
        let n = (buf.len() as u64)
            .min(len - offset)
            .min(self.max_read as u64);
        if any_overlap(&self.bad, offset, offset + n) {
            return Err(io::Error::from_raw_os_error(5));
        }
        buf[..n as usize].copy_from_slice(&self.bytes[offset as usize..(offset + n) as usize]);
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8 + 1).collect()
    }

    #[test]
    fn a_good_source_reads_whole() {
        let src = FaultySource::new(pattern(10_000), Vec::new());
        let mut buf = vec![0; 4096];
        let t = read_tolerant(&src, 100, &mut buf);
        assert_eq!(
            t,
            Tolerant {
                len: 4096,
                unreadable: vec![]
            }
        );
        assert_eq!(buf, src.bytes[100..4196]);
        // At the end: fewer bytes.
        let t = read_tolerant(&src, 9000, &mut buf);
        assert_eq!(t.len, 1000);
        assert_eq!(buf[..1000], src.bytes[9000..]);
    }

    #[test]
    fn unreadable_sectors_are_zeroed_and_listed_exactly() {
        let bytes = pattern(1 << 20);
        // One unaligned 4 KiB range: 9 sectors fail; another of one sector.
        let bad = vec![
            ByteRange::new(70_000, 74_096),
            ByteRange::new(600_000, 600_001),
        ];
        for max_read in [usize::MAX, 3000, 512] {
            let src = FaultySource {
                bytes: bytes.clone(),
                bad: bad.clone(),
                max_read,
            };
            let mut buf = vec![0xEE; 1 << 20];
            let t = read_tolerant(&src, 0, &mut buf);
            assert_eq!(t.len, 1 << 20, "max_read {max_read}");
            let want = vec![
                ByteRange::new(69_632, 74_240), // sectors 136..145
                ByteRange::new(599_552, 600_064),
            ];
            assert_eq!(t.unreadable, want, "max_read {max_read}");
            for (i, (&got, &orig)) in buf.iter().zip(&bytes).enumerate() {
                let lost = any_overlap(&want, i as u64, i as u64 + 1);
                assert_eq!(got, if lost { 0 } else { orig }, "byte {i}");
            }
        }
    }

    #[test]
    fn ranges_are_clipped_to_the_read_and_end_at_the_source_end() {
        let src = FaultySource::new(pattern(5000), vec![ByteRange::new(4000, 4100)]);
        let mut buf = vec![0; 300];
        let t = read_tolerant(&src, 3900, &mut buf);
        assert_eq!(t.unreadable, vec![ByteRange::new(3900, 4200)]);
        assert_eq!(t.len, 300);
        // A read that reaches past the end stops at the end.
        let mut buf = vec![0; 4096];
        let t = read_tolerant(&src, 2048, &mut buf);
        assert_eq!(t.unreadable, vec![ByteRange::new(3584, 4608)]);
        assert_eq!(t.len, 5000 - 2048);
    }

    #[test]
    fn merged_lists_stay_in_order_and_capped() {
        let mut l = Vec::new();
        push_merged(&mut l, ByteRange::new(0, 512), 2);
        push_merged(&mut l, ByteRange::new(512, 1024), 2);
        push_merged(&mut l, ByteRange::new(4096, 4608), 2);
        push_merged(&mut l, ByteRange::new(9000, 9100), 2);
        assert_eq!(l, vec![ByteRange::new(0, 1024), ByteRange::new(4096, 4608)]);
    }
}
