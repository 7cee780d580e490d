//! Data runs of one non-resident attribute as cluster runs (logical cluster, physical cluster,
//! length, kind), read with the `ntfs` crate's run decoder. Sparse runs and the runs of a
//! compressed attribute are kinds of their own, never plain data; a run past the end of the
//! volume is cut there and reported. Never writes.

use super::record::RawRecord;
use super::volume::Volume;
use crate::engine::fs::Problem;
use ::ntfs::attribute_value::NtfsAttributeValue;
use ::ntfs::{NtfsAttribute, NtfsAttributeFlags, NtfsFile, NtfsReadSeek};

/// What a run of clusters holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunKind {
    /// The file's bytes, as they are on the disk.
    Data,
    /// Not stored: reads as zeros (`physical` is 0).
    Sparse,
    /// Clusters of a compressed attribute: the disk holds LZNT1-compressed units of 16
    /// clusters, not the file's bytes.
    Compressed,
}

impl RunKind {
    pub fn word(self) -> &'static str {
        match self {
            RunKind::Data => "data",
            RunKind::Sparse => "sparse",
            RunKind::Compressed => "compressed",
        }
    }
}

/// A run of clusters of an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Run {
    /// First cluster within the attribute (VCN).
    pub logical: u64,
    /// First cluster of the volume (LCN); 0 for sparse runs.
    pub physical: u64,
    /// Clusters.
    pub len: u64,
    pub kind: RunKind,
}

/// The runs of the non-resident attribute `attr` of record `number`, starting at its lowest
/// VCN (an attribute continued in an extension record starts past 0), and the VCNs it covers
/// (`first..end`, runs cut at the volume's end included).
pub fn collect_runs(
    vol: &Volume,
    attr: &NtfsAttribute<'_, '_>,
    rec: &RawRecord,
    file: &NtfsFile<'_>,
    problems: &mut Vec<Problem>,
    number: u64,
) -> (u64, u64, Vec<Run>) {
    let cs = vol.geo.cluster_size;
    let offset = attr
        .position()
        .value()
        .zip(file.position().value())
        .map_or(0, |(a, f)| (a.get() - f.get()) as usize);
    let first = rec.lowest_vcn(offset);
    let mut vcn = first;
    let compressed = attr.flags().contains(NtfsAttributeFlags::COMPRESSED);
    let mut out = Vec::new();
    let value = match attr.value(&mut vol.reader()) {
        Ok(NtfsAttributeValue::NonResident(v)) => v,
        Ok(_) => return (first, first, out),
        Err(e) => {
            problems.push(Problem::new(
                number,
                format!("data runs unreadable: {e}"),
                "",
            ));
            return (first, first, out);
        }
    };
    for run in value.data_runs() {
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem::new(number, format!("bad data run: {e}"), ""));
                break;
            }
        };
        let len = run.allocated_size() / cs;
        let Some(next) = vcn.checked_add(len) else {
            problems.push(Problem::new(number, "data runs overflow", ""));
            break;
        };
        let kind_data = if compressed {
            RunKind::Compressed
        } else {
            RunKind::Data
        };
        match run.data_position().value() {
            None => out.push(Run {
                logical: vcn,
                physical: 0,
                len,
                kind: RunKind::Sparse,
            }),
            Some(pos) => {
                let lcn = pos.get() / cs;
                let end = lcn.saturating_add(len);
                let fits = vol.geo.clusters.saturating_sub(lcn).min(len);
                if end > vol.geo.clusters {
                    problems.push(Problem::new(
                        number,
                        format!(
                            "data run past the end of the volume: clusters {lcn}…{} of {}",
                            end - 1,
                            vol.geo.clusters
                        ),
                        format!("logical cluster {vcn}"),
                    ));
                }
                if fits > 0 {
                    out.push(Run {
                        logical: vcn,
                        physical: lcn,
                        len: fits,
                        kind: kind_data,
                    });
                }
            }
        }
        vcn = next;
    }
    (first, vcn, out)
}

/// Keep only the clusters that hold the first `size` bytes: preallocation past the end of
/// the file is not recorded (as for ext4).
pub fn cut_at_size(runs: &mut Vec<Run>, size: u64, cluster_size: u64) {
    let keep = size.div_ceil(cluster_size);
    runs.retain(|r| r.logical < keep);
    for r in runs.iter_mut() {
        r.len = r.len.min(keep - r.logical);
    }
}

/// Read the whole (resident) value of an attribute, bounded by the record size.
pub fn resident_bytes(vol: &Volume, attr: &NtfsAttribute<'_, '_>) -> Result<Vec<u8>, String> {
    let mut r = vol.reader();
    let mut value = attr.value(&mut r).map_err(|e| e.to_string())?;
    let len = value.len().min(vol.geo.record_size) as usize;
    let mut buf = vec![0u8; len];
    let mut done = 0;
    while done < len {
        match value.read(&mut r, &mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    buf.truncate(done);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_cut_at_the_files_size() {
        let mut runs = vec![
            Run {
                logical: 0,
                physical: 100,
                len: 4,
                kind: RunKind::Data,
            },
            Run {
                logical: 4,
                physical: 200,
                len: 4,
                kind: RunKind::Data,
            },
            Run {
                logical: 8,
                physical: 300,
                len: 4,
                kind: RunKind::Data,
            },
        ];
        cut_at_size(&mut runs, 5 * 4096 + 1, 4096);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].len, 2);
    }
}
