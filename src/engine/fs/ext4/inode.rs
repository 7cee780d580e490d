//! One inode parsed from its on-disk bytes: type, size, times with nanoseconds, flags, the
//! 60-byte `i_block`, and inline data (i_block + the in-inode `system.data` attribute).
//! Never writes.

use super::{le16, le32};

pub const FLAG_INDEX: u32 = 0x1000;
pub const FLAG_HUGE_FILE: u32 = 0x40000;
pub const FLAG_EXTENTS: u32 = 0x80000;
pub const FLAG_INLINE_DATA: u32 = 0x1000_0000;
pub const FLAG_ENCRYPT: u32 = 0x800;

/// What an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// Device, FIFO or socket.
    Special,
    /// A mode with no known type (a free or damaged inode).
    Unknown,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Special => "special",
            Kind::Unknown => "unknown",
        }
    }

    pub fn from_name(s: &str) -> Kind {
        match s {
            "file" => Kind::File,
            "dir" => Kind::Dir,
            "symlink" => Kind::Symlink,
            "special" => Kind::Special,
            _ => Kind::Unknown,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Inode {
    pub ino: u32,
    pub mode: u16,
    pub size: u64,
    pub links: u16,
    pub flags: u32,
    pub generation: u32,
    pub dtime: u32,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub block: [u8; 60],
    /// Extended-attribute block, if any.
    pub file_acl: u64,
    /// The in-inode extended attribute area (after `128 + i_extra_isize`), possibly empty.
    xattrs: Vec<u8>,
}

/// Seconds and the `_extra` word (2 epoch bits, 30 bits of nanoseconds) → nanoseconds.
fn time_ns(secs: u32, extra: Option<u32>) -> i64 {
    let mut s = i64::from(secs as i32);
    let mut ns = 0;
    if let Some(e) = extra {
        s += i64::from(e & 3) << 32;
        ns = i64::from(e >> 2).min(999_999_999);
    }
    s.saturating_mul(1_000_000_000).saturating_add(ns)
}

impl Inode {
    /// Parse an inode of `raw.len()` bytes (128 or more).
    pub fn parse(ino: u32, raw: &[u8]) -> Inode {
        let mut block = [0u8; 60];
        if let Some(b) = raw.get(0x28..0x64) {
            block.copy_from_slice(b);
        }
        let extra_isize = if raw.len() > 128 {
            usize::from(le16(raw, 0x80))
        } else {
            0
        };
        let extra_ok = extra_isize % 4 == 0 && 128 + extra_isize <= raw.len();
        let extra = |field_end: usize, off: usize| {
            (extra_ok && extra_isize >= field_end).then(|| le32(raw, off))
        };
        let xattrs = if extra_ok && raw.len() > 128 {
            raw[128 + extra_isize..].to_vec()
        } else {
            Vec::new()
        };
        Inode {
            ino,
            mode: le16(raw, 0x00),
            size: u64::from(le32(raw, 0x04)) | (u64::from(le32(raw, 0x6C)) << 32),
            links: le16(raw, 0x1A),
            flags: le32(raw, 0x20),
            generation: le32(raw, 0x64),
            dtime: le32(raw, 0x14),
            ctime_ns: time_ns(le32(raw, 0x0C), extra(8, 0x84)),
            mtime_ns: time_ns(le32(raw, 0x10), extra(12, 0x88)),
            block,
            file_acl: u64::from(le32(raw, 0x68)) | (u64::from(le16(raw, 0x76)) << 32),
            xattrs,
        }
    }

    pub fn kind(&self) -> Kind {
        match self.mode & 0xF000 {
            0x8000 => Kind::File,
            0x4000 => Kind::Dir,
            0xA000 => Kind::Symlink,
            0x1000 | 0x2000 | 0x6000 | 0xC000 => Kind::Special,
            _ => Kind::Unknown,
        }
    }

    pub fn has_extents(&self) -> bool {
        self.flags & FLAG_EXTENTS != 0
    }

    pub fn is_inline(&self) -> bool {
        self.flags & FLAG_INLINE_DATA != 0
    }

    /// Freed: no links left, or a deletion time set.
    pub fn is_deleted(&self) -> bool {
        self.links == 0 || self.dtime != 0
    }

    /// The in-inode extended attribute `system.data` (the part of inline data beyond the
    /// first 60 bytes), if present.
    pub fn system_data(&self) -> Option<&[u8]> {
        let x = &self.xattrs;
        if x.len() < 8 || le32(x, 0) != 0xEA02_0000 {
            return None;
        }
        let base = 4;
        let mut pos = base;
        while pos + 16 <= x.len() && le32(x, pos) != 0 {
            let name_len = usize::from(x[pos]);
            let index = x[pos + 1];
            let value_offs = usize::from(le16(x, pos + 2));
            let value_inum = le32(x, pos + 4);
            let value_size = le32(x, pos + 8) as usize;
            let name = x.get(pos + 16..pos + 16 + name_len)?;
            if index == 7 && name == b"data" && value_inum == 0 {
                return x.get(base + value_offs..base + value_offs + value_size);
            }
            pos += (16 + name_len + 3) & !3;
        }
        None
    }

    /// The bytes an inline-data inode holds, cut to its size. A size beyond them reads as
    /// zeros (as the kernel reads it); callers pad up to `size` themselves.
    pub fn inline_data(&self) -> Vec<u8> {
        let mut data = self.block.to_vec();
        if let Some(rest) = self.system_data() {
            data.extend_from_slice(rest);
        }
        if self.kind() != Kind::Dir {
            data.truncate(usize::try_from(self.size).unwrap_or(usize::MAX));
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanosecond_times_and_epoch_bits() {
        assert_eq!(time_ns(1_700_000_000, None), 1_700_000_000_000_000_000);
        assert_eq!(time_ns(5, Some(7 << 2)), 5_000_000_007);
        // Epoch bit 1 adds 2^32 seconds (dates after 2038).
        assert_eq!(time_ns(0, Some(1)), (1i64 << 32) * 1_000_000_000);
        // Before 1970 without extra bits stays negative.
        assert_eq!(time_ns(u32::MAX, None), -1_000_000_000);
    }

    #[test]
    fn inline_data_from_i_block_and_system_data() {
        let mut raw = vec![0u8; 256];
        raw[0..2].copy_from_slice(&0x81A4u16.to_le_bytes());
        raw[0x04..0x08].copy_from_slice(&70u32.to_le_bytes());
        raw[0x20..0x24].copy_from_slice(&FLAG_INLINE_DATA.to_le_bytes());
        raw[0x28..0x64].copy_from_slice(&[b'a'; 60]);
        raw[0x80..0x82].copy_from_slice(&32u16.to_le_bytes());
        let x = 160;
        raw[x..x + 4].copy_from_slice(&0xEA02_0000u32.to_le_bytes());
        let e = x + 4;
        raw[e] = 4;
        raw[e + 1] = 7;
        raw[e + 2..e + 4].copy_from_slice(&40u16.to_le_bytes());
        raw[e + 8..e + 12].copy_from_slice(&10u32.to_le_bytes());
        raw[e + 16..e + 20].copy_from_slice(b"data");
        raw[x + 4 + 40..x + 4 + 50].copy_from_slice(&[b'b'; 10]);
        let ino = Inode::parse(12, &raw);
        let d = ino.inline_data();
        assert_eq!(d.len(), 70);
        assert_eq!(&d[60..], &[b'b'; 10]);
        // A size beyond what the inode holds is not read past (the rest reads as zeros).
        raw[0x04..0x08].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(Inode::parse(12, &raw).inline_data().len(), 70);
    }
}
