//! The block map on a 1 TB source (issue #5): a catalogue layout of a 1 TiB image with about a
//! million runs, loaded and aggregated into the map's 3 072 cells the way the app does it on
//! its worker thread; each frame then only paints those cells.
//!
//! Then the real app (the GUI module, driven headless by egui_kittest) opens that catalogue on
//! its Scan tab, and the frame time is measured while the pointer moves over the map: the
//! time egui takes to lay out and paint a frame, plus tessellating it into triangles (the
//! GPU upload and rasterisation are not included: there is no window).
//!
//! Run: `cargo bench --bench block_map`. Prints the load, aggregation and frame times.

use seqbox::engine::catalog::{Catalog, Findings, Run, SECTOR, SectorClass, SourceKey};
use seqbox::engine::layout::cells_of;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tb.sqlite");
    let mut catalog = Catalog::open(&path).unwrap();
    let size: u64 = 1 << 40;
    let sectors = size / SECTOR;
    let key = SourceKey {
        fingerprint: "bench-1tb".into(),
        ..SourceKey::other(size)
    };
    let src = catalog
        .start_source(std::path::Path::new("/dev/big"), &key, 0, size)
        .unwrap();
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
        let found = Findings {
            blocks: &[],
            metas: &[],
            damaged: &[],
            runs: chunk,
        };
        catalog.write_batch(src.id, &found, end).unwrap();
    }
    let write = t.elapsed();
    let t = Instant::now();
    let loaded = catalog.map_runs(src.id, 0, sectors).unwrap();
    let query = t.elapsed();
    let t = Instant::now();
    let whole = cells_of(&loaded, 0, sectors, 128 * 24);
    let aggregate = t.elapsed();
    // A zoomed view: 1/1000 of the disk.
    let t = Instant::now();
    let (a, b) = (sectors / 2, sectors / 2 + sectors / 1000);
    let part = catalog.map_runs(src.id, a, b).unwrap();
    let zoom_cells = cells_of(&part, a, b, 128 * 24);
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
    frame_times(&path);
}

/// The app showing the 1 TiB map: frame time while hovering over its cells.
fn frame_times(catalog: &Path) {
    let (mut h, open) = common::app_showing_map(catalog);
    let map = h.state().scan.map.rect.expect("the map was drawn");
    let mut frames = Vec::new();
    let mut tessellate = Vec::new();
    for i in 0..300 {
        // Sweep the pointer over the map area so hover text is built every frame.
        let x = map.min.x + (i * 37 % 1000) as f32 / 1000.0 * map.width();
        let y = map.min.y + (i * 13 % 1000) as f32 / 1000.0 * map.height();
        h.hover_at(egui::pos2(x, y));
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed());
        let out = h.output();
        let shapes = out.shapes.clone();
        let ppp = out.pixels_per_point;
        let t = Instant::now();
        let meshes = h.ctx.tessellate(shapes, ppp);
        tessellate.push(t.elapsed());
        assert!(!meshes.is_empty());
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        (
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() * 95 / 100].as_secs_f64() * 1e3,
            v[v.len() - 1].as_secs_f64() * 1e3,
        )
    };
    let (f50, f95, fmax) = stats(&mut frames);
    let (t50, t95, tmax) = stats(&mut tessellate);
    println!(
        "app opened on the 1 TiB catalogue: map shown after {:.0} ms (worker thread)",
        open.as_secs_f64() * 1e3
    );
    println!(
        "frame (layout + paint, 300 frames hovering the map): median {f50:.2} ms, p95 {f95:.2} ms, max {fmax:.2} ms"
    );
    println!("tessellation of each frame: median {t50:.2} ms, p95 {t95:.2} ms, max {tmax:.2} ms");
    println!(
        "frame budget at 60 Hz: 16.7 ms; median frame + tessellation uses {:.0} %",
        (f50 + t50) / 16.7 * 100.0
    );
}
