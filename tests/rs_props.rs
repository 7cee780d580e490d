//! Property: for random M, P, B, sizes and erasure patterns of at most P blocks per block
//! set (plus lost metadata copies), decode gives the file back and repair gives the
//! container back, byte for byte.

mod common;

use common::noise;
use proptest::prelude::*;
use seqbox::engine::decode::{DecodeOpts, DecodeStatus};
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::repair::RepairOpts;
use seqbox::engine::{CancelFlag, decode, encode, repair};
use seqbox::format::Version;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn rs_containers_survive_up_to_p_erasures_per_set(
        m in 1usize..12,
        p in 1usize..5,
        burst in 0u32..16,
        size in 0usize..20_000,
        v18 in any::<bool>(),
        seed in 1u64..u64::MAX,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.bin");
        let data = noise(size, seed);
        std::fs::write(&input, &data).unwrap();
        let version = if v18 { Version::V18 } else { Version::V17 };
        let sbx = dir.path().join("c.ecsbx");
        let opts = EncodeOpts {
            output: Target::File(sbx.clone()),
            version,
            rs: RsParams { data: m, parity: p, burst },
            uid: Some([1, 2, 3, 4, 5, 6]),
            sbx_time: Some(0),
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &CancelFlag::new(), &|_| {}).unwrap();
        let original = std::fs::read(&sbx).unwrap();
        let layout = opts.layout().unwrap();
        let bs = version.block_size();

        // Erase up to P shards of every set, chosen at random, and all but one metadata copy.
        let mut bytes = original.clone();
        let mut rng = seed;
        for set in 0..layout.sets_for(size as u64) {
            let n = (xorshift(&mut rng) % (p as u64 + 1)) as usize;
            let mut shards: Vec<usize> = (0..layout.shards()).collect();
            for i in 0..n {
                let j = i + (xorshift(&mut rng) as usize) % (shards.len() - i);
                shards.swap(i, j);
                let slot = layout.slot_of(layout.seq_of(set, shards[i]).unwrap()) as usize;
                let garbage = xorshift(&mut rng) % 2 == 0;
                let block = &mut bytes[slot * bs..(slot + 1) * bs];
                if garbage { block.copy_from_slice(&noise(bs, rng)) } else { block.fill(0) }
            }
        }
        let keep = (xorshift(&mut rng) % (p as u64 + 1)) as usize;
        for (i, k) in layout.meta_slots().enumerate() {
            if i != keep {
                let k = k as usize;
                bytes[k * bs..(k + 1) * bs].fill(0);
            }
        }
        let damaged = dir.path().join("d.ecsbx");
        std::fs::write(&damaged, &bytes).unwrap();

        let mut d = DecodeOpts::new(&damaged);
        d.output = Target::File(dir.path().join("out"));
        let r = decode::run(&d, &CancelFlag::new(), &|_| {}).unwrap();
        prop_assert_eq!(r.status, DecodeStatus::Verified, "{:?}", r.assembly);
        prop_assert!(std::fs::read(dir.path().join("out")).unwrap() == data);

        let fixed = dir.path().join("fixed.ecsbx");
        let rep = repair::run(
            &RepairOpts { output: Some(fixed.clone()), ..RepairOpts::new(&damaged) },
            &CancelFlag::new(),
            &|_| {},
        ).unwrap();
        prop_assert!(rep.success());
        prop_assert!(std::fs::read(&fixed).unwrap() == original, "repair differs");
    }
}
