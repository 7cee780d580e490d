//! The block map counts the classes of a container's blocks per cell from the geometry of its
//! block runs (never one entry per block): every cell must hold exactly the sectors of each
//! class that drawing every block would give. Checked against a per-sector truth built here
//! from the catalogue's blocks (their sequence numbers and the metadata's M and P) for every
//! version and block size, burst levels 0 to 40, unaligned containers, a container in pieces
//! and one without its metadata, many cell counts and ranges.

mod common;

use common::noise;
use common::scenario::*;
use seqbox::engine::catalog::{Catalog, SECTOR, SectorClass};
use seqbox::engine::encode::RsParams;
use seqbox::engine::layout::{cells, cells_of};
use seqbox::format::Version;
use seqbox::format::block::parse_uid;
use std::path::Path;

fn rs(data: usize, parity: usize, burst: u32) -> RsParams {
    RsParams {
        data,
        parity,
        burst,
    }
}

/// (class, uid) of every sector of source 1, from the stored layout runs and, inside runs of
/// SBX blocks, the class of the last block of that container starting before each sector's
/// end (its sequence number and the metadata's M and P say which).
fn truth(catalog: &Path, containers: &[(String, Version)]) -> Vec<(SectorClass, Option<u64>)> {
    let c = Catalog::open_existing(catalog).unwrap();
    let db = rusqlite::Connection::open(catalog).unwrap();
    let runs: Vec<(u64, u64, i64, Option<i64>)> = db
        .prepare("SELECT start_sector, sectors, class, uid FROM layout_run WHERE source_id = 1 ORDER BY start_sector")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Every valid block of each container: (offset, class).
    let mut blocks: std::collections::HashMap<u64, Vec<(u64, SectorClass)>> = Default::default();
    for (uid_hex, version) in containers {
        let uid = parse_uid(uid_hex).unwrap();
        let key = u64::from_str_radix(uid_hex, 16).unwrap();
        let shards: Option<(i64, i64)> = db
            .query_row(
                "SELECT MIN(rs_data), MIN(rs_parity) FROM metadata WHERE uid = ?1 AND rs_data IS NOT NULL",
                [key as i64],
                |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
            )
            .unwrap();
        let mut list: Vec<(u64, SectorClass)> = c
            .copies_of(uid, *version)
            .unwrap()
            .iter()
            .filter(|k| k.source_id == 1)
            .map(|k| {
                let class = match shards {
                    _ if !version.uses_rs() => SectorClass::SbxData,
                    Some((m, p)) if (i64::from(k.seq) - 1) % (m + p) >= m => SectorClass::SbxParity,
                    Some(_) => SectorClass::SbxData,
                    None => SectorClass::SbxBlock,
                };
                (k.offset, class)
            })
            .collect();
        let metas: Vec<i64> = db
            .prepare("SELECT offset FROM metadata WHERE uid = ?1 AND source_id = 1")
            .unwrap()
            .query_map([key as i64], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        list.extend(metas.iter().map(|&o| (o as u64, SectorClass::SbxMeta)));
        list.sort_by_key(|b| b.0);
        blocks.insert(key, list);
    }
    let mut out = Vec::new();
    for (start, n, class, uid) in runs {
        assert_eq!(out.len() as u64, start, "layout runs tile the source");
        let class = SectorClass::from_code(class);
        let uid = uid.map(|u| u as u64);
        for s in start..start + n {
            if class != SectorClass::SbxBlock {
                out.push((class, uid));
                continue;
            }
            let list = &blocks[&uid.unwrap()];
            let i = list.partition_point(|&(o, _)| o < (s + 1) * SECTOR);
            let shown = if i == 0 {
                SectorClass::SbxBlock
            } else {
                list[i - 1].1
            };
            out.push((shown, uid));
        }
    }
    out
}

/// Compare the map's cells (and the per-block drawing) with the truth over `from..to`.
fn compare(catalog: &Path, truth: &[(SectorClass, Option<u64>)], from: u64, to: u64, n: usize) {
    let c = Catalog::open_existing(catalog).unwrap();
    let counted = cells_of(&c.map_runs(1, from, to).unwrap(), from, to, n);
    let drawn = cells(&c.runs(1, from, to).unwrap(), from, to, n);
    assert_eq!(counted.len(), drawn.len());
    for (cell, d) in counted.iter().zip(&drawn) {
        let mut want = [0u64; seqbox::engine::catalog::CLASS_COUNT];
        let mut uids: Vec<u64> = Vec::new();
        let end = (cell.start_sector + cell.sectors).min(truth.len() as u64);
        for s in cell.start_sector.min(end)..end {
            let (class, uid) = truth[s as usize];
            want[class as usize] += 1;
            if class.is_sbx() && !uids.contains(&uid.unwrap()) {
                uids.push(uid.unwrap());
            }
        }
        let at = format!(
            "cell at sector {} (+{}), range {from}..{to} in {n} cells",
            cell.start_sector, cell.sectors
        );
        assert_eq!(cell.counts, want, "counted: {at}");
        assert_eq!(d.counts, want, "drawn per block: {at}");
        if uids.len() == 1 {
            assert_eq!(cell.uid, Some(uids[0]), "container of the {at}");
        }
    }
}

#[test]
fn map_cells_count_exactly_what_drawing_every_block_gives() {
    let d = fast_tempdir();
    let cases: [(Version, RsParams, &str); 9] = [
        (Version::V1, RsParams::default(), "0000000000a1"),
        (Version::V2, RsParams::default(), "0000000000a2"),
        (Version::V3, RsParams::default(), "0000000000a3"),
        (Version::V17, rs(10, 2, 0), "0000000000a4"),
        (Version::V17, rs(10, 2, 12), "0000000000a5"),
        (Version::V18, rs(3, 5, 40), "0000000000a6"),
        (Version::V19, rs(4, 2, 12), "0000000000a7"),
        (Version::V17, rs(4, 2, 40), "0000000000a8"),
        (Version::V18, rs(10, 2, 12), "0000000000a9"),
    ];
    let mut image = noise(3001, 1);
    let mut containers = Vec::new();
    for (i, (version, params, uid)) in cases.iter().enumerate() {
        let data = noise(150_000 + 7_777 * i, i as u64 + 10);
        let sbx = container(d.path(), &format!("f{i}"), &data, *version, *params, uid);
        containers.push((uid.to_string(), *version));
        match i {
            // Cut into three pieces with junk between: several block runs in the map.
            4 | 5 => {
                let (a, b) = (sbx.len() / 3 / 128 * 128, sbx.len() * 2 / 3 / 128 * 128);
                image.extend_from_slice(&sbx[..a]);
                image.extend(noise(5000 + i, i as u64));
                image.extend_from_slice(&sbx[a..b]);
                image.extend(vec![0u8; 2048]);
                image.extend_from_slice(&sbx[b..]);
            }
            // Without its front (metadata and the first super block sets): drawn as SBX
            // blocks, its geometry inferred.
            7 => image.extend_from_slice(&sbx[96 * 512..]),
            _ => image.extend_from_slice(&sbx),
        }
        // Junk of odd lengths: the next container starts mid-sector.
        image.extend(noise(1000 + 333 * i, i as u64 + 100));
    }
    std::fs::write(d.path().join("img"), &image).unwrap();
    let catalog = d.path().join("c.sqlite");
    scan_into(&catalog, &[d.path().join("img")]);
    let truth = truth(&catalog, &containers);
    let all = image.len().div_ceil(512) as u64;
    assert_eq!(truth.len() as u64, all);
    for n in [1, 7, 64, 333, 3072, 100_000] {
        compare(&catalog, &truth, 0, all, n);
    }
    for (a, b) in [
        (5, 17),
        (1000, 1001),
        (777, 5555),
        (all / 3, all / 2),
        (0, 9),
    ] {
        for n in [1, 5, 64, 3072] {
            compare(&catalog, &truth, a, b.min(all), n);
        }
    }
    let counted = |class: SectorClass| truth.iter().filter(|t| t.0 == class).count();
    for class in [
        SectorClass::SbxMeta,
        SectorClass::SbxData,
        SectorClass::SbxParity,
        SectorClass::SbxBlock,
    ] {
        assert!(counted(class) > 0, "the image holds {class:?} sectors");
    }
}

/// A whole-disk view of a 2 TiB source holding one contiguous container of 4 Gi blocks
/// (v17, 10 + 2, B = 12) is counted in well under a second: the work grows with rows and
/// cells, not blocks (drawing every block would take minutes and tens of GB).
#[test]
fn a_whole_disk_view_of_a_huge_container_is_counted_quickly() {
    let d = fast_tempdir();
    let data = noise(100_000, 3);
    let sbx = container(
        d.path(),
        "f",
        &data,
        Version::V17,
        rs(10, 2, 12),
        "0000000000b1",
    );
    let mut image = vec![0u8; 4096];
    image.extend_from_slice(&sbx);
    std::fs::write(d.path().join("img"), &image).unwrap();
    let catalog = d.path().join("c.sqlite");
    scan_into(&catalog, &[d.path().join("img")]);
    // Make the container's first run 4 Gi − 1 blocks long, alone on a 2 TiB source.
    let blocks: u64 = (1 << 32) - 1;
    let sectors = 8 + blocks;
    {
        let db = rusqlite::Connection::open(&catalog).unwrap();
        db.execute_batch(&format!(
            "DELETE FROM block_run WHERE offset > 4096;
             UPDATE block_run SET count = {blocks}, end_offset = 4096 + {blocks} * 512;
             DELETE FROM layout_run WHERE start_sector > 8;
             UPDATE layout_run SET sectors = {blocks} WHERE start_sector = 8;
             UPDATE source SET size = {sectors} * 512, scan_end = {sectors} * 512,
                scanned_to = {sectors} * 512;"
        ))
        .unwrap();
    }
    let c = Catalog::open_existing(&catalog).unwrap();
    let t = std::time::Instant::now();
    let cells = cells_of(&c.map_runs(1, 0, sectors).unwrap(), 0, sectors, 3072);
    let took = t.elapsed();
    let count =
        |class: SectorClass| -> u64 { cells.iter().map(|c| c.counts[class as usize]).sum() };
    assert_eq!(count(SectorClass::Empty), 8);
    assert_eq!(count(SectorClass::SbxMeta), 3, "the metadata copies");
    // The blocks past the metadata copies: 10 data to 2 parity in every super block set.
    let (data, parity) = (count(SectorClass::SbxData), count(SectorClass::SbxParity));
    assert_eq!(data + parity, blocks - 3);
    assert!(
        (data / 5).abs_diff(parity) <= 12 * 12,
        "{data} data, {parity} parity"
    );
    assert!(
        cells
            .iter()
            .all(|c| c.uid == Some(0xb1) || c.start_sector == 0),
        "every cell is the container's"
    );
    assert!(
        took < std::time::Duration::from_secs(1),
        "the whole-disk view took {took:?}"
    );
}
