//! The corruption matrix (issue 11, "Prove it holds"): containers of versions 1, 3, 17 and
//! 19 with several M + P and burst levels, damaged every way a disk damages them — sectors
//! lost, bursts, bit flips, truncation, reordering, stale blocks of an older container with
//! the same UID, odd offsets inside images, two damaged images — then decoded, checked, and
//! scanned + recovered. An oracle that knows only the damage says what the maths allows:
//! every case it allows must come back bit-exact with success, every other case must fail
//! and list exactly the missing byte ranges (or, where no exact answer exists, fail).
//!
//! `cargo test --test corruption_matrix -- --nocapture` prints the table of the quick run;
//! `-- --ignored` runs the long one. `MATRIX_CASE=N` runs case N alone (of the run the test
//! belongs to), prints where every block copy lies and keeps its files; `MATRIX_CASES=N`
//! changes how many cases run.

mod common;
mod matrix;

use matrix::judge::{self, Table};
use matrix::{Case, Kind, Run};
use std::time::Instant;

/// Every case kind × geometry twice (13 kinds × 10 geometries).
const FAST_CASES: u64 = 260;
const FULL_CASES: u64 = 13 * 10 * 20;

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Which case kinds a test takes.
#[derive(Clone, Copy)]
enum Part {
    /// Everything the engine is held to today.
    Main,
    /// Two versions of a container (same UID) on one image: scan + recover must not hand
    /// back the older one as a success while ours was whole too.
    Versions,
}

impl Part {
    fn takes(self, kind: Kind) -> bool {
        (kind == Kind::ImageStale) == matches!(self, Part::Versions)
    }
}

fn run_matrix(run: Run, part: Part, count: u64, cli_every: u64) {
    let only = env("MATRIX_CASE");
    let count = env("MATRIX_CASES").unwrap_or(count);
    let started = Instant::now();
    let mut table = Table::default();
    let numbers = match only {
        Some(n) => n..n + 1,
        None => 0..count,
    };
    let mut cases = 0;
    for n in numbers {
        let case = Case::new(run, n);
        if !part.takes(case.kind) {
            continue;
        }
        cases += 1;
        let result = judge::run(&case, n % cli_every == 0, only.is_some());
        if only.is_some() {
            for r in &result.runs {
                println!("{}: {} → {:?}", r.path, r.expect.label(), r.outcome);
            }
        }
        table.add(&result);
    }
    println!(
        "corruption matrix ({run:?}, {cases} cases, {:.1} s)\n{}",
        started.elapsed().as_secs_f64(),
        table.render()
    );
    for o in &table.older {
        println!("OLDER VERSION {o}");
    }
    for w in &table.wrong {
        println!("WRONG {w}");
    }
    assert!(
        table.wrong.is_empty(),
        "{} wrong outcome(s); rerun one with MATRIX_CASE=N -- --nocapture:\n{}",
        table.wrong.len(),
        table.wrong.join("\n")
    );
}

#[test]
fn corruption_matrix_quick() {
    run_matrix(Run::Fast, Part::Main, FAST_CASES, 9);
}

#[test]
#[ignore = "minutes: the full corruption matrix"]
fn corruption_matrix_full() {
    run_matrix(Run::Full, Part::Main, FULL_CASES, 23);
}

/// Kept apart from the main matrix: what is right here is a choice recover has not made yet
/// (see the report of issue 11). Today it can hand back the older version, verified against
/// its own metadata, as a success while ours was whole too.
#[test]
fn same_uid_versions_on_one_image_quick() {
    run_matrix(Run::Fast, Part::Versions, FAST_CASES, 9);
}

#[test]
#[ignore = "minutes: the full corruption matrix"]
fn same_uid_versions_on_one_image_full() {
    run_matrix(Run::Full, Part::Versions, FULL_CASES, 23);
}

// Regression tests for what the matrix found in the engine, each on the smallest container
// that shows it.

mod found {
    use super::common;
    use super::matrix::art::{Artefact, Encoded, Item, Src};
    use seqbox::engine::CancelFlag;
    use seqbox::engine::decode::{self, DecodeOpts, DecodeStatus};
    use seqbox::engine::encode::Target;
    use seqbox::format::Version;
    use seqbox::format::rs::Layout;
    use std::path::Path;

    fn decode_to(dir: &Path, a: &Artefact) -> (decode::DecodeReport, Option<Vec<u8>>) {
        let file = a.write(dir);
        let opts = DecodeOpts {
            output: Target::File(dir.join("out.bin")),
            ..DecodeOpts::new(&file)
        };
        let r = decode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        let bytes = r.output.as_ref().map(|p| std::fs::read(p).unwrap());
        (r, bytes)
    }

    /// A block of an older container with the same UID lying in a slot before the one our
    /// block is in must not displace ours: the copy in its own slot wins. (It did: the stray
    /// copy, seen first, made ours a "duplicate", the set looked one block short, and pass 2
    /// rebuilt it with the older block — a hash mismatch for a container that is whole.)
    #[test]
    fn a_copy_in_its_own_slot_beats_an_older_stray_copy() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let layout = Layout::rs(Version::V17, 10, 2, 0).unwrap();
        let data = common::noise(3 * 10 * 496, 7);
        let mut older = data.clone();
        older[12 * 496 + 5] ^= 0xFF; // chunk 12 = seq 15, in block set 1
        let new = Encoded::new(d, "f.bin", data.clone(), layout, 2);
        let old = Encoded::new(d, "f.bin", older, layout, 1);
        let slot = |seq: u32| layout.slot_of(seq) as usize;
        let mut items: Vec<Item> = (0..new.slots.len())
            .map(|k| Item::Slot(Src::New, k))
            .collect();
        // Set 1 (seqs 13–24) loses 13 and 14 (P = 2: still whole); the older seq 15 lies
        // where 13 was, before our 15.
        items[slot(13)] = Item::Slot(Src::Old, slot(15));
        items[slot(14)] = Item::Fill(vec![0; 512]);
        let a = Artefact::build("c.sbx", &items, &new, Some(&old));
        let (r, bytes) = decode_to(d, &a);
        assert_eq!(r.status, DecodeStatus::Verified, "{:?}", r.assembly);
        assert_eq!(bytes.as_deref(), Some(&data[..]));
        assert_eq!(r.assembly.repaired_sets, 1);
    }

    /// Blocks that lie before slot 0 (a container pieced together out of order, its last
    /// block set first) are read too: they were never looked at, and the set was reported
    /// missing although every block was in the file.
    #[test]
    fn blocks_before_the_first_slot_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let layout = Layout::rs(Version::V17, 10, 2, 0).unwrap();
        let data = common::noise(3 * 10 * 496 - 100, 8);
        let new = Encoded::new(d, "f.bin", data.clone(), layout, 2);
        let n = new.slots.len();
        let last_set = layout.slot_of(25) as usize;
        let items: Vec<Item> = (last_set..n)
            .chain(0..last_set)
            .map(|k| Item::Slot(Src::New, k))
            .collect();
        let a = Artefact::build("c.sbx", &items, &new, None);
        let (r, bytes) = decode_to(d, &a);
        assert_eq!(r.status, DecodeStatus::Verified, "{:?}", r.assembly);
        assert_eq!(bytes.as_deref(), Some(&data[..]));
        assert_eq!(r.assembly.misplaced_blocks, 12);
    }

    /// A container cut short where a group of block sets ends (interleaved, so a group is a
    /// super block set) lists the sets past the cut as missing. It said "nothing missing" and
    /// failed only on the hash, because pass 1 stopped at the end of the file without
    /// counting the sets it never reached; a reordered container whose first blocks lie
    /// before slot 0 came out the same.
    #[test]
    fn a_container_cut_short_between_groups_lists_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let layout = Layout::rs(Version::V17, 1, 1, 1).unwrap();
        let size = 10 * 496 - 7;
        let data = common::noise(size, 9);
        let new = Encoded::new(d, "f.bin", data.clone(), layout, 2);
        // Groups of B = 1 set (2 slots) after the 2 metadata copies: keep sets 0–3.
        let (slots, sets) = layout.group(3, 1);
        assert_eq!(sets, 3..4);
        let mut a = Artefact::build(
            "c.sbx",
            &(0..new.slots.len())
                .map(|k| Item::Slot(Src::New, k))
                .collect::<Vec<_>>(),
            &new,
            None,
        );
        a.truncate(slots.end * 512);
        let (r, bytes) = decode_to(d, &a);
        assert_eq!(r.status, DecodeStatus::Incomplete, "{:?}", r.assembly);
        assert_eq!(bytes, None);
        let missing: Vec<(u64, u64)> = r
            .assembly
            .missing
            .iter()
            .map(|m| (m.byte_start, m.byte_end))
            .collect();
        assert_eq!(missing, [(4 * 496, size as u64)]);
        assert_eq!(r.assembly.missing_blocks, 6);

        // The same sets in front of the metadata instead: every block is there.
        let items: Vec<Item> = (slots.end as usize..new.slots.len())
            .chain(0..slots.end as usize)
            .map(|k| Item::Slot(Src::New, k))
            .collect();
        let b = Artefact::build("d.sbx", &items, &new, None);
        std::fs::remove_file(d.join("out.bin")).ok();
        let (r, bytes) = decode_to(d, &b);
        assert_eq!(r.status, DecodeStatus::Verified, "{:?}", r.assembly);
        assert_eq!(bytes.as_deref(), Some(&data[..]));
    }

    /// A container whose data blocks are all lost, its metadata found, lists the whole file
    /// as missing. It listed nothing ("no data block found", `missing` empty), so a report
    /// could not say which bytes were gone.
    #[test]
    fn a_recovery_with_no_data_block_lists_the_whole_file_as_missing() {
        use seqbox::engine::recover::{self, RecoverOpts, RecoverStatus, Selection};
        use seqbox::engine::scan::{self, ScanOpts};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let layout = Layout::plain(Version::V1, true);
        let size = 2 * 496 + 10;
        let new = Encoded::new(d, "f.bin", common::noise(size, 10), layout, 2);
        // Slot 0 (metadata) at an odd offset; the data blocks overwritten.
        let items = vec![
            Item::Fill(vec![7; 301]),
            Item::Slot(Src::New, 0),
            Item::Fill(vec![0; 3 * 512]),
        ];
        let image = Artefact::build("disk.img", &items, &new, None).write(d);
        let catalog = d.join("scan.sqlite");
        let scan_opts = ScanOpts {
            sources: vec![image],
            catalog: catalog.clone(),
            ..Default::default()
        };
        scan::run(&scan_opts, &CancelFlag::new(), &|_| {}).unwrap();
        let opts = RecoverOpts {
            catalog,
            out_dir: d.join("out"),
            select: Selection::All,
            partial: false,
            password: None,
        };
        let r = recover::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        assert!(!r.success());
        let c = &r.results[0];
        assert_eq!(c.status, RecoverStatus::Unrecoverable);
        assert_eq!(c.output, None);
        assert_eq!(c.missing_bytes, size as u64);
        let missing: Vec<(u64, u64)> = c
            .missing
            .iter()
            .map(|m| (m.byte_start, m.byte_end))
            .collect();
        assert_eq!(missing, [(0, size as u64)]);
        assert_eq!(c.assembly.missing_blocks, 3);
    }
}
