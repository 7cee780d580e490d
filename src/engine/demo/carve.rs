//! The carver the demo compares SBX recovery with: a signature carver, the classic way to
//! get files back from a disk without its file system. Reads only the image it is given.

use memchr::memmem;

/// Bytes of an original's start a carver searches for (its "signature").
const HEADER: usize = 16;

/// What a signature carver gets for one file.
pub(super) struct Carving {
    pub found: bool,
    /// Leading bytes of the best candidate that match the original.
    pub prefix: u64,
    /// The best candidate: `size` bytes from where the header was found (fewer at the end
    /// of the image).
    pub bytes: Option<Vec<u8>>,
}

/// Carve `original` out of `image` as a signature carver does: find its first bytes, take
/// its size in contiguous bytes from there. Every place the header occurs is tried (also
/// inside its SBX copy, where the start of a file sits after the first block header) and the
/// candidate with the most correct leading bytes is kept, so carving gets its best chance.
pub(super) fn carve(image: &[u8], original: &[u8]) -> Carving {
    let header = &original[..original.len().min(HEADER)];
    let mut best: Option<(u64, usize)> = None;
    for at in memmem::find_iter(image, header) {
        let candidate = &image[at..image.len().min(at + original.len())];
        let prefix = candidate
            .iter()
            .zip(original)
            .take_while(|(a, b)| a == b)
            .count() as u64;
        if best.is_none_or(|(p, _)| prefix > p) {
            best = Some((prefix, at));
        }
    }
    match best {
        Some((prefix, at)) => Carving {
            found: true,
            prefix,
            bytes: Some(image[at..image.len().min(at + original.len())].to_vec()),
        },
        None => Carving {
            found: false,
            prefix: 0,
            bytes: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carver_keeps_its_best_candidate_and_says_when_it_found_nothing() {
        let original: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut image = vec![0u8; 600];
        // A copy of the first 100 bytes, then the whole file, then the first 40 bytes cut by
        // the end of the image.
        image.extend_from_slice(&original[..100]);
        image.extend_from_slice(&[0xAA; 300]);
        image.extend_from_slice(&original);
        image.extend_from_slice(&original[..40]);
        let c = carve(&image, &original);
        assert!(c.found && c.prefix == 2000 && c.bytes.as_deref() == Some(&original[..]));

        let broken = &image[..2500];
        let c = carve(broken, &original);
        assert_eq!((c.found, c.prefix), (true, 1500));
        assert_eq!(c.bytes.unwrap().len(), 1500);

        let c = carve(&image[..700], &original);
        assert_eq!(
            (c.found, c.prefix, c.bytes.map(|b| b.len())),
            (true, 100, Some(100))
        );

        let c = carve(&[1, 2, 3], &original);
        assert!(!c.found && c.prefix == 0 && c.bytes.is_none());
    }
}
