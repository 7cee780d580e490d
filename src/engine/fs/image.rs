//! Opening a disk image, device or partition for reading: always `File::open` (read-only) and
//! positioned reads; tells which file system starts at a byte offset (ext2/3/4, FAT12/16/32,
//! NTFS) and finds the one inside a whole-disk image (MBR or GPT) when no byte offset is
//! given. Never writes.

use super::le32;
use super::le64;
use crate::engine::job::Error;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A read-only view of a file system inside a file or device, starting at a byte offset.
#[derive(Debug)]
pub struct Image {
    file: File,
    path: PathBuf,
    offset: u64,
    /// Bytes from `offset` to the end of the file or device.
    len: u64,
    /// The file system recognised at `offset`, if any.
    kind: Option<Kind>,
}

/// The file systems recognised by their first sectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ext,
    Fat,
    Ntfs,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ext => "ext2/3/4",
            Kind::Fat => "FAT",
            Kind::Ntfs => "NTFS",
        }
    }
}

/// A partition found in a partition table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// 1-based, as tools number them.
    pub number: usize,
    pub start: u64,
    pub len: u64,
    pub scheme: &'static str,
}

const EXT_MAGIC: u16 = 0xEF53;

impl Image {
    /// Open `path` read-only. With `offset` the file system starts there; without, it starts
    /// at 0 or in the one partition of a whole-disk image that holds a file system we read.
    pub fn open(path: &Path, offset: Option<u64>) -> Result<Image, Error> {
        let mut file = crate::engine::granted::open(path).map_err(Error::read(path))?;
        // Seeking to the end also gives the size of a block device (metadata says 0).
        let total = file.seek(SeekFrom::End(0)).map_err(Error::read(path))?;
        let offset = match offset {
            Some(o) => o,
            None => find_fs(&file, total, path)?,
        };
        if offset >= total {
            return Err(Error::Invalid(format!(
                "{}: offset {offset} is past the end ({total} bytes)",
                path.display()
            )));
        }
        Ok(Image {
            kind: detect(&file, offset),
            file,
            path: path.to_path_buf(),
            offset,
            len: total - offset,
        })
    }

    /// The file system recognised at the image's offset.
    pub fn kind(&self) -> Option<Kind> {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Byte offset of the file system in the file or device.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes from the start of the file system to the end of the file or device.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fill `buf` from file-system byte `pos`; a short read is an `UnexpectedEof` error.
    pub fn read_exact_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        let abs = self
            .offset
            .checked_add(pos)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset overflow"))?;
        read_exact_at(&self.file, abs, buf)
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, pos: u64, buf: &mut [u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, pos)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut pos: u64, mut buf: &mut [u8]) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_read(buf, pos) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Which file system `path` holds, at its start or in a partition of an MBR/GPT disk image
/// (the first one found): a few small reads (magic numbers, boot sectors, the partition
/// tables), so cheap enough for deciding where a file given on the command line opens.
pub fn holds_fs(path: &Path) -> Option<Kind> {
    let mut f = crate::engine::granted::open(path).ok()?;
    let total = f.seek(SeekFrom::End(0)).ok()?;
    detect(&f, 0).or_else(|| {
        partitions(&f, total)
            .ok()?
            .iter()
            .find_map(|p| detect(&f, p.start))
    })
}

/// Whether `path` holds an ext2/3/4 file system (see [`holds_fs`]).
pub fn holds_ext(path: &Path) -> bool {
    holds_fs(path) == Some(Kind::Ext)
}

/// The file system starting at byte `start`, told by its magic numbers and a plausible boot
/// sector (an MBR also ends in 0x55 0xAA, so FAT needs a sane BPB besides).
pub fn detect(f: &File, start: u64) -> Option<Kind> {
    let mut b = [0u8; 2];
    if read_exact_at(f, start + 1024 + 0x38, &mut b).is_ok() && u16::from_le_bytes(b) == EXT_MAGIC {
        return Some(Kind::Ext);
    }
    let mut boot = [0u8; 512];
    read_exact_at(f, start, &mut boot).ok()?;
    if &boot[3..11] == b"NTFS    " {
        return Some(Kind::Ntfs);
    }
    fat_boot_sector(&boot).then_some(Kind::Fat)
}

/// A FAT boot sector: a jump, the signature, and BPB fields in their allowed ranges.
pub fn fat_boot_sector(b: &[u8]) -> bool {
    let bps = super::le16(b, 11);
    let spc = b.get(13).copied().unwrap_or(0);
    let jump = matches!(b.first(), Some(0xEB | 0xE9));
    jump && b.get(510..512) == Some(&[0x55, 0xAA][..])
        && matches!(bps, 512 | 1024 | 2048 | 4096)
        && spc.is_power_of_two()
        && super::le16(b, 14) >= 1
        && matches!(b.get(16), Some(1..=4))
        && (super::le16(b, 19) != 0 || super::le32(b, 32) != 0)
        && &b[3..11] != b"EXFAT   "
}

/// Where the file system starts: 0 when it does, else the one partition holding one.
fn find_fs(f: &File, total: u64, path: &Path) -> Result<u64, Error> {
    if detect(f, 0).is_some() {
        return Ok(0);
    }
    let parts = partitions(f, total).map_err(Error::read(path))?;
    let found: Vec<(&Partition, Kind)> = parts
        .iter()
        .filter_map(|p| Some((p, detect(f, p.start)?)))
        .collect();
    match found.as_slice() {
        [(one, _)] => Ok(one.start),
        [] if parts.is_empty() => Err(Error::Invalid(format!(
            "{}: no ext2/ext3/ext4, FAT or NTFS file system at the start and no partition table",
            path.display()
        ))),
        [] => Err(Error::Invalid(format!(
            "{}: none of its {} partitions holds an ext2/ext3/ext4, FAT or NTFS file system",
            path.display(),
            parts.len()
        ))),
        several => Err(Error::Invalid(format!(
            "{} holds several file systems; choose one with --offset: {}",
            path.display(),
            several
                .iter()
                .map(|(p, k)| format!(
                    "partition {} at byte {} ({} MiB, {})",
                    p.number,
                    p.start,
                    p.len >> 20,
                    k.name()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The partitions of an MBR or GPT partition table (512-byte sectors; GPT also with 4 KiB).
/// Extended MBR partitions are not followed.
pub fn partitions(f: &File, total: u64) -> io::Result<Vec<Partition>> {
    let mut mbr = [0u8; 512];
    if read_exact_at(f, 0, &mut mbr).is_err() || mbr[510..512] != [0x55, 0xAA] {
        return Ok(Vec::new());
    }
    let entries: Vec<&[u8]> = (0..4).map(|i| &mbr[446 + 16 * i..462 + 16 * i]).collect();
    if entries.iter().any(|e| e[4] == 0xEE) {
        for sector in [512u64, 4096] {
            if let Some(p) = gpt(f, total, sector)? {
                return Ok(p);
            }
        }
        return Ok(Vec::new());
    }
    Ok(entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e[4] != 0 && !matches!(e[4], 0x05 | 0x0F | 0x85))
        .map(|(i, e)| Partition {
            number: i + 1,
            start: u64::from(le32(e, 8)) * 512,
            len: u64::from(le32(e, 12)) * 512,
            scheme: "MBR",
        })
        .filter(|p| p.len > 0 && p.start < total)
        .collect())
}

fn gpt(f: &File, total: u64, sector: u64) -> io::Result<Option<Vec<Partition>>> {
    let mut hdr = [0u8; 92];
    if read_exact_at(f, sector, &mut hdr).is_err() || &hdr[..8] != b"EFI PART" {
        return Ok(None);
    }
    let table = le64(&hdr, 0x48).saturating_mul(sector);
    // A hostile header cannot make us read more than the usual 128 entries of 128 bytes.
    let count = le32(&hdr, 0x50).min(1024) as usize;
    let size = (le32(&hdr, 0x54) as usize).clamp(128, 1024);
    let mut raw = vec![0u8; count * size];
    if read_exact_at(f, table, &mut raw).is_err() {
        return Ok(Some(Vec::new()));
    }
    let mut out = Vec::new();
    for (i, e) in raw.chunks_exact(size).enumerate() {
        if e[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let first = le64(e, 32);
        let last = le64(e, 40);
        if last < first || first.saturating_mul(sector) >= total {
            continue;
        }
        out.push(Partition {
            number: i + 1,
            start: first * sector,
            len: (last - first + 1).saturating_mul(sector),
            scheme: "GPT",
        });
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn disk_with(parts: &[(u8, u32, u32)], ext_at: &[u64]) -> tempfile::NamedTempFile {
        let mut img = vec![0u8; 4 << 20];
        for (i, &(ty, start, sectors)) in parts.iter().enumerate() {
            let e = &mut img[446 + 16 * i..462 + 16 * i];
            e[4] = ty;
            e[8..12].copy_from_slice(&start.to_le_bytes());
            e[12..16].copy_from_slice(&sectors.to_le_bytes());
        }
        img[510] = 0x55;
        img[511] = 0xAA;
        for &at in ext_at {
            let m = at as usize + 1024 + 0x38;
            img[m..m + 2].copy_from_slice(&EXT_MAGIC.to_le_bytes());
        }
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&img).unwrap();
        f
    }

    #[test]
    fn the_one_linux_partition_is_chosen() {
        let f = disk_with(&[(0x0C, 2048, 2048), (0x83, 4096, 2048)], &[4096 * 512]);
        let img = Image::open(f.path(), None).unwrap();
        assert_eq!(img.offset(), 4096 * 512);
        assert_eq!(img.len(), (4 << 20) - 4096 * 512);
    }

    #[test]
    fn several_ext_partitions_are_listed_not_guessed() {
        let f = disk_with(
            &[(0x83, 2048, 2048), (0x83, 4096, 2048)],
            &[2048 * 512, 4096 * 512],
        );
        let e = Image::open(f.path(), None).unwrap_err().to_string();
        assert!(e.contains("partition 1 at byte 1048576"), "{e}");
        assert!(e.contains("partition 2 at byte 2097152"), "{e}");
        let img = Image::open(f.path(), Some(2048 * 512)).unwrap();
        assert_eq!(img.offset(), 2048 * 512);
    }

    #[test]
    fn gpt_partitions_are_read() {
        let mut img = vec![0u8; 4 << 20];
        img[446 + 4] = 0xEE;
        img[510] = 0x55;
        img[511] = 0xAA;
        let h = &mut img[512..612];
        h[..8].copy_from_slice(b"EFI PART");
        h[0x48..0x50].copy_from_slice(&2u64.to_le_bytes());
        h[0x50..0x54].copy_from_slice(&128u32.to_le_bytes());
        h[0x54..0x58].copy_from_slice(&128u32.to_le_bytes());
        let e = &mut img[1024..1152];
        e[0] = 0xAF;
        e[32..40].copy_from_slice(&2048u64.to_le_bytes());
        e[40..48].copy_from_slice(&6143u64.to_le_bytes());
        let m = 2048 * 512 + 1024 + 0x38;
        img[m..m + 2].copy_from_slice(&EXT_MAGIC.to_le_bytes());
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&img).unwrap();
        let parts = partitions(f.as_file(), 4 << 20).unwrap();
        assert_eq!(
            parts,
            vec![Partition {
                number: 1,
                start: 1 << 20,
                len: 2 << 20,
                scheme: "GPT"
            }]
        );
        assert_eq!(Image::open(f.path(), None).unwrap().offset(), 1 << 20);
    }

    #[test]
    fn no_file_system_is_an_error_not_a_guess() {
        let f = disk_with(&[], &[]);
        let e = Image::open(f.path(), None).unwrap_err().to_string();
        assert!(e.contains("no ext2/ext3/ext4, FAT or NTFS"), "{e}");
    }
}
