//! The NTFS boot sector: recognising one, its geometry, and opening an image read-only at
//! its NTFS volume (detection at an offset or in MBR/GPT partitions is `fs::image`'s).
//! Never writes; a hostile boot sector gives an error, never a panic or a huge allocation.

use crate::engine::fs::image::{Image, Kind};
use crate::engine::fs::{le16, le64};
use crate::engine::job::Error;
use std::path::Path;

/// The numbers of the boot sector that everything else is computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub sector_size: u64,
    pub cluster_size: u64,
    /// Clusters in the volume (total sectors / sectors per cluster).
    pub clusters: u64,
    /// Sectors in the volume; the backup boot sector is the sector after them.
    pub total_sectors: u64,
    pub record_size: u64,
    pub mft_lcn: u64,
    pub mftmirr_lcn: u64,
    /// The 64-bit volume serial number (what `vol` shows is its low 32 bits).
    pub serial: u64,
}

/// Whether `b` (at least 512 bytes) is an NTFS boot sector: the OEM name and the signature.
pub fn is_ntfs_boot(b: &[u8]) -> bool {
    b.len() >= 512 && &b[3..11] == b"NTFS    " && b[510..512] == [0x55, 0xAA]
}

impl Geometry {
    /// Parse and check the boot sector; the error says what is wrong in words.
    pub fn parse(b: &[u8]) -> Result<Geometry, String> {
        if !is_ntfs_boot(b) {
            return Err("no NTFS boot sector (OEM name \"NTFS\" and signature 55 AA)".into());
        }
        let sector_size = u64::from(le16(b, 11));
        if !(256..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
            return Err(format!("bytes per sector {sector_size} is not 256 … 4096"));
        }
        let spc = b[13];
        let cluster_size = if spc >= 0xF4 {
            // Large clusters: 2^(256 - v) sectors.
            sector_size << (256 - u32::from(spc)).min(20)
        } else {
            sector_size * u64::from(spc)
        };
        if !(512..=2 << 20).contains(&cluster_size) || !cluster_size.is_power_of_two() {
            return Err(format!("cluster size {cluster_size} is not 512 B … 2 MiB"));
        }
        let total = le64(b, 40);
        if total.checked_mul(sector_size).is_none() {
            return Err(format!(
                "{total} sectors is more than 64-bit byte offsets can hold"
            ));
        }
        // clusters × cluster_size ≤ total × sector_size: every in-volume offset fits a u64.
        let clusters = total / (cluster_size / sector_size);
        let cpr = b[64] as i8;
        let record_size = if cpr < 0 {
            1u64 << u32::from(cpr.unsigned_abs()).min(40)
        } else {
            (cpr as u64) * cluster_size
        };
        if !(1024..=4096).contains(&record_size) || !record_size.is_power_of_two() {
            return Err(format!("file record size {record_size} is not 1024 … 4096"));
        }
        let mft_lcn = le64(b, 48);
        if mft_lcn == 0 || mft_lcn >= clusters {
            return Err(format!(
                "$MFT cluster {mft_lcn} is outside the volume ({clusters} clusters)"
            ));
        }
        Ok(Geometry {
            sector_size,
            cluster_size,
            clusters,
            total_sectors: total,
            record_size,
            mft_lcn,
            mftmirr_lcn: le64(b, 56),
            serial: le64(b, 72),
        })
    }

    /// Bytes in the volume according to its boot sector.
    pub fn bytes(&self) -> u64 {
        self.clusters.saturating_mul(self.cluster_size)
    }
}

/// Open `path` read-only at its NTFS volume: at `offset` when given, else at 0 or in the one
/// MBR/GPT partition that holds a file system (the shared detection of [`Image::open`]).
pub fn open_image(path: &Path, offset: Option<u64>) -> Result<Image, Error> {
    let image = Image::open(path, offset)?;
    if image.kind() != Some(Kind::Ntfs) {
        return Err(Error::Invalid(format!(
            "{}: no NTFS volume at byte {}",
            path.display(),
            image.offset()
        )));
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[3..11].copy_from_slice(b"NTFS    ");
        b[11..13].copy_from_slice(&512u16.to_le_bytes());
        b[13] = 8;
        b[40..48].copy_from_slice(&49151u64.to_le_bytes());
        b[48..56].copy_from_slice(&4u64.to_le_bytes());
        b[56..64].copy_from_slice(&3071u64.to_le_bytes());
        b[64] = 0xF6; // -10: 1024-byte records
        b[72..80].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        b[510] = 0x55;
        b[511] = 0xAA;
        b
    }

    #[test]
    fn geometry_of_a_usual_boot_sector() {
        let g = Geometry::parse(&boot()).unwrap();
        assert_eq!(g.cluster_size, 4096);
        assert_eq!(g.clusters, 6143);
        assert_eq!(g.record_size, 1024);
        assert_eq!(g.mft_lcn, 4);
        assert_eq!(g.serial, 0x1122_3344_5566_7788);
    }

    #[test]
    fn hostile_boot_sectors_are_refused_in_words() {
        let mut b = boot();
        b[13] = 3;
        assert!(Geometry::parse(&b).unwrap_err().contains("cluster size"));
        let mut b = boot();
        b[64] = 0x80; // -128: 2^128-byte records
        assert!(Geometry::parse(&b).unwrap_err().contains("record size"));
        let mut b = boot();
        b[48..56].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Geometry::parse(&b).unwrap_err().contains("$MFT cluster"));
        let mut b = boot();
        b[13] = 0xF4; // 2^12 sectors of 512 = 2 MiB: the largest allowed
        assert_eq!(Geometry::parse(&b).unwrap().cluster_size, 2 << 20);
        b[510] = 0;
        assert!(Geometry::parse(&b).unwrap_err().contains("no NTFS"));
    }
}
