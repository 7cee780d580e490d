//! What a configuration costs and what damage it survives, in numbers and plain words.

use super::encode::EncodeOpts;
use crate::format::Version;
use crate::format::rs::Layout;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct CalcReport {
    pub file_size: u64,
    pub version: Version,
    pub block_size: usize,
    pub rs_data: Option<usize>,
    pub rs_parity: Option<usize>,
    pub burst: Option<u32>,
    pub data_blocks: u64,
    pub padding_blocks: u64,
    pub parity_blocks: u64,
    pub metadata_blocks: u64,
    pub container_size: u64,
    /// Container size over file size, in percent above 100.
    pub overhead_percent: f64,
    /// What the container survives, in plain words.
    pub tolerance: String,
}

/// Sizes and tolerance of encoding `file_size` bytes with `opts` (version, RS settings,
/// metadata); the input path in `opts` is not used.
pub fn run(file_size: u64, opts: &EncodeOpts) -> Result<CalcReport, String> {
    let layout = opts.layout()?;
    let v = layout.version;
    let bs = v.block_size();
    let chunks = layout.chunks_for(file_size);
    let sets = layout.sets_for(file_size);
    let t = layout.shards() as u64;
    let container_size = container_size(&layout, file_size);
    let tolerance = if layout.is_rs() {
        let (m, p, b) = (layout.data, layout.parity, layout.burst);
        let set_bytes = t * bs as u64;
        if b == 0 {
            format!(
                "Survives up to {p} damaged or missing {bs}-byte sectors in every run of {t} \
                 consecutive blocks ({}), i.e. {:.1} % of the blocks; blocks are not \
                 interleaved, so a burst of more than {p} sectors in one place loses data.",
                human(set_bytes),
                100.0 * p as f64 / t as f64
            )
        } else {
            let super_bytes = t * u64::from(b) * bs as u64;
            format!(
                "Survives up to {p} bursts of up to {b} consecutive damaged sectors \
                 ({} each), or one burst of {} sectors ({}), in every {} of container \
                 ({} block sets of {m} data + {p} parity); also any {p} damaged sectors \
                 per block set. The metadata is stored {} times.",
                human(u64::from(b) * bs as u64),
                u64::from(b) * p as u64,
                human(u64::from(b) * p as u64 * bs as u64),
                human(super_bytes),
                b,
                1 + p
            )
        }
    } else {
        format!(
            "Survives fragmentation and reordering of its {bs}-byte blocks, but no damaged \
             sector: every block is needed (choose version 17, 18 or 19 for parity)."
        )
    };
    Ok(CalcReport {
        file_size,
        version: v,
        block_size: bs,
        rs_data: layout.is_rs().then_some(layout.data),
        rs_parity: layout.is_rs().then_some(layout.parity),
        burst: layout.is_rs().then_some(layout.burst),
        data_blocks: chunks,
        padding_blocks: sets * layout.data as u64 - chunks,
        parity_blocks: sets * layout.parity as u64,
        metadata_blocks: layout.meta_copies as u64,
        container_size,
        overhead_percent: if file_size == 0 {
            0.0
        } else {
            100.0 * (container_size as f64 / file_size as f64 - 1.0)
        },
        tolerance,
    })
}

/// The size of the container `layout` makes of a file of `file_size` bytes (metadata
/// copies, data, padding and parity blocks).
pub fn container_size(layout: &Layout, file_size: u64) -> u64 {
    layout
        .slot_count(layout.sets_for(file_size))
        .saturating_mul(layout.version.block_size() as u64)
}

/// Bytes in KiB/MiB/GiB with one decimal.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parse a size such as `1000`, `64K`, `1.5M`, `2GiB`, `10 MB` (K/M/G/T are powers of 1024;
/// `KB`, `MB`... powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("not a size: {text:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(format!("unknown size unit in {text:?}")),
    };
    let v = n * mult;
    if !(0.0..1.8e19).contains(&v) {
        return Err(format!("size out of range: {text:?}"));
    }
    Ok(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::encode::RsParams;

    #[test]
    fn sizes_match_the_blkar_vectors() {
        let opts = EncodeOpts::new("x");
        let r = run(1_000_000, &opts).unwrap();
        assert_eq!(r.container_size, 1_253_888);
        assert_eq!(
            (r.data_blocks, r.padding_blocks, r.parity_blocks),
            (2017, 3, 404)
        );
        assert!(
            r.tolerance
                .contains("2 bursts of up to 12 consecutive damaged sectors")
        );
        assert!(r.tolerance.contains("24 sectors"));
        assert_eq!(run(0, &opts).unwrap().container_size, 13_824);
        let v18 = EncodeOpts {
            version: Version::V18,
            rs: RsParams {
                data: 3,
                parity: 2,
                burst: 5,
            },
            ..EncodeOpts::new("x")
        };
        assert_eq!(run(100_000, &v18).unwrap().container_size, 192_128);
        let v1 = EncodeOpts {
            version: Version::V1,
            ..EncodeOpts::new("x")
        };
        let r = run(100_000, &v1).unwrap();
        assert_eq!(r.container_size, 103_936);
        assert!(r.tolerance.contains("no damaged sector"));
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("1.5M").unwrap(), 1_572_864);
        assert_eq!(parse_size("10 MB").unwrap(), 10_000_000);
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
