//! An opened NTFS volume: the boot sector's geometry, the `ntfs` crate's view of it, `$MFT`'s
//! own data runs (it may be fragmented), reading any file record by number, the volume label,
//! and `$Bitmap` (is cluster N in use now?). Only ever reads the image; every buffer is bounded
//! by the image's size.

use super::boot::Geometry;
use super::record::{self, Slot};
use super::runs::{Run, RunKind};
use crate::engine::fs::Problem;
use crate::engine::fs::image::Image;
use crate::engine::job::Error;
use std::io::{self, Read, Seek, SeekFrom};

/// `Read + Seek` over the volume for the `ntfs` crate; reads end at the end of the image.
pub struct Reader<'a> {
    image: &'a Image,
    pos: u64,
}

impl Read for Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.image.len().saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.image.read_exact_at(self.pos, &mut buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Reader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.image.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad seek"))?;
        Ok(self.pos)
    }
}

#[derive(Debug)]
pub struct Volume {
    pub image: Image,
    pub ntfs: ::ntfs::Ntfs,
    pub geo: Geometry,
    pub label: String,
    /// `$MFT`'s `$DATA` runs, in clusters.
    pub mft_runs: Vec<Run>,
    /// File record slots in `$MFT` (its data size / record size, bounded by the image).
    pub records: u64,
    /// `$Bitmap`: one bit per cluster, set = in use. `None` when it could not be read.
    bitmap: Option<Vec<u8>>,
    /// Problems met while opening.
    pub problems: Vec<Problem>,
}

impl Volume {
    /// Read the boot sector, `$MFT`'s record and runs, the label and `$Bitmap`.
    pub fn open(image: Image) -> Result<Volume, Error> {
        let path = image.path().to_path_buf();
        let bad = |e: String| Error::Invalid(format!("{}: {e}", path.display()));
        let mut boot = vec![0u8; 512];
        image
            .read_exact_at(0, &mut boot)
            .map_err(Error::read(image.path()))?;
        let geo = Geometry::parse(&boot).map_err(bad)?;
        let ntfs = ::ntfs::Ntfs::new(&mut Reader {
            image: &image,
            pos: 0,
        })
        .map_err(|e| bad(format!("the ntfs crate refuses the boot sector: {e}")))?;
        let mut problems = Vec::new();
        if geo.bytes() > image.len() {
            problems.push(Problem::new(
                0,
                format!(
                    "the volume is {} bytes but the image holds only {}: clusters past the end cannot be read",
                    geo.bytes(),
                    image.len()
                ),
                "boot sector",
            ));
        }
        let mut vol = Volume {
            image,
            ntfs,
            geo,
            label: String::new(),
            mft_runs: Vec::new(),
            records: 0,
            bitmap: None,
            problems,
        };
        vol.read_mft_runs().map_err(bad)?;
        vol.label = vol.read_label();
        vol.bitmap = vol.read_bitmap();
        Ok(vol)
    }

    pub fn reader(&self) -> Reader<'_> {
        Reader {
            image: &self.image,
            pos: 0,
        }
    }

    /// Record 0 is read where the boot sector says; its unnamed `$DATA` runs place every
    /// other record.
    fn read_mft_runs(&mut self) -> Result<(), String> {
        let rs = self.geo.record_size as usize;
        let mut raw = vec![0u8; rs];
        self.image
            .read_exact_at(self.geo.mft_lcn * self.geo.cluster_size, &mut raw)
            .map_err(|e| format!("$MFT record 0 unreadable: {e}"))?;
        let rec = match record::parse(raw) {
            Slot::Record(r) => r,
            Slot::Empty => return Err("$MFT record 0 is not a file record".into()),
            Slot::Damaged(e) => return Err(format!("$MFT record 0: {e}")),
        };
        let file = self
            .ntfs
            .file(&mut self.reader(), 0)
            .map_err(|e| format!("$MFT record 0: {e}"))?;
        let mut problems = Vec::new();
        let data = super::attrs::data_of(self, &file, &rec, &mut problems);
        self.problems.extend(problems);
        let (runs, size) = match data {
            Some(super::attrs::Data::NonResident { runs, size, .. }) => (runs, size),
            _ => return Err("$MFT has no non-resident $DATA".into()),
        };
        let mut in_image: u64 = 0;
        for r in &runs {
            if r.kind == RunKind::Data {
                in_image = in_image.saturating_add(r.len);
            }
        }
        let rs = self.geo.record_size;
        let by_size = size / rs;
        let by_runs = in_image.saturating_mul(self.geo.cluster_size) / rs;
        // Never more slots than the image can hold, whatever the runs claim.
        self.records = by_size.min(by_runs).min(self.image.len() / rs);
        self.mft_runs = runs;
        Ok(())
    }

    /// Byte position in the volume of `$MFT` byte `off` (None when no run covers it).
    fn mft_pos(&self, off: u64) -> Option<u64> {
        let cs = self.geo.cluster_size;
        let vcn = off / cs;
        let r = self
            .mft_runs
            .iter()
            .find(|r| r.kind == RunKind::Data && (r.logical..r.logical + r.len).contains(&vcn))?;
        (r.physical + (vcn - r.logical))
            .checked_mul(cs)
            .map(|p| p + off % cs)
    }

    /// Read record slot `n` (fixups applied, attribute headers checked).
    pub fn record(&self, n: u64) -> Slot {
        let rs = self.geo.record_size;
        let mut raw = vec![0u8; rs as usize];
        // A record may straddle two runs when clusters are smaller than records.
        let piece = rs.min(self.geo.cluster_size);
        for (i, chunk) in raw.chunks_mut(piece as usize).enumerate() {
            let Some(pos) = self.mft_pos(n * rs + i as u64 * piece) else {
                return Slot::Damaged(format!("record {n} lies outside $MFT's data runs"));
            };
            if let Err(e) = self.image.read_exact_at(pos, chunk) {
                return Slot::Damaged(format!("record {n} unreadable at byte {pos}: {e}"));
            }
        }
        record::parse(raw)
    }

    fn read_label(&mut self) -> String {
        let mut r = self.reader();
        match self.ntfs.volume_name(&mut r) {
            Some(Ok(name)) => name.name().to_string_lossy(),
            _ => String::new(),
        }
    }

    /// `$Bitmap` (record 6): its bytes, at most one bit per cluster of the volume.
    fn read_bitmap(&mut self) -> Option<Vec<u8>> {
        let mut problems = Vec::new();
        let out = (|| {
            let Slot::Record(rec) = self.record(6) else {
                return Err("$Bitmap's record is damaged".to_string());
            };
            let file = self
                .ntfs
                .file(&mut self.reader(), 6)
                .map_err(|e| e.to_string())?;
            let want = self.geo.clusters.div_ceil(8);
            match super::attrs::data_of(self, &file, &rec, &mut problems) {
                Some(super::attrs::Data::NonResident { runs, .. }) => {
                    Ok(self.read_runs(&runs, want))
                }
                Some(super::attrs::Data::Resident(b)) => Ok(b),
                _ => Err("$Bitmap has no $DATA".to_string()),
            }
        })();
        self.problems.extend(problems);
        match out {
            Ok(b) => Some(b),
            Err(e) => {
                self.problems.push(Problem::new(
                    6,
                    format!("$Bitmap unreadable ({e}): whether clusters are in use now is unknown"),
                    "$Bitmap",
                ));
                None
            }
        }
    }

    /// Read the first `want` bytes described by `runs` (sparse or unreadable parts as zeros),
    /// never more than the image holds.
    pub fn read_runs(&self, runs: &[Run], want: u64) -> Vec<u8> {
        let cs = self.geo.cluster_size;
        let want = want.min(self.image.len());
        let mut out = vec![0u8; want as usize];
        for r in runs.iter().filter(|r| r.kind != RunKind::Sparse) {
            let start = r.logical.saturating_mul(cs);
            if start >= want {
                continue;
            }
            let end = r.logical.saturating_add(r.len).saturating_mul(cs).min(want);
            let dst = &mut out[start as usize..end as usize];
            // Runs lie inside the volume (cut there), so this cannot overflow.
            let _ = self.image.read_exact_at(r.physical * cs, dst);
        }
        out
    }

    /// Whether cluster `lcn` is marked in use in `$Bitmap` (None: unknown).
    pub fn cluster_in_use(&self, lcn: u64) -> Option<bool> {
        let b = self.bitmap.as_ref()?;
        if lcn >= self.geo.clusters {
            return None;
        }
        let byte = b.get((lcn / 8) as usize)?;
        Some(byte & (1 << (lcn % 8)) != 0)
    }

    /// The 32-bit serial as Windows shows it (`vol`: `XXXX-XXXX`).
    pub fn serial_text(&self) -> String {
        let s = self.geo.serial as u32;
        format!("{:04X}-{:04X}", s >> 16, s & 0xFFFF)
    }

    /// Whether `$Volume` says the volume is dirty (not cleanly unmounted; None: unknown).
    pub fn dirty(&self) -> Option<bool> {
        let info = self.ntfs.volume_info(&mut self.reader()).ok()?;
        Some(
            info.flags()
                .contains(::ntfs::structured_values::NtfsVolumeFlags::IS_DIRTY),
        )
    }

    /// The NTFS version from `$Volume` (3.1 on every Windows since XP); unknown → None.
    pub fn version(&self) -> Option<(u8, u8)> {
        let info = self.ntfs.volume_info(&mut self.reader()).ok()?;
        Some((info.major_version(), info.minor_version()))
    }
}
