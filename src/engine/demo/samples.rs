//! The files the demo puts on its floppy when the user gives none: a picture, a text
//! document, a sound and an archive, each a real file of its kind (BMP, plain text, WAV, ZIP
//! with stored entries) so a signature carver has genuine headers to find and a person can
//! open what came back. Deterministic from the seed, integer maths only, so one seed gives
//! the same bytes on every machine.

use crate::engine::fat::SplitMix;

/// A generated file: its name and its bytes.
pub struct Sample {
    pub name: &'static str,
    pub data: Vec<u8>,
}

/// The four samples for `seed`: about 200 KB together, the biggest first.
pub fn samples(seed: u64) -> Vec<Sample> {
    let mut rng = SplitMix(seed ^ 0x5A3D_1E5F_0000_0001);
    vec![
        Sample {
            name: "picture.bmp",
            data: bmp(&mut rng, 256, 144),
        },
        Sample {
            name: "sound.wav",
            data: wav(&mut rng),
        },
        Sample {
            name: "report.txt",
            data: text(&mut rng, seed, 20_000),
        },
        Sample {
            name: "archive.zip",
            data: zip(&mut rng, seed),
        },
    ]
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A 24-bit BMP: a colour gradient under concentric rings and diagonal stripes, centred and
/// tinted by the seed, so a broken copy is easy to tell from a whole one at a glance.
fn bmp(rng: &mut SplitMix, w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let pixels = row * h;
    let mut out = Vec::with_capacity((54 + pixels) as usize);
    out.extend_from_slice(b"BM");
    put32(&mut out, 54 + pixels);
    put32(&mut out, 0); // reserved
    put32(&mut out, 54); // pixel data offset
    put32(&mut out, 40); // BITMAPINFOHEADER
    put32(&mut out, w);
    put32(&mut out, h); // positive: rows bottom-up
    put16(&mut out, 1); // planes
    put16(&mut out, 24); // bits per pixel
    put32(&mut out, 0); // no compression
    put32(&mut out, pixels);
    put32(&mut out, 2835); // 72 dpi, in pixels per metre
    put32(&mut out, 2835);
    put32(&mut out, 0); // colours used
    put32(&mut out, 0); // important colours
    let cx = (w / 4 + rng.below(w as usize / 2) as u32) as i64;
    let cy = (h / 4 + rng.below(h as usize / 2) as u32) as i64;
    let tint = [
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.below(256) as u8,
    ];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (i64::from(x) - cx, i64::from(y) - cy);
            let ring = ((dx * dx + dy * dy) as u64).isqrt() / 10 % 2 == 1;
            let stripe = (x + y) / 24 % 2 == 1;
            let base = [(x * 255 / w) as u8, (y * 255 / h) as u8, 160];
            let mut px = if ring { tint } else { base };
            if stripe {
                px = px.map(|c| c / 2 + 64);
            }
            out.extend_from_slice(&[px[2], px[1], px[0]]); // stored as blue, green, red
        }
        out.resize(out.len() + (row - w * 3) as usize, 0);
    }
    out
}

/// 1.5 s of 16-bit mono PCM at 22 050 Hz: six notes of a pentatonic tune (triangle waves
/// with a fading envelope), chosen by the seed.
fn wav(rng: &mut SplitMix) -> Vec<u8> {
    const RATE: u32 = 22_050;
    const NOTE: usize = RATE as usize / 4;
    // Periods in samples of C5, D5, E5, G5, A5, C6.
    const PERIODS: [i64; 6] = [42, 38, 34, 28, 25, 21];
    let mut pcm = Vec::with_capacity(6 * NOTE * 2);
    for _ in 0..6 {
        let period = PERIODS[rng.below(PERIODS.len())];
        for i in 0..NOTE as i64 {
            let phase = i % period;
            // Triangle from -1 to 1 in units of 1/period, scaled to 12 000 at full volume.
            let tri = (4 * phase - 2 * period).abs() - period;
            let envelope = NOTE as i64 - i;
            let sample = tri * 12_000 / period * envelope / NOTE as i64;
            pcm.extend_from_slice(&(sample as i16).to_le_bytes());
        }
    }
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    put32(&mut out, 36 + pcm.len() as u32);
    out.extend_from_slice(b"WAVEfmt ");
    put32(&mut out, 16);
    put16(&mut out, 1); // PCM
    put16(&mut out, 1); // mono
    put32(&mut out, RATE);
    put32(&mut out, RATE * 2); // bytes per second
    put16(&mut out, 2); // bytes per frame
    put16(&mut out, 16); // bits per sample
    out.extend_from_slice(b"data");
    put32(&mut out, pcm.len() as u32);
    out.extend_from_slice(&pcm);
    out
}

const WORDS: &[&str] = &[
    "block",
    "sector",
    "floppy",
    "file",
    "system",
    "header",
    "signature",
    "copy",
    "fragment",
    "recovery",
    "scan",
    "disk",
    "byte",
    "cluster",
    "table",
    "directory",
    "image",
    "container",
    "sequence",
    "number",
    "hash",
    "order",
    "piece",
    "whole",
    "lost",
    "found",
    "every",
    "small",
    "careful",
    "old",
    "new",
    "quiet",
    "bright",
    "long",
    "short",
    "keeps",
    "finds",
    "reads",
    "writes",
    "loses",
    "shows",
    "the",
    "a",
    "of",
    "and",
    "in",
    "on",
    "with",
    "after",
    "before",
];

/// A plain-text report of at least `min_len` bytes: numbered sections of paragraphs made of
/// words the seed picks.
fn text(rng: &mut SplitMix, seed: u64, min_len: usize) -> Vec<u8> {
    let mut out = format!(
        "Demo report no. {seed}\n\nA text document written for the fragmentation \
         demo. Open the recovered copy and compare.\n"
    );
    let mut section = 0;
    while out.len() < min_len {
        section += 1;
        out.push_str(&format!("\n{section}. Section {section}\n\n"));
        for _ in 0..3 + rng.below(3) {
            for s in 0..3 + rng.below(4) {
                let words: Vec<&str> = (0..6 + rng.below(9))
                    .map(|_| WORDS[rng.below(WORDS.len())])
                    .collect();
                let sentence = words.join(" ");
                if s > 0 {
                    out.push(' ');
                }
                out.push_str(&sentence[..1].to_ascii_uppercase());
                out.push_str(&sentence[1..]);
                out.push('.');
            }
            out.push_str("\n\n");
        }
    }
    out.into_bytes()
}

/// A ZIP archive with two stored (uncompressed) files: a note and a table of numbers.
fn zip(rng: &mut SplitMix, seed: u64) -> Vec<u8> {
    const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    // 2020-01-01 00:00 in DOS format, as on the floppy.
    const DOS_TIME: u16 = 0;
    const DOS_DATE: u16 = ((2020 - 1980) << 9) | (1 << 5) | 1;
    let note = format!(
        "This archive was made by the SeqBox Studio demo (seed {seed}).\n\
         A carver that finds its first bytes may still get a broken archive:\n\
         the central directory at the end tells whether the pieces belong together.\n"
    );
    let mut table = String::from("index,value,square\n");
    for i in 0..100u64 {
        let v = rng.below(10_000) as u64;
        table.push_str(&format!("{i},{v},{}\n", v * v));
    }
    let entries = [
        ("note.txt", note.into_bytes()),
        ("table.csv", table.into_bytes()),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in &entries {
        let offset = out.len() as u32;
        let crc = CRC32.checksum(data);
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        put32(&mut out, 0x0403_4B50);
        for v in [10, 0, 0, DOS_TIME, DOS_DATE] {
            put16(&mut out, v); // version needed, flags, method (stored), time, date
        }
        for v in [crc, size, size] {
            put32(&mut out, v);
        }
        put16(&mut out, name_len);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        put32(&mut central, 0x0201_4B50);
        for v in [20, 10, 0, 0, DOS_TIME, DOS_DATE] {
            put16(&mut central, v); // made by, needed, flags, method, time, date
        }
        for v in [crc, size, size] {
            put32(&mut central, v);
        }
        for v in [name_len, 0, 0, 0, 0] {
            put16(&mut central, v); // name, extra, comment lengths, disk, internal attributes
        }
        put32(&mut central, 0); // external attributes
        put32(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    put32(&mut out, 0x0605_4B50);
    let n = entries.len() as u16;
    for v in [0, 0, n, n] {
        put16(&mut out, v); // this disk, directory's disk, entries here, entries in all
    }
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0); // comment length
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn samples_are_real_files_of_their_kind_and_follow_the_seed() {
        let s = samples(1);
        let names: Vec<_> = s.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["picture.bmp", "sound.wav", "report.txt", "archive.zip"]
        );
        let (bmp, wav, txt, zip) = (&s[0].data, &s[1].data, &s[2].data, &s[3].data);
        assert_eq!(&bmp[..2], b"BM");
        assert_eq!(u32_at(bmp, 2) as usize, bmp.len());
        assert_eq!((u32_at(bmp, 18), u32_at(bmp, 22)), (256, 144));
        assert_eq!(bmp.len(), 54 + 256 * 3 * 144);
        assert_eq!((&wav[..4], &wav[8..16]), (&b"RIFF"[..], &b"WAVEfmt "[..]));
        assert_eq!(u32_at(wav, 4) as usize, wav.len() - 8);
        assert_eq!(u32_at(wav, 40) as usize, wav.len() - 44);
        assert!(txt.starts_with(b"Demo report no. 1\n") && txt.len() >= 20_000);
        assert!(std::str::from_utf8(txt).is_ok());
        // The end-of-central-directory record points at the directory, which points at the
        // first local header.
        let eocd = zip.len() - 22;
        assert_eq!(u32_at(zip, eocd), 0x0605_4B50);
        let cd = u32_at(zip, eocd + 16) as usize;
        assert_eq!(cd + u32_at(zip, eocd + 12) as usize, eocd);
        assert_eq!((u32_at(zip, cd), u32_at(zip, cd + 42)), (0x0201_4B50, 0));
        assert_eq!(u32_at(zip, 0), 0x0403_4B50);

        let again = samples(1);
        assert!(s.iter().zip(&again).all(|(a, b)| a.data == b.data));
        let other = samples(2);
        assert!(s.iter().zip(&other).all(|(a, b)| a.data != b.data));
        // Sizes depend on the seed only through the text and the table: the layout of the
        // floppy stays comparable from seed to seed.
        assert_eq!(s[0].data.len(), other[0].data.len());
    }
}
