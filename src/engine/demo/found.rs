//! What SBX recovery had to work with on the scrambled floppy: for each container, how many of
//! its blocks lay there and in how many pieces (runs of consecutive sectors holding
//! consecutive blocks). Reads the image bytes in memory only.

use crate::format::block::{BlockState, Uid, classify};
use std::collections::HashMap;

/// Blocks found and pieces they lay in, per UID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub blocks: u64,
    pub pieces: u64,
}

/// Every valid block of `image` (one block per `sector` bytes), counted per UID with the
/// pieces it lies in: a new piece starts where the next sector does not hold the next block.
pub fn found(image: &[u8], sector: usize) -> HashMap<Uid, Found> {
    let mut out: HashMap<Uid, Found> = HashMap::new();
    let mut prev: Option<(Uid, u32)> = None;
    for s in image.chunks(sector) {
        let here = match classify(s) {
            BlockState::Valid(h) if h.version.block_size() == sector => Some((h.uid, h.seq)),
            _ => None,
        };
        if let Some((uid, seq)) = here {
            let f = out.entry(uid).or_default();
            f.blocks += 1;
            let continues = prev.is_some_and(|(u, q)| u == uid && q.checked_add(1) == Some(seq));
            if !continues {
                f.pieces += 1;
            }
        }
        prev = here;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Version;
    use crate::format::block::write_header;

    #[test]
    fn pieces_are_runs_of_consecutive_blocks_in_consecutive_sectors() {
        let block = |uid: Uid, seq| {
            let mut b = vec![0u8; 512];
            write_header(&mut b, Version::V1, &uid, seq);
            b
        };
        let (a, b) = ([1u8; 6], [2u8; 6]);
        let img: Vec<u8> = [
            block(a, 0),
            block(a, 1),
            vec![0; 512],
            block(a, 2),
            block(b, 5),
            block(a, 3),
            block(a, 4),
        ]
        .concat();
        let f = found(&img, 512);
        assert_eq!(
            f[&a],
            Found {
                blocks: 5,
                pieces: 3
            }
        );
        assert_eq!(
            f[&b],
            Found {
                blocks: 1,
                pieces: 1
            }
        );
    }
}
