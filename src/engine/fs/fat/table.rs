//! The FAT boot sector (BPB) and the allocation table: geometry checked against the image,
//! the FAT type from the count of data clusters (the specification's rule, never the label
//! string), both FAT copies read (the second used when the first is unreadable or fails its
//! media check — said as a Problem), and cluster chains followed with loop and range checks.
//! Reads only; every allocation is bounded by the volume's size.

use crate::engine::fs::{Problem, le16, le32};
use std::collections::HashSet;

/// FAT12, FAT16 or FAT32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bits {
    Twelve,
    Sixteen,
    ThirtyTwo,
}

/// What the boot sector says, checked.
#[derive(Clone, Debug)]
pub struct Bpb {
    pub bytes_per_sector: u64,
    pub cluster_size: u64,
    pub reserved_sectors: u64,
    pub fats: u64,
    pub root_entries: u64,
    pub total_sectors: u64,
    pub fat_sectors: u64,
    pub root_cluster: u32,
    pub fsinfo_sector: u64,
    pub media: u8,
    pub serial: u32,
    pub label: String,
    pub bits: Bits,
    /// Data clusters: valid cluster numbers are `2..cluster_count + 2`.
    pub cluster_count: u64,
}

impl Bpb {
    /// Parse and check a boot sector; `len` is the bytes from the volume's start to the end
    /// of the image.
    pub fn parse(b: &[u8], len: u64) -> Result<Bpb, String> {
        if b.len() < 512 || b[510..512] != [0x55, 0xAA] {
            return Err("no boot sector signature (0x55 0xAA)".into());
        }
        let bps = u64::from(le16(b, 11));
        let spc = u64::from(b[13]);
        if !matches!(bps, 512 | 1024 | 2048 | 4096) || !spc.is_power_of_two() {
            return Err(format!(
                "implausible geometry: {bps} bytes per sector, {spc} sectors per cluster"
            ));
        }
        let reserved = u64::from(le16(b, 14));
        let fats = u64::from(b[16]);
        let root_entries = u64::from(le16(b, 17));
        let total = match le16(b, 19) {
            0 => u64::from(le32(b, 32)),
            n => u64::from(n),
        };
        let fat16_size = u64::from(le16(b, 22));
        let fat_sectors = if fat16_size != 0 {
            fat16_size
        } else {
            u64::from(le32(b, 36))
        };
        if reserved == 0 || !(1..=4).contains(&fats) || fat_sectors == 0 {
            return Err(format!(
                "implausible layout: {reserved} reserved sectors, {fats} FATs of {fat_sectors} sectors"
            ));
        }
        let root_sectors = (root_entries * 32).div_ceil(bps);
        let first_data = reserved + fats * fat_sectors + root_sectors;
        if total <= first_data {
            return Err(format!(
                "{total} sectors leave no room for data after {first_data} sectors of metadata"
            ));
        }
        let cluster_count = (total - first_data) / spc;
        let bits = if cluster_count < 4085 {
            Bits::Twelve
        } else if cluster_count < 65525 {
            Bits::Sixteen
        } else {
            Bits::ThirtyTwo
        };
        if (bits == Bits::ThirtyTwo) != (fat16_size == 0 && root_entries == 0) {
            return Err(format!(
                "{cluster_count} clusters make it {}, but the boot sector is laid out otherwise",
                bits.name()
            ));
        }
        if first_data.saturating_mul(bps) > len {
            return Err("the file system's metadata runs past the end of the image".into());
        }
        let (sig, serial_at) = if bits == Bits::ThirtyTwo {
            (66, 67)
        } else {
            (38, 39)
        };
        let (serial, label) = if b[sig] == 0x29 {
            let l = &b[serial_at + 4..serial_at + 15];
            (
                le32(b, serial_at),
                String::from_utf8_lossy(l).trim_end().to_string(),
            )
        } else {
            (0, String::new())
        };
        Ok(Bpb {
            bytes_per_sector: bps,
            cluster_size: bps * spc,
            reserved_sectors: reserved,
            fats,
            root_entries,
            total_sectors: total,
            fat_sectors,
            root_cluster: le32(b, 44),
            fsinfo_sector: u64::from(le16(b, 48)),
            media: b[21],
            serial,
            label,
            bits,
            cluster_count,
        })
    }

    /// Byte offset (in the volume) of FAT copy `i`.
    pub fn fat_start(&self, i: u64) -> u64 {
        (self.reserved_sectors + i * self.fat_sectors) * self.bytes_per_sector
    }

    /// Byte offset and length of the FAT12/16 fixed root directory (length 0 on FAT32).
    pub fn root_dir(&self) -> (u64, u64) {
        (
            self.fat_start(self.fats),
            (self.root_entries * 32).div_ceil(self.bytes_per_sector) * self.bytes_per_sector,
        )
    }

    /// Byte offset of the data area (cluster 2).
    pub fn data_start(&self) -> u64 {
        let (at, len) = self.root_dir();
        at + len
    }

    /// Bytes of one FAT copy that hold the entries of every cluster.
    pub fn fat_bytes(&self) -> u64 {
        let entries = self.cluster_count + 2;
        let need = match self.bits {
            Bits::Twelve => (entries * 3).div_ceil(2),
            Bits::Sixteen => entries * 2,
            Bits::ThirtyTwo => entries * 4,
        };
        need.min(self.fat_sectors * self.bytes_per_sector)
    }
}

impl Bits {
    pub fn name(self) -> &'static str {
        match self {
            Bits::Twelve => "FAT12",
            Bits::Sixteen => "FAT16",
            Bits::ThirtyTwo => "FAT32",
        }
    }
}

/// What a FAT entry says about the next cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Free,
    Cluster(u32),
    End,
    Bad,
}

/// One FAT copy, in memory.
#[derive(Clone, Debug)]
pub struct Table {
    pub bits: Bits,
    pub raw: Vec<u8>,
}

impl Table {
    /// The raw entry of cluster `n` (0 past the end of the table).
    pub fn entry(&self, n: u32) -> u32 {
        let n = n as usize;
        match self.bits {
            Bits::Twelve => {
                let v = u32::from(le16(&self.raw, n + n / 2));
                if n % 2 == 0 { v & 0xFFF } else { v >> 4 }
            }
            Bits::Sixteen => u32::from(le16(&self.raw, n * 2)),
            Bits::ThirtyTwo => le32(&self.raw, n * 4) & 0x0FFF_FFFF,
        }
    }

    pub fn next(&self, n: u32) -> Next {
        let v = self.entry(n);
        let (bad, end) = match self.bits {
            Bits::Twelve => (0xFF7, 0xFF8),
            Bits::Sixteen => (0xFFF7, 0xFFF8),
            Bits::ThirtyTwo => (0x0FFF_FFF7, 0x0FFF_FFF8),
        };
        match v {
            0 => Next::Free,
            v if v == bad => Next::Bad,
            v if v >= end => Next::End,
            v => Next::Cluster(v),
        }
    }

    /// Entry 0 carries the media byte in its low 8 bits: a cheap check that a copy is a FAT.
    pub fn media_ok(&self, media: u8) -> bool {
        self.entry(0) & 0xFF == u32::from(media)
    }
}

/// A chain of clusters as runs `(first cluster, count)`, in file order, with what went wrong.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub runs: Vec<(u32, u64)>,
    pub clusters: u64,
    /// The chain did not end cleanly (a loop, a free or bad entry, a cluster out of range).
    pub broken: bool,
}

/// Follow the chain from `first`, at most `limit` clusters (the file's size, or the whole
/// volume for a directory). Loops and out-of-range clusters end the chain with a Problem.
pub fn chain(
    t: &Table,
    cluster_count: u64,
    first: u32,
    limit: u64,
    id: u64,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Chain {
    let mut c = Chain::default();
    let valid = |n: u32| n >= 2 && u64::from(n) < cluster_count + 2;
    let mut seen = HashSet::new();
    let mut at = first;
    loop {
        if !valid(at) {
            problems.push(Problem::new(
                id,
                format!(
                    "cluster {at} is outside the volume (2..{})",
                    cluster_count + 1
                ),
                place,
            ));
            c.broken = true;
            break;
        }
        if !seen.insert(at) {
            problems.push(Problem::new(
                id,
                format!("the cluster chain loops back to cluster {at}"),
                place,
            ));
            c.broken = true;
            break;
        }
        match c.runs.last_mut() {
            Some((s, n)) if u64::from(*s) + *n == u64::from(at) => *n += 1,
            _ => c.runs.push((at, 1)),
        }
        c.clusters += 1;
        if c.clusters >= limit {
            break;
        }
        match t.next(at) {
            Next::Cluster(n) => at = n,
            Next::End => break,
            Next::Free => {
                problems.push(Problem::new(
                    id,
                    format!("the chain stops at a free cluster after cluster {at}"),
                    place,
                ));
                c.broken = true;
                break;
            }
            Next::Bad => {
                problems.push(Problem::new(
                    id,
                    format!("the chain reaches a cluster marked bad after cluster {at}"),
                    place,
                ));
                c.broken = true;
                break;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fat12(entries: &[u16]) -> Table {
        let mut raw = vec![0u8; entries.len() * 3 / 2 + 2];
        for (n, &v) in entries.iter().enumerate() {
            let o = n + n / 2;
            let cur = u16::from_le_bytes([raw[o], raw[o + 1]]);
            let w = if n % 2 == 0 {
                (cur & 0xF000) | v
            } else {
                (cur & 0x000F) | (v << 4)
            };
            raw[o..o + 2].copy_from_slice(&w.to_le_bytes());
        }
        Table {
            bits: Bits::Twelve,
            raw,
        }
    }

    #[test]
    fn fat12_entries_pack_two_in_three_bytes() {
        let t = fat12(&[0xFF0, 0xFFF, 3, 0xFFF, 0, 0xFF7]);
        assert_eq!(t.entry(2), 3);
        assert_eq!(t.next(3), Next::End);
        assert_eq!(t.next(4), Next::Free);
        assert_eq!(t.next(5), Next::Bad);
        assert!(t.media_ok(0xF0));
    }

    #[test]
    fn chains_merge_runs_and_catch_loops_and_strays() {
        let t = fat12(&[0xFF0, 0xFFF, 3, 4, 7, 0, 0, 2, 100]);
        let mut p = Vec::new();
        let c = chain(&t, 10, 2, 100, 1, "/x", &mut p);
        assert_eq!(c.runs, vec![(2, 3), (7, 1)]);
        assert!(c.broken);
        assert!(p[0].what.contains("loops back to cluster 2"), "{p:?}");
        let mut p = Vec::new();
        let c = chain(&t, 10, 8, 100, 1, "/y", &mut p);
        assert_eq!(c.runs, vec![(8, 1)]);
        assert!(p[0].what.contains("cluster 100 is outside"), "{p:?}");
        let mut p = Vec::new();
        assert_eq!(chain(&t, 10, 2, 2, 1, "/z", &mut p).runs, vec![(2, 2)]);
        assert!(p.is_empty());
    }
}
