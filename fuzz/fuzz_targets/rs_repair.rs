//! RS repair of damaged containers: the input's head chooses a v17/v18/v19 container (M, P,
//! B, file size, hash kind) that is encoded here; the rest of the input is a list of damage
//! operations on its blocks (erasures, bursts, bit flips, truncation, swaps, stale copies,
//! chance signatures). Then decode the damaged container, repair it into a copy, and decode
//! and check the copy.
//!
//! Invariants: never a panic; a decode that says verified gives back the original bytes;
//! repair never changes its input; when the damage is only erasures that the maths allows
//! (≤ P blocks per block set, one metadata copy left), decode is verified, repair succeeds
//! and the repaired copy checks clean.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seqbox::engine::check::{self, CheckOpts};
use seqbox::engine::decode::{self, DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{self, EncodeOpts, RsParams, Target};
use seqbox::engine::repair::{self, RepairOpts};
use seqbox::format::rs::{Layout, Slot};
use seqbox::format::{HashKind, Version};
use seqbox_fuzz::{Input, fresh_dir, never, noise, put, quiet, scratch};
use std::collections::HashMap;
use std::path::Path;

/// Largest container built (bytes): keeps one execution in the milliseconds.
const MAX_CONTAINER: u64 = 1 << 20;
/// Damage operations applied at most.
const MAX_OPS: usize = 24;

fuzz_target!(init: seqbox_fuzz::seeds::write_if_asked("rs_repair"), |data: &[u8]| {
    let mut input = Input::new(data);
    let Some((original, opts, layout)) = choose(&mut input) else {
        return;
    };
    let orig_path = put("original.bin", &original);
    let container = scratch().join("built.sbx");
    let opts = EncodeOpts {
        input: orig_path,
        output: Target::File(container.clone()),
        overwrite: true,
        ..opts
    };
    match encode::run(&opts, &never(), &quiet) {
        Ok(_) => {}
        // Version 18 blocks cannot hold a 64-byte digest with the other fields: refused.
        Err(seqbox::engine::Error::Invalid(e)) if e.contains("metadata needs") => return,
        Err(e) => panic!("encoding a small file: {e}"),
    }
    let mut bytes = std::fs::read(&container).expect("the container just written");
    let erased = damage(&mut input, &mut bytes, layout);
    let damaged = put("damaged.sbx", &bytes);
    // Erasures only, within what the parity can rebuild: everything must come back.
    let rebuildable = erased.is_some_and(|e| within_parity(&e, layout));

    decode_and_compare("decode of the damaged container", &damaged, &original, rebuildable);
    let repaired = scratch().join("repaired.sbx");
    let mut ropts = RepairOpts::new(&damaged);
    ropts.output = Some(repaired.clone());
    ropts.overwrite = true;
    let result = repair::run(&ropts, &never(), &quiet);
    assert_eq!(
        std::fs::read(&damaged).expect("damaged container"),
        bytes,
        "repair changed its input"
    );
    match result {
        Ok(r) => {
            assert!(!rebuildable || r.success(), "repair failed on rebuildable damage: {r:?}");
            decode_and_compare("decode of the repaired copy", &repaired, &original, rebuildable);
            if rebuildable {
                let c = check::run(&CheckOpts::new(&repaired), &never(), &quiet)
                    .expect("check of the repaired copy");
                assert!(c.ok, "repaired copy does not check clean: {:?}", c.assembly);
            }
        }
        Err(e) => assert!(!rebuildable, "repair of rebuildable damage failed: {e}"),
    }
});

/// The container to build: version, M, P, B, hash kind and the original file's bytes.
fn choose(input: &mut Input<'_>) -> Option<(Vec<u8>, EncodeOpts, Layout)> {
    let version = [Version::V17, Version::V18, Version::V19][usize::from(input.u8() % 3)];
    let data = 1 + usize::from(input.u8() % 40);
    let parity = 1 + usize::from(input.u8() % 12);
    let burst = u32::from(input.u8() % 24);
    let hash = HashKind::ALL[usize::from(input.u8()) % HashKind::ALL.len()];
    let len = usize::from(input.u16()) % 30_000;
    let seed = u64::from(input.u32());
    let pad_tail = usize::from(input.u8());
    let mut original = noise(len, seed);
    // A file ending in 0x1A bytes looks like block padding: the size must still be exact.
    let tail = pad_tail.min(len);
    if pad_tail % 2 == 1 {
        original[len - tail..].fill(0x1A);
    }
    let mut opts = EncodeOpts::new("");
    opts.version = version;
    opts.rs = RsParams {
        data,
        parity,
        burst,
    };
    opts.uid = Some([0x5E, 0xB0, 0xF0, 0x22, 0, 1]);
    opts.hash = hash;
    opts.sbx_time = Some(1_700_000_000);
    let layout = opts.layout().ok()?;
    let slots = layout.slot_count(layout.sets_for(len as u64));
    (slots * version.block_size() as u64 <= MAX_CONTAINER).then_some((original, opts, layout))
}

/// Apply the damage the input describes. Returns the erased slots when erasures (whole
/// blocks zeroed) were the only damage.
fn damage(input: &mut Input<'_>, c: &mut Vec<u8>, layout: Layout) -> Option<Vec<u64>> {
    let bs = layout.version.block_size();
    let mut erased = Vec::new();
    let mut only_erasures = true;
    for _ in 0..MAX_OPS {
        if input.is_empty() || c.is_empty() {
            break;
        }
        let (op, a, b) = (input.u8(), input.u8(), usize::from(input.u16()));
        let slots = c.len().div_ceil(bs);
        let k = b % slots;
        let len = c.len();
        let block = |k: usize| k * bs..((k + 1) * bs).min(len);
        match op % 8 {
            0 | 1 => {
                // One block or a burst of up to 8 zeroed.
                let n = if op % 8 == 0 {
                    1
                } else {
                    1 + usize::from(a % 8)
                };
                for j in k..(k + n).min(slots) {
                    c[block(j)].fill(0);
                    erased.push(j as u64);
                }
            }
            2 => {
                let at = (b * 257 + usize::from(a)) % c.len();
                c[at] ^= 1 << (a % 8);
                only_erasures = false;
            }
            3 => {
                let cut = (b % (4 * bs)).min(c.len());
                c.truncate(c.len() - cut);
                only_erasures = false;
            }
            4 => {
                let j = usize::from(a) % slots;
                if block(j).len() == bs && block(k).len() == bs && j != k {
                    let (x, y) = (block(j.min(k)), block(j.max(k)));
                    let (lo, hi) = c.split_at_mut(y.start);
                    lo[x].swap_with_slice(&mut hi[..bs]);
                }
                only_erasures = false;
            }
            5 => {
                // A stale copy of one block over another.
                let j = usize::from(a) % slots;
                if block(j).len() == bs && block(k).len() == bs {
                    let copy = c[block(j)].to_vec();
                    c[block(k)].copy_from_slice(&copy);
                }
                only_erasures = false;
            }
            6 => {
                // A chance signature: a plausible header over noise.
                let r = block(k);
                let noise = noise(r.len(), b as u64 ^ u64::from(a) << 16);
                c[r.clone()].copy_from_slice(&noise);
                let head = [b'S', b'B', b'x', layout.version.byte()];
                let n = head.len().min(r.len());
                c[r.start..r.start + n].copy_from_slice(&head[..n]);
                only_erasures = false;
            }
            _ => {
                // An unaligned shift: bytes inserted at the front.
                let n = 1 + usize::from(a) % bs;
                c.splice(0..0, std::iter::repeat_n(0u8, n));
                only_erasures = false;
            }
        }
    }
    only_erasures.then_some(erased)
}

/// Whether Reed–Solomon can rebuild every block set after erasing `slots`, with at least one
/// metadata copy left (the metadata carries the layout and the hash).
fn within_parity(slots: &[u64], layout: Layout) -> bool {
    let mut per_set: HashMap<u64, usize> = HashMap::new();
    let mut metas = 0;
    let mut seen = std::collections::HashSet::new();
    for &k in slots {
        if !seen.insert(k) {
            continue;
        }
        match layout.slot(k) {
            Slot::Meta => metas += 1,
            Slot::Seq(s) => *per_set.entry(layout.set_of(s).0).or_default() += 1,
        }
    }
    metas < layout.meta_copies && per_set.values().all(|&n| n <= layout.parity)
}

/// Decode `container`; verified must mean the original bytes, and rebuildable damage must
/// decode verified.
fn decode_and_compare(what: &str, container: &Path, original: &[u8], rebuildable: bool) {
    let out = fresh_dir("decoded");
    let mut opts = DecodeOpts::new(container);
    opts.output = Target::Folder(out.clone());
    match decode::run(&opts, &never(), &quiet) {
        Ok(r) => {
            if r.status == DecodeStatus::Verified {
                let p = r.output.as_ref().expect("verified decode has an output");
                let got = std::fs::read(p).expect("decoded file");
                assert!(
                    got == original,
                    "{what}: verified but {} bytes differ from the original {}",
                    got.len(),
                    original.len()
                );
            }
            assert!(
                !rebuildable || r.status == DecodeStatus::Verified,
                "{what}: rebuildable damage decoded {:?}: {:?}",
                r.status,
                r.assembly
            );
        }
        Err(e) => assert!(!rebuildable, "{what}: rebuildable damage failed: {e}"),
    }
}
