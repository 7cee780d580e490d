//! What a container says about itself, read from its first blocks only (fast, no full walk).

use super::container::Container;
use super::job::Error;
use crate::format::block::uid_hex;
use crate::format::hash::hex;
use crate::format::{HashKind, Metadata, StoredHash, Version};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The metadata block, in a form for people and JSON.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct MetadataView {
    pub file_name: Option<String>,
    pub sbx_name: Option<String>,
    pub file_size: Option<u64>,
    pub file_time: Option<i64>,
    /// `file_time` as ISO 8601 UTC.
    pub file_time_utc: Option<String>,
    pub sbx_time: Option<i64>,
    pub sbx_time_utc: Option<String>,
    pub hash_kind: Option<HashKind>,
    pub hash: Option<String>,
    /// An HSH value of a kind we do not know, as hex.
    pub hash_unknown: Option<String>,
    pub rs_data: Option<u8>,
    pub rs_parity: Option<u8>,
    /// The burst level stored by SeqBox Studio (blkar stores none).
    pub burst: Option<u32>,
    pub unknown_fields: Vec<String>,
}

impl From<&Metadata> for MetadataView {
    fn from(m: &Metadata) -> MetadataView {
        let (hash_kind, hash, hash_unknown) = match &m.hash {
            Some(StoredHash::Known { kind, digest }) => (Some(*kind), Some(hex(digest)), None),
            Some(StoredHash::Unknown(raw)) => (None, None, Some(hex(raw))),
            None => (None, None, None),
        };
        MetadataView {
            file_name: m.file_name.clone(),
            sbx_name: m.sbx_name.clone(),
            file_size: m.file_size,
            file_time: m.file_time,
            file_time_utc: m.file_time.map(iso_utc),
            sbx_time: m.sbx_time,
            sbx_time_utc: m.sbx_time.map(iso_utc),
            hash_kind,
            hash,
            hash_unknown,
            rs_data: m.rs_data,
            rs_parity: m.rs_parity,
            burst: m.burst,
            unknown_fields: m.unknown_fields.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct InfoReport {
    pub container: PathBuf,
    pub file_len: u64,
    /// Byte offset where the container starts inside the file (0 for a plain container).
    pub offset: u64,
    pub version: Version,
    pub block_size: usize,
    pub uid: String,
    pub password: bool,
    /// Block positions from the container's start to the end of the file.
    pub block_positions: u64,
    /// Reed–Solomon data and parity shards per block set (versions 17–19).
    pub rs_data: Option<usize>,
    pub rs_parity: Option<usize>,
    /// Burst level in use: stored by us, or inferred from positions (blkar stores none).
    pub burst: u32,
    /// How the layout was worked out, when it was not simply read.
    pub geometry_notes: Vec<String>,
    /// Offset of the metadata block, if a valid one was found.
    pub metadata_offset: Option<u64>,
    pub metadata: Option<MetadataView>,
    /// The container had a metadata block and it is lost: its size and hash are unknown
    /// (versions 17–19 always have one; see `Container::metadata_lost`).
    pub metadata_lost: bool,
    /// Set when block 0 was written longer than a block (a bug of the original SBXEnc with
    /// long names): its length in bytes.
    pub overlong_metadata: Option<usize>,
}

pub fn run(path: &Path, password: Option<&str>) -> Result<InfoReport, Error> {
    run_with(path, password, None)
}

/// [`run`] with a burst level given for an RS container.
pub fn run_with(
    path: &Path,
    password: Option<&str>,
    burst: Option<u32>,
) -> Result<InfoReport, Error> {
    let c = Container::open(path, password.map(str::as_bytes), burst)?;
    Ok(describe(&c))
}

/// The info of an already opened container.
pub fn describe(c: &Container) -> InfoReport {
    InfoReport {
        container: c.path.clone(),
        file_len: c.file_len,
        offset: c.metadata_offset.map_or(c.start, |m| m.min(c.start)),
        version: c.version,
        block_size: c.block_size(),
        uid: uid_hex(&c.uid),
        password: c.has_password(),
        block_positions: c.slots_in_file(),
        rs_data: c.layout.is_rs().then_some(c.layout.data),
        rs_parity: c.layout.is_rs().then_some(c.layout.parity),
        burst: c.layout.burst,
        geometry_notes: c.geometry_notes.clone(),
        metadata_offset: c.metadata_offset,
        metadata: c.metadata.as_ref().map(MetadataView::from),
        metadata_lost: c.metadata_lost(),
        overlong_metadata: c.overlong_metadata,
    }
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn iso_utc(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month (1–12), day from days since 1970-01-01, proleptic Gregorian (Howard
/// Hinnant's civil-from-days).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::iso_utc;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1577836800), "2020-01-01T00:00:00Z");
        assert_eq!(iso_utc(1795417824), "2026-11-23T07:10:24Z");
        assert_eq!(iso_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
