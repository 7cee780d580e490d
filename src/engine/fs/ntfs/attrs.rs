//! What one file record says, read attribute by attribute with the `ntfs` crate (raw, per
//! record: extension records are merged by the walk): its names (`$FILE_NAME`), times
//! (`$STANDARD_INFORMATION`), the pieces of its unnamed `$DATA` (resident bytes, or runs from a
//! lowest VCN), its named streams, and the runs of its other non-resident attributes (directory
//! indexes, bitmaps) for the map. A damaged attribute is a problem; the crate's parse runs
//! behind [`std::panic::catch_unwind`] as a last guard. Never writes.

use super::record::RawRecord;
use super::runs::{Run, collect_runs, resident_bytes};
use super::volume::Volume;
use crate::engine::fs::Problem;
use ::ntfs::structured_values::{NtfsFileName, NtfsStandardInformation};
use ::ntfs::{NtfsAttribute, NtfsAttributeFlags, NtfsAttributeType, NtfsFile};

/// Nanoseconds between 1601-01-01 (NTFS times) and 1970-01-01.
const EPOCH_DIFF_100NS: i128 = 116_444_736_000_000_000;

/// NTFS time (100 ns since 1601) as nanoseconds since 1970.
pub fn unix_ns(nt: u64) -> i64 {
    ((i128::from(nt) - EPOCH_DIFF_100NS) * 100).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// One `$FILE_NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    pub parent: u64,
    pub parent_seq: u16,
    pub name: String,
    /// 0 POSIX, 1 Win32, 2 DOS, 3 Win32 and DOS.
    pub namespace: u8,
}

/// Times from `$STANDARD_INFORMATION`, nanoseconds since 1970.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Times {
    pub created: i64,
    pub modified: i64,
    pub mft_changed: i64,
    pub accessed: i64,
}

/// A file's unnamed `$DATA`, whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// Inside the record: no clusters.
    Resident(Vec<u8>),
    NonResident {
        runs: Vec<Run>,
        size: u64,
        compressed: bool,
        encrypted: bool,
    },
}

/// A piece of the unnamed `$DATA` found in one record.
#[derive(Clone, Debug)]
pub struct Piece {
    pub resident: Option<Vec<u8>>,
    pub runs: Vec<Run>,
    /// The attribute's data size: only meaningful in the piece at lowest VCN 0.
    pub size: u64,
    /// The VCNs this piece covers: `first_vcn..end_vcn`.
    pub first_vcn: u64,
    pub end_vcn: u64,
    pub compressed: bool,
    pub encrypted: bool,
}

/// Everything one record contributes to its file.
#[derive(Clone, Debug, Default)]
pub struct RecordInfo {
    pub names: Vec<Name>,
    pub times: Option<Times>,
    pub data: Vec<Piece>,
    /// Named `$DATA` streams (alternate data streams), noted, not recorded.
    pub streams: Vec<String>,
    /// Other non-resident attributes: (attribute name for people, runs).
    pub other: Vec<(String, Vec<Run>)>,
}

/// Read the attributes of record `number`; problems are collected, the error is for a record
/// the crate cannot open at all.
pub fn read_record(
    vol: &Volume,
    number: u64,
    rec: &RawRecord,
) -> Result<(RecordInfo, Vec<Problem>), String> {
    let guarded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let file = vol
            .ntfs
            .file(&mut vol.reader(), number)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(collect(vol, number, rec, &file))
    }));
    match guarded {
        Ok(r) => r,
        Err(_) => Err("the NTFS parser failed on this record".into()),
    }
}

fn collect(
    vol: &Volume,
    number: u64,
    rec: &RawRecord,
    file: &NtfsFile<'_>,
) -> (RecordInfo, Vec<Problem>) {
    let mut info = RecordInfo::default();
    let mut problems = Vec::new();
    for attr in file.attributes_raw() {
        let attr = match attr {
            Ok(a) => a,
            Err(e) => {
                problems.push(Problem::new(number, format!("bad attribute: {e}"), ""));
                break;
            }
        };
        if let Err(e) = one(vol, number, rec, file, &attr, &mut info, &mut problems) {
            problems.push(Problem::new(number, e, ""));
        }
    }
    info.other.retain(|(_, r)| !r.is_empty());
    (info, problems)
}

fn one(
    vol: &Volume,
    number: u64,
    rec: &RawRecord,
    file: &NtfsFile<'_>,
    attr: &NtfsAttribute<'_, '_>,
    info: &mut RecordInfo,
    problems: &mut Vec<Problem>,
) -> Result<(), String> {
    let ty = attr.ty().map_err(|e| e.to_string())?;
    let name = attr.name().map_err(|e| e.to_string())?.to_string_lossy();
    match ty {
        NtfsAttributeType::FileName => {
            let f = attr
                .structured_value::<_, NtfsFileName>(&mut vol.reader())
                .map_err(|e| format!("bad $FILE_NAME: {e}"))?;
            info.names.push(Name {
                parent: f.parent_directory_reference().file_record_number(),
                parent_seq: f.parent_directory_reference().sequence_number(),
                name: f.name().to_string_lossy(),
                namespace: f.namespace() as u8,
            });
        }
        NtfsAttributeType::StandardInformation => {
            let s = attr
                .structured_value::<_, NtfsStandardInformation>(&mut vol.reader())
                .map_err(|e| format!("bad $STANDARD_INFORMATION: {e}"))?;
            info.times = Some(Times {
                created: unix_ns(s.creation_time().nt_timestamp()),
                modified: unix_ns(s.modification_time().nt_timestamp()),
                mft_changed: unix_ns(s.mft_record_modification_time().nt_timestamp()),
                accessed: unix_ns(s.access_time().nt_timestamp()),
            });
        }
        NtfsAttributeType::Data if name.is_empty() => {
            let flags = attr.flags();
            let mut piece = Piece {
                resident: None,
                runs: Vec::new(),
                size: attr.value_length(),
                first_vcn: 0,
                end_vcn: 0,
                compressed: flags.contains(NtfsAttributeFlags::COMPRESSED),
                encrypted: flags.contains(NtfsAttributeFlags::ENCRYPTED),
            };
            if attr.is_resident() {
                piece.resident = Some(resident_bytes(vol, attr)?);
            } else {
                (piece.first_vcn, piece.end_vcn, piece.runs) =
                    collect_runs(vol, attr, rec, file, problems, number);
            }
            info.data.push(piece);
        }
        NtfsAttributeType::Data => info.streams.push(name),
        _ if !attr.is_resident() => {
            let what = if name.is_empty() {
                ty.to_string()
            } else {
                format!("{ty}:{name}")
            };
            let (_, _, runs) = collect_runs(vol, attr, rec, file, problems, number);
            info.other.push((what, runs));
        }
        _ => {}
    }
    Ok(())
}

/// The unnamed `$DATA` of a single record (no extension records): for `$MFT` and `$Bitmap`.
pub fn data_of(
    vol: &Volume,
    file: &NtfsFile<'_>,
    rec: &RawRecord,
    problems: &mut Vec<Problem>,
) -> Option<Data> {
    let number = file.file_record_number();
    let mut info = RecordInfo::default();
    for attr in file.attributes_raw().flatten() {
        if let Err(e) = one(vol, number, rec, file, &attr, &mut info, problems) {
            problems.push(Problem::new(number, e, ""));
        }
    }
    merge(info.data, None, number, problems)
}

/// Put the pieces of a `$DATA` together in VCN order, cut at the data size when
/// `cut_cluster_size` is given (else whole allocation); a gap or overlap between them is a
/// problem (the file's runs are then incomplete).
pub fn merge(
    mut pieces: Vec<Piece>,
    cut_cluster_size: Option<u64>,
    number: u64,
    problems: &mut Vec<Problem>,
) -> Option<Data> {
    if pieces.is_empty() {
        return None;
    }
    if let Some(p) = pieces.iter_mut().find(|p| p.resident.is_some()) {
        return p.resident.take().map(Data::Resident);
    }
    pieces.sort_by_key(|p| p.first_vcn);
    let size = pieces[0].size;
    let (compressed, encrypted) = (pieces[0].compressed, pieces[0].encrypted);
    let mut runs: Vec<Run> = Vec::new();
    let mut next = 0;
    for p in pieces {
        if p.first_vcn != next {
            problems.push(Problem::new(
                number,
                format!(
                    "$DATA pieces do not join: one ends at cluster {next}, the next starts at {}",
                    p.first_vcn
                ),
                "",
            ));
            if p.first_vcn < next {
                continue;
            }
        }
        next = p.end_vcn;
        runs.extend(p.runs);
    }
    if let Some(cs) = cut_cluster_size {
        super::runs::cut_at_size(&mut runs, size, cs);
    }
    Some(Data::NonResident {
        runs,
        size,
        compressed,
        encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fs::ntfs::RunKind;

    fn piece(first: u64, runs: &[(u64, u64)], size: u64) -> Piece {
        let mut vcn = first;
        let runs = runs
            .iter()
            .map(|&(lcn, len)| {
                let r = Run {
                    logical: vcn,
                    physical: lcn,
                    len,
                    kind: RunKind::Data,
                };
                vcn += len;
                r
            })
            .collect();
        Piece {
            resident: None,
            runs,
            size,
            first_vcn: first,
            end_vcn: vcn,
            compressed: false,
            encrypted: false,
        }
    }

    #[test]
    fn pieces_from_extension_records_join_in_vcn_order() {
        // The piece of an extension record (VCN 12 on) may be read before the base's.
        let pieces = vec![
            piece(12, &[(500, 10)], 0),
            piece(0, &[(100, 4), (200, 8)], 90_000),
        ];
        let mut problems = Vec::new();
        let Some(Data::NonResident { runs, size, .. }) =
            merge(pieces, Some(4096), 70, &mut problems)
        else {
            panic!("not merged")
        };
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(size, 90_000);
        let got: Vec<(u64, u64, u64)> = runs
            .iter()
            .map(|r| (r.logical, r.physical, r.len))
            .collect();
        // 90 000 bytes need 22 clusters: the last run is cut to 10.
        assert_eq!(got, vec![(0, 100, 4), (4, 200, 8), (12, 500, 10)]);
    }

    #[test]
    fn a_gap_or_an_overlap_between_pieces_is_a_problem() {
        let mut problems = Vec::new();
        let gap = vec![piece(0, &[(100, 4)], 40_960), piece(6, &[(300, 4)], 0)];
        let Some(Data::NonResident { runs, .. }) = merge(gap, Some(4096), 70, &mut problems) else {
            panic!("not merged")
        };
        assert_eq!(runs.len(), 2, "the later piece is kept past the hole");
        assert!(problems[0].what.contains("do not join"), "{problems:?}");
        let mut problems = Vec::new();
        let overlap = vec![piece(0, &[(100, 4)], 16_384), piece(2, &[(300, 4)], 0)];
        let Some(Data::NonResident { runs, .. }) = merge(overlap, Some(4096), 70, &mut problems)
        else {
            panic!("not merged")
        };
        assert_eq!(runs.len(), 1, "an overlapping piece is dropped");
        assert_eq!(problems.len(), 1);
    }
}
