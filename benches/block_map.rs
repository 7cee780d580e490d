//! The block map on a 1 TB source (issue #5): a catalogue layout of a 1 TiB image with about a
//! million runs, loaded and aggregated into the map's 3 072 cells the way the app does it on
//! its worker thread; each frame then only paints those cells.
//!
//! Run: `cargo bench --bench block_map`. Prints the load and aggregation times.

use seqbox::engine::catalog::{Catalog, Run, SECTOR, SectorClass};
use seqbox::engine::layout::cells;
use std::time::Instant;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tb.sqlite");
    let mut catalog = Catalog::open(&path).unwrap();
    let size: u64 = 1 << 40;
    let sectors = size / SECTOR;
    let src = catalog
        .source(std::path::Path::new("/dev/big"), size, "bench-1tb")
        .unwrap();
    catalog.begin_source(src.id, 0, size).unwrap();
    // Runs of varying length and class, as a real disk with files and containers gives.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut runs = Vec::new();
    let mut at = 0;
    while at < sectors {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 1 + x % 4000;
        let class = match x % 7 {
            0 => SectorClass::Empty,
            1 | 2 => SectorClass::Other,
            3 => SectorClass::SbxData,
            4 => SectorClass::SbxParity,
            5 => SectorClass::SbxMeta,
            _ => SectorClass::Damaged,
        };
        let uid = class.is_sbx().then_some(x % 50);
        runs.push(Run {
            start_sector: at,
            sectors: len.min(sectors - at),
            class,
            uid,
        });
        at += len;
    }
    let t = Instant::now();
    for chunk in runs.chunks(100_000) {
        let end = (chunk.last().unwrap().start_sector + chunk.last().unwrap().sectors) * SECTOR;
        catalog.write_batch(src.id, &[], &[], chunk, end).unwrap();
    }
    let write = t.elapsed();
    let t = Instant::now();
    let loaded = catalog.runs(src.id, 0, sectors).unwrap();
    let query = t.elapsed();
    let t = Instant::now();
    let whole = cells(&loaded, 0, sectors, 128 * 24);
    let aggregate = t.elapsed();
    // A zoomed view: 1/1000 of the disk.
    let t = Instant::now();
    let (a, b) = (sectors / 2, sectors / 2 + sectors / 1000);
    let part = catalog.runs(src.id, a, b).unwrap();
    let zoom_cells = cells(&part, a, b, 128 * 24);
    let zoom = t.elapsed();
    assert_eq!(loaded.len(), runs.len());
    assert_eq!(
        whole
            .iter()
            .map(|c| c.counts.iter().sum::<u64>())
            .sum::<u64>(),
        sectors
    );
    println!(
        "1 TiB source, {} layout runs ({:.1} s to write the catalogue)",
        runs.len(),
        write.as_secs_f64()
    );
    println!(
        "whole-disk view: query {:.0} ms + aggregate into {} cells {:.0} ms (worker thread)",
        query.as_secs_f64() * 1e3,
        whole.len(),
        aggregate.as_secs_f64() * 1e3
    );
    println!(
        "zoomed view (1/1000): query + aggregate {:.1} ms, {} runs, {} cells",
        zoom.as_secs_f64() * 1e3,
        part.len(),
        zoom_cells.len()
    );
    println!(
        "per frame: the UI paints {} precomputed cells; nothing scales with the disk",
        whole.len()
    );
}
