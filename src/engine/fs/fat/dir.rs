//! FAT directory entries: 32-byte 8.3 entries with their VFAT long names (UTF-16 pieces in
//! reverse order, each carrying the checksum of the 8.3 name, which must match), deleted
//! entries (first cluster and size survive) and the end marker. Pure bytes → entries; a long
//! name that does not belong to its entry is dropped and said, never trusted.

use crate::engine::fs::{le16, le32};

pub const ATTR_VOLUME: u8 = 0x08;
pub const ATTR_DIR: u8 = 0x10;
pub const ATTR_LFN: u8 = 0x0F;

/// One entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The long name when there is a valid one, else the 8.3 name (as raw bytes).
    pub name: Vec<u8>,
    pub attr: u8,
    pub first_cluster: u32,
    pub size: u64,
    /// Byte offset of the 8.3 entry inside the directory's bytes.
    pub at: u64,
    pub deleted: bool,
    /// Modification and creation times, nanoseconds since 1970 (local time read as UTC).
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.attr & ATTR_DIR != 0
    }
}

/// The 8.3 name's checksum, as long-name entries store it.
pub fn checksum(short: &[u8]) -> u8 {
    short[..11]
        .iter()
        .fold(0u8, |s, &c| s.rotate_right(1).wrapping_add(c))
}

/// `NAME.EXT` from the 11 bytes, honouring the lower-case flags Windows NT and Linux write.
fn short_name(e: &[u8]) -> Vec<u8> {
    let lower = e[12];
    let mut base: Vec<u8> = e[..8].to_vec();
    if base[0] == 0x05 {
        base[0] = 0xE5;
    }
    while base.last() == Some(&b' ') {
        base.pop();
    }
    let mut ext: Vec<u8> = e[8..11].to_vec();
    while ext.last() == Some(&b' ') {
        ext.pop();
    }
    if lower & 0x08 != 0 {
        base.make_ascii_lowercase();
    }
    if lower & 0x10 != 0 {
        ext.make_ascii_lowercase();
    }
    if !ext.is_empty() {
        base.push(b'.');
        base.extend_from_slice(&ext);
    }
    base
}

/// DOS date and time → nanoseconds since 1970 (the clock's time zone is unknown: read as UTC).
fn dos_time(date: u16, time: u16, tenths: u8) -> i64 {
    if date == 0 {
        return 0;
    }
    let (y, m, d) = (
        1980 + i64::from(date >> 9),
        i64::from((date >> 5) & 0xF).clamp(1, 12),
        i64::from(date & 0x1F).max(1),
    );
    let days = days_from_civil(y, m, d);
    let secs = days * 86400
        + i64::from(time >> 11) * 3600
        + i64::from((time >> 5) & 0x3F) * 60
        + i64::from(time & 0x1F) * 2;
    secs * 1_000_000_000 + i64::from(tenths.min(199)) * 10_000_000
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A long name being gathered: UTF-16 pieces by ordinal, and the checksum they carry.
#[derive(Default)]
struct Long {
    parts: Vec<(u8, Vec<u16>)>,
    sum: u8,
    expect: u8,
}

impl Long {
    fn add(&mut self, e: &[u8]) {
        let ord = e[0] & 0x1F;
        if e[0] & 0x40 != 0 {
            *self = Long {
                parts: Vec::new(),
                sum: e[13],
                expect: ord,
            };
        } else if ord + 1 != self.expect || e[13] != self.sum {
            // Out of sequence: whatever was gathered is not a name.
            *self = Long::default();
            return;
        }
        self.expect = ord;
        let mut units = Vec::with_capacity(13);
        for r in [1..11, 14..26, 28..32] {
            units.extend(e[r].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])));
        }
        self.parts.push((ord, units));
    }

    /// The name, when every piece down to ordinal 1 came and the checksum matches.
    fn take(&mut self, short: &[u8]) -> Option<Vec<u8>> {
        let done = self.expect == 1 && !self.parts.is_empty() && self.sum == checksum(short);
        let parts = std::mem::take(&mut self.parts);
        *self = Long::default();
        if !done {
            return None;
        }
        let mut units: Vec<u16> = parts.into_iter().rev().flat_map(|(_, u)| u).collect();
        if let Some(end) = units.iter().position(|&u| u == 0) {
            units.truncate(end);
        }
        let name = String::from_utf16_lossy(&units);
        (!name.is_empty()).then(|| name.into_bytes())
    }
}

/// Every entry in a directory's bytes up to its end marker, `.` and `..` and the volume
/// label left out. `orphans` counts long names that did not match their entry.
pub fn parse(bytes: &[u8], orphans: &mut u64) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut long = Long::default();
    for (i, e) in bytes.chunks_exact(32).enumerate() {
        if e[0] == 0 {
            break;
        }
        let deleted = e[0] == 0xE5;
        if e[11] & 0x3F == ATTR_LFN {
            if !deleted {
                long.add(e);
            }
            continue;
        }
        let gathered = !long.parts.is_empty();
        let name = if deleted {
            long = Long::default();
            None
        } else {
            long.take(e)
        };
        if gathered && !deleted && name.is_none() {
            *orphans += 1;
        }
        if e[11] & ATTR_VOLUME != 0 || e[..2] == *b". " || e[..3] == *b".. " {
            continue;
        }
        let mut short = short_name(e);
        if deleted {
            short[0] = b'?';
        }
        out.push(Entry {
            name: name.unwrap_or(short),
            attr: e[11],
            first_cluster: (u32::from(le16(e, 20)) << 16) | u32::from(le16(e, 26)),
            size: u64::from(le32(e, 28)),
            at: (i * 32) as u64,
            deleted,
            mtime_ns: dos_time(le16(e, 24), le16(e, 22), 0),
            ctime_ns: dos_time(le16(e, 16), le16(e, 14), e[13]),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(name: &[u8; 11], attr: u8, cluster: u32, size: u32) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[..11].copy_from_slice(name);
        e[11] = attr;
        e[20..22].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
        e[26..28].copy_from_slice(&(cluster as u16).to_le_bytes());
        e[28..32].copy_from_slice(&size.to_le_bytes());
        e
    }

    fn lfn(ord: u8, sum: u8, text: &str) -> [u8; 32] {
        let mut units: Vec<u16> = text.encode_utf16().collect();
        if units.len() < 13 {
            units.push(0);
        }
        units.resize(13, 0xFFFF);
        let mut e = [0u8; 32];
        e[0] = ord;
        e[11] = ATTR_LFN;
        e[13] = sum;
        let pos: Vec<usize> = (1..11)
            .step_by(2)
            .chain((14..26).step_by(2))
            .chain((28..32).step_by(2))
            .collect();
        for (u, p) in units.iter().zip(pos) {
            e[p..p + 2].copy_from_slice(&u.to_le_bytes());
        }
        e
    }

    #[test]
    fn long_names_need_their_checksum() {
        let s = short(b"HOLIDA~1JPG", 0x20, 5, 1000);
        let sum = checksum(&s);
        let mut d = Vec::new();
        d.extend_from_slice(&lfn(0x42, sum, ".jpg"));
        d.extend_from_slice(&lfn(0x01, sum, "Photo holiday"));
        d.extend_from_slice(&s);
        // The same long name before another entry: its checksum does not match.
        d.extend_from_slice(&lfn(0x41, sum, "stray.txt"));
        d.extend_from_slice(&short(b"OTHER   TXT", 0x20, 9, 3));
        d.extend_from_slice(&short(b"\xE5ONE    TXT", 0x20, 12, 700));
        d.extend_from_slice(&[0u8; 32]);
        d.extend_from_slice(&short(b"AFTER   END", 0x20, 1, 1));
        let mut orphans = 0;
        let e = parse(&d, &mut orphans);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, b"Photo holiday.jpg");
        assert_eq!((e[0].first_cluster, e[0].size, e[0].at), (5, 1000, 64));
        assert_eq!(e[1].name, b"OTHER.TXT");
        assert_eq!(orphans, 1);
        assert!(e[2].deleted);
        assert_eq!(
            (e[2].name.as_slice(), e[2].first_cluster),
            (&b"?ONE.TXT"[..], 12)
        );
    }

    #[test]
    fn dos_times_are_seconds_since_1970() {
        // 2020-01-01 00:00:00 = 1577836800.
        let date = (40 << 9) | (1 << 5) | 1;
        assert_eq!(dos_time(date, 0, 0), 1_577_836_800_000_000_000);
        assert_eq!(
            dos_time(date, (1 << 11) | (2 << 5) | 3, 0),
            (1_577_836_800 + 3600 + 120 + 6) * 1_000_000_000
        );
    }
}
