//! Turn a case into its artefacts: the file's data, the container (and an older one with the
//! same UID where the case wants it), laid into a container file or into images, then
//! damaged the way the case kind says — all drawn from the case's seed.

use super::art::{Artefact, Encoded, Item, Src};
use super::{Case, Kind, Rng};
use std::path::Path;

/// Creation times: the older container was made first.
const NEW_SDT: i64 = 1_700_000_000;
const OLD_SDT: i64 = 1_600_000_000;
const SECTOR: u64 = 512;

pub struct Scenario {
    pub new: Encoded,
    pub old: Option<Encoded>,
    /// The container file (one) or the images.
    pub artefacts: Vec<Artefact>,
}

pub fn build(case: &Case, dir: &Path) -> Scenario {
    let mut rng = Rng::new(case.seed ^ 0xDA7A);
    let data = file_data(&mut rng, case.size as usize);
    let layout = case.geometry.layout();
    let stale = matches!(
        case.kind,
        Kind::StaleTail | Kind::StaleScattered | Kind::ImageStale
    );
    let old = stale.then(|| {
        let old_data = older_version(&mut rng, &data, case, case.kind == Kind::StaleTail);
        Encoded::new(dir, "file.bin", old_data, layout, OLD_SDT)
    });
    let new = Encoded::new(dir, "file.bin", data, layout, NEW_SDT);
    let artefacts = lay_out(case, &mut rng, &new, old.as_ref());
    Scenario {
        new,
        old,
        artefacts,
    }
}

/// Random bytes mostly; sometimes text-like data whose chunks repeat.
fn file_data(rng: &mut Rng, len: usize) -> Vec<u8> {
    if rng.chance(20) {
        let line = b"The quick brown fox jumps over the lazy dog. 0123456789\n";
        return line.iter().copied().cycle().take(len).collect();
    }
    rng.bytes(len)
}

/// An older version of `data`: some chunks changed, a different length (longer when it must
/// outlast the new container written over it).
fn older_version(rng: &mut Rng, data: &[u8], case: &Case, longer: bool) -> Vec<u8> {
    let g = case.geometry;
    let set = (g.payload() * g.m as u64) as usize;
    let len = if longer {
        data.len() + rng.range(1, 40 * set as u64) as usize
    } else {
        rng.range(1, (data.len() as u64 * 2).max(4 * set as u64)) as usize
    };
    let mut old: Vec<u8> = data.iter().copied().take(len).collect();
    old.extend(rng.bytes(len - old.len()));
    // Edit a few places: the blocks there (and their sets' parity) differ between versions.
    for _ in 0..rng.range(1, 8) {
        if !old.is_empty() {
            let at = rng.below(old.len() as u64) as usize;
            old[at] ^= 0xA5;
        }
    }
    old
}

fn slots(c: &Encoded, src: Src) -> Vec<Item> {
    (0..c.slots.len()).map(|k| Item::Slot(src, k)).collect()
}

fn filler(rng: &mut Rng, len: usize) -> Item {
    Item::Fill(if rng.chance(50) {
        vec![0; len]
    } else {
        rng.bytes(len)
    })
}

fn lay_out(case: &Case, rng: &mut Rng, new: &Encoded, old: Option<&Encoded>) -> Vec<Artefact> {
    let bs = new.block_size() as u64;
    let file = |items: &[Item]| Artefact::build("container.sbx", items, new, old);
    let mut arts = match case.kind {
        Kind::Clean => vec![file(&slots(new, Src::New))],
        Kind::Loss => {
            let mut a = file(&slots(new, Src::New));
            let (percent, mode) = (rng.below(31), rng.below(3));
            lose_blocks(&mut a, rng, percent, bs, mode);
            vec![a]
        }
        Kind::Burst => {
            let mut a = file(&slots(new, Src::New));
            let l = case.geometry.layout();
            let span = bs * (l.shards() as u64 * (u64::from(l.burst) + 1)).max(2) * 2;
            for _ in 0..rng.range(1, 4) {
                let at = rng.below(a.len());
                let len = rng.range(1, span);
                let mut noise = rng.chance(30).then(|| Rng::new(rng.next()));
                a.overwrite(at, len, noise.as_mut());
            }
            vec![a]
        }
        Kind::BitFlip => {
            let mut a = file(&slots(new, Src::New));
            let blocks = (a.len() / bs).max(1);
            for _ in 0..rng.range(1, (blocks / 8).max(2)) {
                let block = rng.below(blocks);
                for _ in 0..rng.range(1, 4) {
                    a.flip(block * bs * 8 + rng.below(bs * 8));
                }
            }
            vec![a]
        }
        Kind::Truncate => {
            let mut a = file(&slots(new, Src::New));
            let len = a.len();
            let cut = match rng.below(5) {
                0 | 1 => rng.range(len - len / 4, len),
                2 => rng.below(len / bs + 1) * bs,
                _ => rng.below(len),
            };
            a.truncate(cut);
            vec![a]
        }
        Kind::Reorder => {
            let mut a = file(&shuffled(rng, slots(new, Src::New)));
            if rng.chance(50) {
                let percent = rng.below(6);
                lose_blocks(&mut a, rng, percent, bs, 0);
            }
            vec![a]
        }
        Kind::MetaFar => {
            let metas = new.meta_slots();
            let mut items: Vec<Item> = (0..new.slots.len())
                .filter(|k| !metas.contains(k))
                .map(|k| Item::Slot(Src::New, k))
                .collect();
            items.extend(metas.iter().map(|&k| Item::Slot(Src::New, k)));
            vec![file(&items)]
        }
        Kind::MetaLost => {
            let mut a = file(&slots(new, Src::New));
            // Zeroed (nothing says a metadata block was there), or damaged in its payload
            // (a block with the signature that fails its CRC: evidence that it was).
            let zeroed = rng.chance(50);
            for k in new.meta_slots() {
                let at = k as u64 * bs;
                if zeroed {
                    a.overwrite(at, bs, None);
                } else {
                    a.flip((at + 16 + rng.below(bs - 16)) * 8 + rng.below(8));
                }
            }
            if rng.chance(50) {
                let percent = rng.below(6);
                lose_blocks(&mut a, rng, percent, bs, 0);
            }
            vec![a]
        }
        Kind::StaleTail => {
            let old = old.expect("old");
            let mut items = slots(new, Src::New);
            items.extend((new.slots.len()..old.slots.len()).map(|k| Item::Slot(Src::Old, k)));
            let mut a = file(&items);
            let percent = rng.below(11);
            lose_blocks(&mut a, rng, percent, bs, 0);
            vec![a]
        }
        Kind::StaleScattered => {
            let old = old.expect("old");
            let mut items = slots(new, Src::New);
            let metas = new.meta_slots();
            let stale: Vec<usize> = (0..old.slots.len())
                .filter(|&k| old.slots[k].is_some_and(|s| s > 0))
                .collect();
            let n = rng.range(1, (items.len() as u64 / 10).max(2));
            for _ in 0..n {
                let k = rng.below(items.len() as u64) as usize;
                if !metas.contains(&k) && !stale.is_empty() {
                    items[k] = Item::Slot(Src::Old, *rng.pick(&stale));
                }
            }
            vec![file(&items)]
        }
        Kind::Image => vec![image(rng, "image.img", new, old, false, 31)],
        Kind::TwoImages => vec![
            image(rng, "image-a.img", new, old, false, 51),
            image(rng, "image-b.img", new, old, false, 51),
        ],
        Kind::ImageStale => vec![image(rng, "image.img", new, old, true, 11)],
    };
    for a in &mut arts {
        a.seal();
    }
    arts
}

/// Lose about `percent` % of the block slots of a container file: zeroed (mode 0), noise
/// (mode 1), or cut out of the file (mode 2, which moves every later block back).
fn lose_blocks(a: &mut Artefact, rng: &mut Rng, percent: u64, bs: u64, mode: u64) {
    let blocks = a.len() / bs;
    let lost: Vec<u64> = (0..blocks).filter(|_| rng.below(100) < percent).collect();
    // Cut from the end so the earlier offsets stay where they were.
    for &k in lost.iter().rev() {
        match mode {
            0 => a.overwrite(k * bs, bs, None),
            1 => {
                let mut noise = Rng::new(rng.next());
                a.overwrite(k * bs, bs, Some(&mut noise));
            }
            _ => a.cut(k * bs, bs),
        }
    }
}

/// The slots in 2–6 pieces, the pieces in another order.
fn shuffled(rng: &mut Rng, items: Vec<Item>) -> Vec<Item> {
    let n = items.len() as u64;
    let mut cuts: Vec<u64> = (0..rng.range(1, 6))
        .map(|_| rng.range(1, n.max(2)))
        .collect();
    cuts.extend([0, n]);
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces: Vec<Vec<Item>> = Vec::new();
    let mut it = items.into_iter();
    for w in cuts.windows(2) {
        pieces.push(it.by_ref().take((w[1] - w[0]) as usize).collect());
    }
    // A rotation at least, then random swaps: never the original order when there are two.
    if pieces.len() > 1 {
        pieces.rotate_left(1);
        for i in (1..pieces.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            pieces.swap(i, j);
        }
    }
    pieces.into_iter().flatten().collect()
}

/// A disk image: other data, the container at an odd byte offset — sometimes in pieces
/// scattered in another order, like a fragmented file — (the older container too, before or
/// after it), more data; then up to `max_loss` − 1 % of its 512-byte sectors lost (zeroed,
/// or sometimes cut out, as `dd conv=noerror` does), and sometimes a burst.
fn image(
    rng: &mut Rng,
    name: &str,
    new: &Encoded,
    old: Option<&Encoded>,
    with_old: bool,
    max_loss: u64,
) -> Artefact {
    let mut pieces = vec![slots(new, Src::New)];
    let fragmented = rng.chance(40);
    if fragmented {
        let n = pieces[0].len() as u64;
        let mut cuts: Vec<u64> = (0..rng.range(1, 5))
            .map(|_| rng.range(1, n.max(2)))
            .collect();
        cuts.extend([0, n]);
        cuts.sort_unstable();
        cuts.dedup();
        let mut all = pieces.pop().unwrap().into_iter();
        for w in cuts.windows(2) {
            pieces.push(all.by_ref().take((w[1] - w[0]) as usize).collect());
        }
    }
    if with_old {
        pieces.push(slots(old.expect("old"), Src::Old));
    }
    for i in (1..pieces.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        pieces.swap(i, j);
    }
    let pre = (rng.range(0, 3) * SECTOR + rng.range(1, SECTOR)) | 1;
    let mut items = vec![filler(rng, pre as usize)];
    for piece in pieces {
        items.extend(piece);
        let gap = rng.range(1, 4 * SECTOR) as usize;
        items.push(filler(rng, gap));
    }
    let mut a = Artefact::build(name, &items, new, old);
    a.misaligned |= fragmented;
    let percent = rng.below(max_loss);
    let cut = rng.chance(25);
    let sectors = a.len().div_ceil(SECTOR);
    // From the end, so a cut leaves the sectors still to visit where they were.
    for s in (0..sectors).rev() {
        if rng.below(100) < percent {
            if cut {
                a.cut(s * SECTOR, SECTOR);
            } else {
                a.overwrite(s * SECTOR, SECTOR, None);
            }
        }
    }
    if rng.chance(30) {
        let at = rng.below(a.len());
        a.overwrite(at, rng.range(1, 16 * SECTOR), None);
    }
    a
}
