//! Damage and repair of Reed–Solomon containers: blkar's partly unrepairable vector, clean
//! vectors damaged in every way the issue lists, decode repairing on the fly, and recovery
//! when every metadata copy is lost.

mod common;

use common::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::Target;
use seqbox::engine::repair::{RepairOpts, RepairReport};
use seqbox::engine::{CancelFlag, check, decode, info, repair};
use seqbox::format::rs::Layout;
use seqbox::format::{Metadata, Version};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repair_copy(container: &Path, out: &Path) -> RepairReport {
    let opts = RepairOpts {
        output: Some(out.to_path_buf()),
        ..RepairOpts::new(container)
    };
    repair::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
}

fn decode_to(container: &Path, out: &Path) -> decode::DecodeReport {
    let mut opts = DecodeOpts::new(container);
    opts.output = Target::File(out.to_path_buf());
    decode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap()
}

#[test]
fn the_partly_unrepairable_vector_is_repaired_exactly_as_far_as_the_maths_allows() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("blkar/r100k.v17-d4p2b0.corrupt-partial.ecsbx");
    let before = sha256_file(&src);
    let out = dir.path().join("repaired.ecsbx");
    let r = repair_copy(&src, &out);
    assert_eq!(
        sha256_file(&src),
        before,
        "the damaged container is not touched"
    );
    // blkar's repair of the same file gives exactly this.
    assert_eq!(
        sha256_file(&out),
        "d93c342690d10726986848b9c944adcdaa7cb3f17d6e2dda09f69897b2fb0944"
    );
    assert!(!r.success());
    assert_eq!(r.failed_sets, 1);
    assert_eq!((r.failed[0].first_seq, r.failed[0].last_seq), (7, 12));
    let lost: Vec<(u32, Option<u64>)> = r.failed[0]
        .blocks
        .iter()
        .map(|b| (b.seq, b.offset))
        .collect();
    assert_eq!(lost, [(7, Some(4608)), (8, Some(5120)), (9, Some(5632))]);
    assert_eq!(r.repaired.len(), 1);
    assert_eq!((r.repaired[0].first_seq, r.repaired[0].last_seq), (19, 24));
    let fixed: Vec<(u32, Option<u64>)> = r.repaired[0]
        .blocks
        .iter()
        .map(|b| (b.seq, b.offset))
        .collect();
    assert_eq!(fixed, [(20, Some(11264))]);
    assert_eq!((r.blocks_repaired, r.blocks_failed), (1, 3));

    // The CLI reports the same, as JSON, and exits 2 because a set stays unrepaired.
    let out = seqbox(
        &["repair", "--json", "-o", "cli.ecsbx", src.to_str().unwrap()],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out, dir.path()));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["results"][0]["report"]["failed"][0]["blocks"][2]["offset"],
        5632
    );
    assert_eq!(
        sha256_file(&dir.path().join("cli.ecsbx")),
        "d93c342690d10726986848b9c944adcdaa7cb3f17d6e2dda09f69897b2fb0944"
    );

    // Decoding: the lost data is exactly chunks 4–6, bytes 1984–3471 of the file.
    let d = decode_to(&src, &dir.path().join("never"));
    assert_eq!(d.status, DecodeStatus::Incomplete);
    assert_eq!(d.assembly.missing.len(), 1);
    let m = &d.assembly.missing[0];
    assert_eq!(
        (m.first_seq, m.last_seq, m.byte_start, m.byte_end),
        (7, 9, 1984, 3472)
    );
    assert!(!dir.path().join("never").exists());
}

/// A clean vector, its input, and its geometry.
struct Case {
    container: PathBuf,
    input: PathBuf,
    layout: Layout,
    /// Block sets the container holds.
    sets: u64,
}

fn cases() -> Vec<Case> {
    blkar_vectors()
        .into_iter()
        .filter(|v| v.version >= 17 && v.container.starts_with('r'))
        .map(|v| {
            let (m, p, b) = v.rs.unwrap();
            let input = data(&format!("blkar/{}", v.input));
            let layout = Layout::rs(
                Version::from_byte(v.version).unwrap(),
                usize::from(m),
                usize::from(p),
                b,
            )
            .unwrap();
            let sets = layout.sets_for(std::fs::metadata(&input).unwrap().len());
            Case {
                container: data(&format!("blkar/{}", v.container)),
                input,
                layout,
                sets,
            }
        })
        .collect()
}

/// Damage `bytes` in place; returns a label for messages.
type Damage = fn(&Case, &mut Vec<u8>) -> &'static str;

fn slots(c: &Case, bytes: &[u8]) -> usize {
    bytes.len() / c.layout.version.block_size()
}

fn zero(c: &Case, bytes: &mut [u8], slot: usize) {
    let bs = c.layout.version.block_size();
    bytes[slot * bs..(slot + 1) * bs].fill(0);
}

fn shard_slot(c: &Case, set: u64, shard: usize) -> usize {
    c.layout.slot_of(c.layout.seq_of(set, shard).unwrap()) as usize
}

const DAMAGES: [Damage; 6] = [
    |c, b| {
        // P zeroed blocks in every third block set (data and parity alike).
        for set in (0..c.sets).step_by(3) {
            for j in 0..c.layout.parity {
                let slot = shard_slot(c, set, (j * 3 + set as usize) % c.layout.shards());
                zero(c, b, slot);
            }
        }
        "zeroed blocks"
    },
    |c, b| {
        // Garbage over the first data block of every set, and a flipped bit in the second.
        let bs = c.layout.version.block_size();
        for set in 0..c.sets {
            let s = shard_slot(c, set, 0);
            b[s * bs..(s + 1) * bs].copy_from_slice(&noise(bs, set));
            if c.layout.parity >= 2 {
                let s = shard_slot(c, set, 1);
                b[s * bs + 100] ^= 4;
            }
        }
        "garbage and bit flips"
    },
    |c, b| {
        // One burst of B·P consecutive blocks (or P blocks without interleave) in the middle.
        let len = (c.layout.burst.max(1) as usize) * c.layout.parity;
        let from = slots(c, b) / 2;
        for k in from..from + len {
            zero(c, b, k);
        }
        "a burst of B·P blocks"
    },
    |c, b| {
        // Every metadata copy but the last.
        let metas: Vec<u64> = c.layout.meta_slots().collect();
        for &k in &metas[..metas.len() - 1] {
            zero(c, b, k as usize);
        }
        "lost metadata copies"
    },
    |c, b| {
        // Truncation: the last P slots of the file are gone.
        let bs = c.layout.version.block_size();
        let keep = b.len() - c.layout.parity * bs;
        b.truncate(keep);
        "truncation"
    },
    |c, b| {
        // A damaged copy of the first metadata block and a zeroed data block.
        let bs = c.layout.version.block_size();
        b[20] ^= 0xFF;
        let s = shard_slot(c, 1, 0);
        b[s * bs..(s + 1) * bs].fill(0);
        "damaged metadata and a data block"
    },
];

#[test]
fn damaged_clean_vectors_repair_to_the_original_bytes_and_decode_on_the_fly() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let original = std::fs::read(&case.container).unwrap();
        let input = std::fs::read(&case.input).unwrap();
        for damage in DAMAGES {
            let mut bytes = original.clone();
            let what = damage(&case, &mut bytes);
            let label = format!("{} with {what}", case.container.display());
            let damaged = dir.path().join("damaged.ecsbx");
            std::fs::write(&damaged, &bytes).unwrap();
            let sum = sha256_file(&damaged);

            let chk = check::run(
                &check::CheckOpts::new(&damaged),
                &CancelFlag::new(),
                &|_| {},
            )
            .unwrap();
            assert!(!chk.ok, "{label}: check must see the damage");

            let d = decode_to(&damaged, &dir.path().join("out"));
            assert_eq!(
                d.status,
                DecodeStatus::Verified,
                "{label}: {:?}",
                d.assembly
            );
            assert!(
                std::fs::read(dir.path().join("out")).unwrap() == input,
                "{label}"
            );
            std::fs::remove_file(dir.path().join("out")).unwrap();

            let repaired = dir.path().join("repaired.ecsbx");
            let r = repair_copy(&damaged, &repaired);
            assert!(r.success(), "{label}: {r:?}");
            assert!(
                std::fs::read(&repaired).unwrap() == original,
                "{label}: repaired copy differs from the original container"
            );
            assert_eq!(
                sha256_file(&damaged),
                sum,
                "{label}: the source was written"
            );
            std::fs::remove_file(&repaired).unwrap();

            let opts = RepairOpts {
                in_place: true,
                ..RepairOpts::new(&damaged)
            };
            let r = repair::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
            assert!(r.success(), "{label}");
            assert!(
                std::fs::read(&damaged).unwrap() == original,
                "{label}: in place"
            );
        }
    }
}

#[test]
fn with_every_metadata_copy_lost_the_data_still_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases() {
        let mut bytes = std::fs::read(&case.container).unwrap();
        for k in case.layout.meta_slots() {
            zero(&case, &mut bytes, k as usize);
        }
        let damaged = dir.path().join("nometa.ecsbx");
        std::fs::write(&damaged, &bytes).unwrap();
        let label = case.container.display().to_string();

        let i = info::run(&damaged, None).unwrap();
        assert!(i.metadata.is_none(), "{label}");
        assert_eq!(
            (i.rs_data, i.rs_parity, i.burst),
            (
                Some(case.layout.data),
                Some(case.layout.parity),
                case.layout.burst
            ),
            "{label}: geometry inferred from parity and positions"
        );
        assert!(
            i.geometry_notes.iter().any(|n| n.contains("unavailable")),
            "{label}"
        );

        let d = decode_to(&damaged, &dir.path().join("out"));
        assert_eq!(d.status, DecodeStatus::Unverified, "{label}");
        let out = std::fs::read(dir.path().join("out")).unwrap();
        let input = std::fs::read(&case.input).unwrap();
        // The size was in the metadata: the last block's 0x1A padding stays, nothing more.
        let payload = case.layout.version.payload_size();
        assert_eq!(
            out.len(),
            input.len().div_ceil(payload) * payload,
            "{label}"
        );
        assert!(out[..input.len()] == input[..], "{label}");
        assert!(out[input.len()..].iter().all(|&b| b == 0x1A), "{label}");
        std::fs::remove_file(dir.path().join("out")).unwrap();
    }
}

#[test]
fn in_place_repair_asks_first_and_refuses_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.ecsbx");
    let mut bytes = std::fs::read(data("blkar/r100k.v17-default.ecsbx")).unwrap();
    bytes[600] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let out = seqbox(&["repair", "--in-place", "c.ecsbx"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out, dir.path()));
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing written");
    let out = seqbox(
        &["repair", "--in-place", "--yes", "c.ecsbx"],
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(data("blkar/r100k.v17-default.ecsbx")).unwrap()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("repaired: block set [1..=12]: seq 1 at byte 512 (0x200)"),
        "{text}"
    );
}

#[test]
fn a_version_1_container_has_nothing_to_repair_from() {
    let e = repair::run(
        &RepairOpts::new(data("seqbox/r100k.v1.sbx")),
        &CancelFlag::new(),
        &|_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("no parity"), "{e}");
    let _ = Metadata::default();
}

#[test]
fn calc_states_sizes_and_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let out = seqbox(&["calc", "--json", "1000000"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out, dir.path()));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["container_size"], 1_253_888);
    assert_eq!(r["parity_blocks"], 404);
    let out = seqbox(
        &[
            "calc",
            "100K",
            "--sbx-version",
            "19",
            "--rs-data",
            "10",
            "--rs-parity",
            "3",
            "--burst",
            "2",
        ],
        dir.path(),
        &[],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("3 bursts of up to 2 consecutive damaged sectors"),
        "{text}"
    );
    let out = seqbox(&["calc", "lots"], dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
}

/// Encode `len` bytes as v17 with M + P and no interleaving; keep the first `slots` blocks.
fn truncated_v17(dir: &Path, len: usize, m: usize, p: usize, slots: usize) -> PathBuf {
    use seqbox::engine::encode::{self, EncodeOpts, RsParams};
    let input = dir.join("t.bin");
    std::fs::write(&input, noise(len, 77)).unwrap();
    let sbx = dir.join("t.sbx");
    let opts = EncodeOpts {
        output: Target::File(sbx.clone()),
        version: Version::V17,
        rs: RsParams {
            data: m,
            parity: p,
            burst: 0,
        },
        ..EncodeOpts::new(&input)
    };
    encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
    let mut bytes = std::fs::read(&sbx).unwrap();
    bytes.truncate(slots * 512);
    std::fs::write(&sbx, bytes).unwrap();
    sbx
}

#[test]
fn repair_of_a_truncated_container_counts_and_lists_every_lost_set() {
    let tmp = tempfile::tempdir().unwrap();
    // 1 000 000 bytes: 2017 chunks, 202 sets of 10 + 2. Keep the 3 metadata copies and 100
    // whole sets (and 5 blocks of set 100): sets 100..=201 are lost, 7 (or 12) + 101·12
    // blocks.
    for (cut, lost_blocks) in [(3 + 100 * 12 + 5, 7 + 101 * 12), (3 + 100 * 12, 102 * 12)] {
        let dir = tmp.path().join(format!("cut{cut}"));
        std::fs::create_dir(&dir).unwrap();
        let sbx = truncated_v17(&dir, 1_000_000, 10, 2, cut);
        let r = repair_copy(&sbx, &dir.join("engine.sbx"));
        assert_eq!(r.failed_sets, 102, "cut {cut}");
        assert_eq!(r.blocks_failed, lost_blocks, "cut {cut}");
        let sets: Vec<u64> = r.failed.iter().map(|s| s.set).collect();
        assert_eq!(
            sets,
            (100..=201).collect::<Vec<u64>>(),
            "every lost set listed"
        );
        let listed: u64 = r.failed.iter().map(|s| s.blocks.len() as u64).sum();
        assert_eq!(listed, lost_blocks);
        let last = r.failed.last().unwrap();
        assert_eq!((last.first_seq, last.last_seq), (201 * 12 + 1, 202 * 12));
        assert_eq!(
            last.blocks[0].offset,
            Some((3 + 201 * 12) * 512),
            "where it belonged"
        );
        assert!(!r.success());

        let o = seqbox(&["repair", "t.sbx", "-o", "cli.sbx"], &dir, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o, &dir));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("0 block(s) rebuilt, {lost_blocks} could not be")),
            "{text}"
        );
        assert_eq!(
            text.matches("beyond repair: block set").count(),
            102,
            "{text}"
        );
    }
}

#[test]
fn a_capped_list_of_lost_sets_says_how_many_more_and_the_counts_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    // 1 + 1: 1200 sets of 2 blocks; keep the 2 metadata copies and 10 sets.
    let sbx = truncated_v17(dir.path(), 1200 * 496, 1, 1, 2 + 10 * 2);
    let r = repair_copy(&sbx, &dir.path().join("r.sbx"));
    assert_eq!(r.failed_sets, 1190);
    assert_eq!(r.blocks_failed, 2380);
    assert_eq!(r.failed.len(), 1000, "the list is capped");
    assert_eq!(r.failed[0].set, 10);
    let c = check::run(&check::CheckOpts::new(&sbx), &CancelFlag::new(), &|_| {}).unwrap();
    assert_eq!(c.assembly.failed_sets, 1190);
    assert_eq!(c.assembly.failed_blocks, 2380);
    assert_eq!(c.assembly.missing_blocks, 1190);
    assert_eq!(c.assembly.missing_ranges, 1);
    assert_eq!(c.assembly.missing[0].byte_start, 10 * 496);

    let o = seqbox(&["repair", "t.sbx", "-o", "r2.sbx"], dir.path(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o, dir.path()));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("… and 190 more block sets beyond repair (2380 absent blocks in all)"),
        "{text}"
    );
    assert!(
        text.contains("0 block(s) rebuilt, 2380 could not be"),
        "{text}"
    );
}
