//! Scan-and-recover scenario helpers: containers made with the engine, scans into a
//! catalogue, recovery of everything, and the catalogue's state reduced to what must be the
//! same whichever way a scan got there (resumed, killed, uninterrupted).

use super::noise;
use seqbox::engine::catalog::{Catalog, Run, SectorClass};
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::recover::{RecoverOpts, RecoverReport, Selection};
use seqbox::engine::scan::{ScanOpts, ScanReport};
use seqbox::engine::{CancelFlag, encode, recover, scan};
use seqbox::format::Version;
use seqbox::format::block::parse_uid;
use std::path::{Path, PathBuf};

/// Encode `data` as `name` (in `dir`) and return the container's bytes.
pub fn container(
    dir: &Path,
    name: &str,
    data: &[u8],
    version: Version,
    rs: RsParams,
    uid: &str,
) -> Vec<u8> {
    let input = dir.join(name);
    std::fs::write(&input, data).unwrap();
    let out = dir.join(format!("{name}.sbx"));
    let opts = EncodeOpts {
        output: Target::File(out.clone()),
        version,
        rs,
        uid: Some(parse_uid(uid).unwrap()),
        sbx_time: Some(1_700_000_000),
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    std::fs::read(out).unwrap()
}

/// A container of `len` noise bytes (seeded) with default settings; returns (data, sbx).
pub fn noise_container(
    dir: &Path,
    name: &str,
    len: usize,
    version: Version,
    uid: &str,
) -> (Vec<u8>, Vec<u8>) {
    let data = noise(len, len as u64 ^ u64::from(version.byte()));
    let sbx = container(dir, name, &data, version, RsParams::default(), uid);
    (data, sbx)
}

pub fn scan_opts(catalog: &Path, sources: &[PathBuf]) -> ScanOpts {
    ScanOpts {
        sources: sources.to_vec(),
        catalog: catalog.to_path_buf(),
        ..Default::default()
    }
}

pub fn scan_into(catalog: &Path, sources: &[PathBuf]) -> ScanReport {
    scan::run(&scan_opts(catalog, sources), &CancelFlag::new(), &|_| {}).unwrap()
}

pub fn recover_all(catalog: &Path, out: &Path, password: Option<&str>) -> RecoverReport {
    let opts = RecoverOpts {
        catalog: catalog.to_path_buf(),
        out_dir: out.to_path_buf(),
        select: Selection::All,
        partial: false,
        password: password.map(str::to_string),
    };
    recover::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
}

/// The recovered bytes of the container whose stored name is `name`.
pub fn recovered(r: &RecoverReport, name: &str) -> Vec<u8> {
    let c = r
        .results
        .iter()
        .find(|c| c.file_name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{name} not among {:#?}", r.results));
    let out = c
        .output
        .as_ref()
        .unwrap_or_else(|| panic!("{name} not written: {c:#?}"));
    std::fs::read(out).unwrap()
}

/// What a catalogue says about its sources, independent of how the rows were cut: per
/// source (by path), the valid block copies `(uid, version, seq, offset, password)`, the
/// damaged blocks with evidence, and the layout with adjacent equal runs merged.
#[derive(Debug, PartialEq, Eq)]
pub struct CatalogState {
    pub sources: Vec<SourceState>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct SourceState {
    pub path: PathBuf,
    pub complete: bool,
    pub copies: Vec<(String, u8, u32, u64, bool)>,
    pub damaged: Vec<u64>,
    pub layout: Vec<(u64, u64, SectorClass, Option<u64>)>,
}

pub fn catalog_state(catalog: &Path) -> CatalogState {
    let c = Catalog::open_existing(catalog).unwrap();
    let containers = c.containers().unwrap();
    let mut sources = Vec::new();
    for s in c.sources().unwrap() {
        let mut copies = Vec::new();
        for row in &containers {
            let uid = parse_uid(&row.uid).unwrap();
            for k in c.copies_of(uid, row.version).unwrap() {
                if k.source_id == s.id {
                    copies.push((
                        row.uid.clone(),
                        row.version.byte(),
                        k.seq,
                        k.offset,
                        k.password,
                    ));
                }
            }
        }
        copies.sort();
        let damaged = c
            .damaged_blocks(s.id)
            .unwrap()
            .iter()
            .filter(|d| d.evidence.is_some())
            .map(|d| d.offset)
            .collect();
        sources.push(SourceState {
            path: s.path.clone(),
            complete: s.complete,
            copies,
            damaged,
            layout: merged(&c.runs(s.id, 0, u64::MAX).unwrap()),
        });
    }
    CatalogState { sources }
}

/// Layout runs with adjacent runs of the same class and container joined.
pub fn merged(runs: &[Run]) -> Vec<(u64, u64, SectorClass, Option<u64>)> {
    let mut out: Vec<(u64, u64, SectorClass, Option<u64>)> = Vec::new();
    for r in runs {
        match out.last_mut() {
            Some(l) if l.2 == r.class && l.3 == r.uid && l.0 + l.1 == r.start_sector => {
                l.1 += r.sectors
            }
            _ => out.push((r.start_sector, r.sectors, r.class, r.uid)),
        }
    }
    out
}

/// The sectors of a source whose class is `class`.
pub fn sectors_of(runs: &[Run], class: SectorClass) -> Vec<u64> {
    runs.iter()
        .filter(|r| r.class == class)
        .flat_map(|r| r.start_sector..r.start_sector + r.sectors)
        .collect()
}

/// A temporary folder on a RAM disk when there is one (big images, many kills), else the
/// default temporary folder.
pub fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}
