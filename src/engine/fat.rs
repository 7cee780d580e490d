//! In-memory FAT12 floppy images for the fragmentation demo and the recovery tests: a 1.44 MB
//! disk laid out exactly as `mkfs.fat -C -F 12 -n LABEL floppy.img 1440` makes it, files
//! allocated first-fit like DOS and mtools (so writes after deletions come out fragmented),
//! and helpers to wipe the system area and scramble sectors. Everything works on a byte
//! vector; nothing here ever opens or touches a real disk.

use std::ops::Range;

/// Bytes per sector (and per cluster: a 1.44 MB floppy has one sector per cluster).
pub const SECTOR: usize = 512;

const TOTAL_SECTORS: usize = 2880;
const RESERVED_SECTORS: usize = 1;
const NUM_FATS: usize = 2;
const FAT_SECTORS: usize = 9;
const ROOT_ENTRIES: usize = 224;
const DIR_ENTRY: usize = 32;
const ROOT_START: usize = RESERVED_SECTORS + NUM_FATS * FAT_SECTORS;
const ROOT_SECTORS: usize = ROOT_ENTRIES * DIR_ENTRY / SECTOR;
const DATA_START: usize = ROOT_START + ROOT_SECTORS;
const FIRST_CLUSTER: u16 = 2;
/// Highest valid cluster number: clusters 2..=LAST_CLUSTER fill the data area.
const LAST_CLUSTER: u16 = (TOTAL_SECTORS - DATA_START + 1) as u16;
const MEDIA: u8 = 0xF0;
const END_OF_CHAIN: u16 = 0xFFF;
const ATTR_VOLUME: u8 = 0x08;
const ATTR_DIR: u8 = 0x10;
const ATTR_ARCHIVE: u8 = 0x20;
const DELETED: u8 = 0xE5;
/// 2020-01-01 in DOS format (the time is 00:00, all zero bits), so images are reproducible.
const DOS_DATE: u16 = ((2020 - 1980) << 9) | (1 << 5) | 1;

/// A 1.44 MB FAT12 floppy image held in memory.
///
/// All state lives in the image itself (FAT and root directory), so what the methods see is
/// exactly what `fsck.fat` or mtools would see.
#[derive(Clone)]
pub struct Floppy {
    img: Vec<u8>,
}

impl Floppy {
    /// A freshly formatted 1.44 MB FAT12 image.
    ///
    /// `label` is upper-cased, cut to 11 characters, and characters FAT does not allow in
    /// labels become `_`. An empty label gives "NO NAME" and, as mkfs.fat does, no
    /// volume-label entry in the root directory.
    pub fn new(label: &str, volume_id: u32) -> Floppy {
        let mut img = vec![0u8; TOTAL_SECTORS * SECTOR];
        let label = volume_label(label);
        let b = &mut img[..SECTOR];
        // A jump over the BPB to a halt loop: some tools check for a valid jump instruction.
        b[0..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
        b[3..11].copy_from_slice(b"SEQBOX  ");
        put16(b, 0x0B, SECTOR as u16);
        b[0x0D] = 1; // sectors per cluster
        put16(b, 0x0E, RESERVED_SECTORS as u16);
        b[0x10] = NUM_FATS as u8;
        put16(b, 0x11, ROOT_ENTRIES as u16);
        put16(b, 0x13, TOTAL_SECTORS as u16);
        b[0x15] = MEDIA;
        put16(b, 0x16, FAT_SECTORS as u16);
        put16(b, 0x18, 18); // sectors per track
        put16(b, 0x1A, 2); // heads
        b[0x26] = 0x29; // extended boot signature: volume id, label and type follow
        b[0x27..0x2B].copy_from_slice(&volume_id.to_le_bytes());
        b[0x2B..0x36].copy_from_slice(&label.unwrap_or(*b"NO NAME    "));
        b[0x36..0x3E].copy_from_slice(b"FAT12   ");
        b[0x3E..0x42].copy_from_slice(&[0xFA, 0xF4, 0xEB, 0xFD]); // cli; hlt; jmp hlt
        b[0x1FE] = 0x55;
        b[0x1FF] = 0xAA;
        let mut disk = Floppy { img };
        disk.set_fat(0, 0xF00 | MEDIA as u16);
        disk.set_fat(1, 0xFFF);
        if let Some(label) = label {
            let e = disk.entry_mut(0);
            e[0..11].copy_from_slice(&label);
            e[11] = ATTR_VOLUME;
            put16(e, 24, DOS_DATE);
        }
        disk
    }

    /// Store a file in the root directory: 8.3 upper-case name (e.g. "PAD_07.BIN", or
    /// "README" with no extension; lower case is accepted and stored upper-cased, names that
    /// do not fit 8.3 are an `Err`), allocated first-fit into the lowest free clusters, so
    /// files written after deletions fill the freed gaps and end up fragmented, as mtools
    /// and DOS do. Returns the byte ranges of the image holding the file's data, in file
    /// order (one range per fragment; the last range covers the whole last cluster even if
    /// the file ends inside it). The slack after the end of the file is zeroed.
    ///
    /// Errors when the name is invalid or exists, or the disk or root directory is full.
    pub fn add_file(&mut self, name: &str, data: &[u8]) -> Result<Vec<Range<u64>>, String> {
        let short = short_name(name).ok_or_else(|| format!("{name:?} is not a valid 8.3 name"))?;
        if self.find(&short).is_some() {
            return Err(format!("{name} already exists"));
        }
        let size = u32::try_from(data.len()).map_err(|_| format!("{name} is too large"))?;
        let slot = (0..ROOT_ENTRIES)
            .find(|&i| matches!(self.entry(i)[0], 0 | DELETED))
            .ok_or("the root directory is full")?;
        let needed = data.len().div_ceil(SECTOR);
        let clusters: Vec<u16> = (FIRST_CLUSTER..=LAST_CLUSTER)
            .filter(|&c| self.fat(c) == 0)
            .take(needed)
            .collect();
        if clusters.len() < needed {
            let free = clusters.len();
            return Err(format!("disk full: {needed} clusters needed, {free} free"));
        }
        for (i, &c) in clusters.iter().enumerate() {
            let next = clusters.get(i + 1).copied().unwrap_or(END_OF_CHAIN);
            self.set_fat(c, next);
            let chunk = &data[i * SECTOR..data.len().min((i + 1) * SECTOR)];
            let at = cluster_offset(c);
            self.img[at..at + chunk.len()].copy_from_slice(chunk);
            self.img[at + chunk.len()..at + SECTOR].fill(0);
        }
        let e = self.entry_mut(slot);
        e.fill(0);
        e[0..11].copy_from_slice(&short);
        e[11] = ATTR_ARCHIVE;
        // Created, accessed and modified on the fixed date; the times stay 0 (midnight).
        for at in [16, 18, 24] {
            put16(e, at, DOS_DATE);
        }
        put16(e, 26, clusters.first().copied().unwrap_or(0));
        e[28..32].copy_from_slice(&size.to_le_bytes());
        Ok(ranges(&clusters))
    }

    /// Delete like `mdel`: first byte of the directory entry becomes 0xE5, the FAT chain is
    /// freed in both FATs, the data stays in the clusters.
    pub fn delete_file(&mut self, name: &str) -> Result<(), String> {
        let slot = short_name(name)
            .and_then(|s| self.find(&s))
            .ok_or_else(|| format!("{name} not found"))?;
        for c in self.chain(slot) {
            self.set_fat(c, 0);
        }
        self.entry_mut(slot)[0] = DELETED;
        Ok(())
    }

    /// The byte ranges of a file's data (as [`Floppy::add_file`] returns), if the file
    /// exists.
    pub fn file_ranges(&self, name: &str) -> Option<Vec<Range<u64>>> {
        let slot = self.find(&short_name(name)?)?;
        Some(ranges(&self.chain(slot)))
    }

    /// Read a file back through the directory and the FAT chain (exact length). `None` if
    /// the file does not exist or its chain is shorter than its size.
    pub fn read_file(&self, name: &str) -> Option<Vec<u8>> {
        let slot = self.find(&short_name(name)?)?;
        let size = u32::from_le_bytes(self.entry(slot)[28..32].try_into().ok()?) as usize;
        let mut out = Vec::with_capacity(size);
        for c in self.chain(slot) {
            let at = cluster_offset(c);
            let take = SECTOR.min(size - out.len());
            out.extend_from_slice(&self.img[at..at + take]);
            if out.len() == size {
                break;
            }
        }
        (out.len() == size).then_some(out)
    }

    /// Names of the files in the root directory (not deleted, not the volume label), as
    /// "NAME.EXT" or "NAME".
    pub fn list(&self) -> Vec<String> {
        self.files().map(|i| display_name(self.entry(i))).collect()
    }

    /// Bytes of the data area not allocated to any file (whole clusters).
    pub fn free_bytes(&self) -> u64 {
        let free = (FIRST_CLUSTER..=LAST_CLUSTER).filter(|&c| self.fat(c) == 0);
        (free.count() * SECTOR) as u64
    }

    /// Zero the boot sector, both FATs and the root directory (sectors 0..33), as the
    /// SeqBox demo does with a hex editor. Afterwards the image lists no files.
    pub fn wipe_system_area(&mut self) {
        self.img[..DATA_START * SECTOR].fill(0);
    }

    /// The image bytes (1,474,560 of them).
    pub fn image(&self) -> &[u8] {
        &self.img
    }

    /// The image bytes, consuming the floppy.
    pub fn into_image(self) -> Vec<u8> {
        self.img
    }

    /// Entry `n` of the first FAT.
    fn fat(&self, n: u16) -> u16 {
        let at = RESERVED_SECTORS * SECTOR + n as usize * 3 / 2;
        let pair = u16::from_le_bytes([self.img[at], self.img[at + 1]]);
        if n % 2 == 0 { pair & 0xFFF } else { pair >> 4 }
    }

    /// Set entry `n` in both FATs, which are kept identical.
    fn set_fat(&mut self, n: u16, value: u16) {
        for copy in 0..NUM_FATS {
            let at = (RESERVED_SECTORS + copy * FAT_SECTORS) * SECTOR + n as usize * 3 / 2;
            let pair = u16::from_le_bytes([self.img[at], self.img[at + 1]]);
            let pair = if n % 2 == 0 {
                (pair & 0xF000) | (value & 0xFFF)
            } else {
                (pair & 0x000F) | (value << 4)
            };
            self.img[at..at + 2].copy_from_slice(&pair.to_le_bytes());
        }
    }

    fn entry(&self, i: usize) -> &[u8] {
        let at = ROOT_START * SECTOR + i * DIR_ENTRY;
        &self.img[at..at + DIR_ENTRY]
    }

    fn entry_mut(&mut self, i: usize) -> &mut [u8] {
        let at = ROOT_START * SECTOR + i * DIR_ENTRY;
        &mut self.img[at..at + DIR_ENTRY]
    }

    /// Slots of the live file entries; a first byte of 0 marks the end of the directory.
    fn files(&self) -> impl Iterator<Item = usize> + '_ {
        (0..ROOT_ENTRIES)
            .take_while(|&i| self.entry(i)[0] != 0)
            .filter(|&i| {
                let e = self.entry(i);
                e[0] != DELETED && e[11] & (ATTR_VOLUME | ATTR_DIR) == 0
            })
    }

    fn find(&self, short: &[u8; 11]) -> Option<usize> {
        self.files().find(|&i| self.entry(i)[..11] == short[..])
    }

    /// The clusters of the file in `slot`, stopping at anything that is not a valid cluster
    /// so that a damaged FAT cannot loop or index out of the image.
    fn chain(&self, slot: usize) -> Vec<u16> {
        let mut c = u16::from_le_bytes([self.entry(slot)[26], self.entry(slot)[27]]);
        let mut out = Vec::new();
        while (FIRST_CLUSTER..=LAST_CLUSTER).contains(&c) && out.len() < LAST_CLUSTER as usize {
            out.push(c);
            c = self.fat(c);
        }
        out
    }
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn cluster_offset(c: u16) -> usize {
    (DATA_START + (c - FIRST_CLUSTER) as usize) * SECTOR
}

/// Byte ranges of a cluster list, adjacent clusters merged into one fragment.
fn ranges(clusters: &[u16]) -> Vec<Range<u64>> {
    let mut out: Vec<Range<u64>> = Vec::new();
    for &c in clusters {
        let at = cluster_offset(c) as u64;
        match out.last_mut() {
            Some(r) if r.end == at => r.end += SECTOR as u64,
            _ => out.push(at..at + SECTOR as u64),
        }
    }
    out
}

/// Characters DOS allows in short names besides letters and digits.
fn valid_char(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || b"!#$%&'()-@^_`{}~".contains(&c)
}

/// "NAME.EXT" as the 11 space-padded bytes of a directory entry.
fn short_name(name: &str) -> Option<[u8; 11]> {
    let upper = name.to_ascii_uppercase();
    let (base, ext) = upper.split_once('.').unwrap_or((&upper, ""));
    let ok = |s: &str, max| s.len() <= max && s.bytes().all(valid_char);
    if base.is_empty() || !ok(base, 8) || !ok(ext, 3) || (name.ends_with('.') && ext.is_empty()) {
        return None;
    }
    let mut out = [b' '; 11];
    out[..base.len()].copy_from_slice(base.as_bytes());
    out[8..8 + ext.len()].copy_from_slice(ext.as_bytes());
    Some(out)
}

fn display_name(entry: &[u8]) -> String {
    let part = |b: &[u8]| String::from_utf8_lossy(b).trim_end().to_owned();
    let (base, ext) = (part(&entry[..8]), part(&entry[8..11]));
    if ext.is_empty() {
        base
    } else {
        format!("{base}.{ext}")
    }
}

fn volume_label(label: &str) -> Option<[u8; 11]> {
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    let mut out = [b' '; 11];
    for (o, c) in out.iter_mut().zip(label.to_ascii_uppercase().bytes()) {
        *o = if c == b' ' || valid_char(c) { c } else { b'_' };
    }
    Some(out)
}

/// splitmix64: tiny, good enough to shuffle test images, and no dependency. Shared with the
/// demo, whose images must come out the same for the same seed.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-high, no modulo bias worth mentioning).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
}

/// Cut `sectors` sectors into runs of `min_run..=max_run` sectors; only the last run may be
/// shorter, when what is left does not fill a run.
fn cut_runs(n: usize, rng: &mut SplitMix, min: usize, max: usize) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut at = 0;
    while at < n {
        let len = (min + rng.below(max - min + 1)).min(n - at);
        runs.push(at..at + len);
        at += len;
    }
    runs
}

/// Cut `image` into runs of whole sectors of random lengths between `min_run` and `max_run`
/// sectors (inclusive; only the final run may be shorter, when the sectors do not divide
/// evenly) and shuffle the runs, deterministically from `seed`. Returns the new image (same
/// length) and, for each output sector, the input sector it came from.
///
/// # Panics
/// If the image is not a whole number of sectors or not `1 <= min_run <= max_run`.
pub fn scramble_runs(
    image: &[u8],
    seed: u64,
    min_run: usize,
    max_run: usize,
) -> (Vec<u8>, Vec<u32>) {
    assert!(image.len() % SECTOR == 0, "not whole sectors");
    assert!(1 <= min_run && min_run <= max_run, "bad run bounds");
    let mut rng = SplitMix(seed);
    let mut runs = cut_runs(image.len() / SECTOR, &mut rng, min_run, max_run);
    for i in (1..runs.len()).rev() {
        runs.swap(i, rng.below(i + 1));
    }
    let mut out = Vec::with_capacity(image.len());
    let mut map = Vec::with_capacity(image.len() / SECTOR);
    for r in runs {
        out.extend_from_slice(&image[r.start * SECTOR..r.end * SECTOR]);
        map.extend(r.map(|s| s as u32));
    }
    (out, map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut rng = SplitMix(seed);
        (0..len).map(|_| rng.next() as u8).collect()
    }

    fn at(img: &[u8], r: Range<u64>) -> &[u8] {
        &img[r.start as usize..r.end as usize]
    }

    /// Each small file's content and where add_file put it.
    type Written = Vec<(Vec<u8>, Vec<Range<u64>>)>;

    /// 40 files of 16 KiB, every even-numbered one deleted, then a 300 KiB BIG.BIN.
    fn fragmented_disk() -> (Floppy, Written, Vec<u8>) {
        let mut disk = Floppy::new("SEQBOX", 0x1234_5678);
        let mut small = Vec::new();
        for i in 0..40 {
            let data = noise(i, 16 * 1024);
            let r = disk.add_file(&format!("PAD_{i:02}.BIN"), &data).unwrap();
            small.push((data, r));
        }
        for i in (0..40).step_by(2) {
            disk.delete_file(&format!("PAD_{i:02}.BIN")).unwrap();
        }
        let big = noise(1000, 300 * 1024);
        disk.add_file("BIG.BIN", &big).unwrap();
        (disk, small, big)
    }

    /// Whether `tool` is on PATH; prints why a cross-check is skipped when it is not.
    fn have(tool: &str) -> bool {
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
        if !found {
            println!("{tool} not on PATH: cross-check with {tool} skipped");
        }
        found
    }

    fn run(cmd: &mut Command) {
        let out = cmd.output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let (o, e) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{cmd:?} failed: {o}\n{e}");
    }

    #[test]
    fn boot_sector_and_layout_match_mkfs() {
        let disk = Floppy::new("Label", 0xDEAD_BEEF);
        let img = disk.image();
        assert_eq!(img.len(), 1_474_560);
        let le = |v: u32, n: usize| v.to_le_bytes()[..n].to_vec();
        #[rustfmt::skip]
        let fields: [(usize, Vec<u8>); 16] = [
            (0x00, vec![0xEB, 0x3C, 0x90]), (0x0B, le(512, 2)), (0x0D, vec![1]),
            (0x0E, le(1, 2)), (0x10, vec![2]), (0x11, le(224, 2)), (0x13, le(2880, 2)),
            (0x15, vec![0xF0]), (0x16, le(9, 2)), (0x18, le(18, 2)), (0x1A, le(2, 2)),
            (0x26, vec![0x29]), (0x27, le(0xDEAD_BEEF, 4)), (0x2B, b"LABEL      ".to_vec()),
            (0x36, b"FAT12   ".to_vec()), (0x1FE, vec![0x55, 0xAA]),
        ];
        for (off, want) in fields {
            assert_eq!(img[off..off + want.len()], want[..], "at {off:#x}");
        }
        // Reserved + 2 FATs of 9 + 224 * 32 bytes of root directory = 33 sectors.
        assert_eq!(DATA_START, 1 + 2 * 9 + 224 * 32 / 512);
        assert_eq!(DATA_START, 33);
        assert_eq!(cluster_offset(2), 33 * SECTOR);
        assert_eq!(cluster_offset(LAST_CLUSTER) + SECTOR, img.len());
        for fat in [SECTOR, 10 * SECTOR] {
            assert_eq!(img[fat..fat + 4], [0xF0, 0xFF, 0xFF, 0]);
        }
        assert_eq!(&img[19 * SECTOR..19 * SECTOR + 12], b"LABEL      \x08");
        assert!(disk.list().is_empty());

        if have("mkfs.fat") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("mkfs.img");
            run(Command::new("mkfs.fat")
                .args(["-C", "-F", "12", "-n", "LABEL", "-i", "DEADBEEF"])
                .arg(&path)
                .arg("1440"));
            let theirs = std::fs::read(&path).unwrap();
            assert_eq!(theirs.len(), img.len());
            // The BPB, both FATs and the label entry (its timestamp aside) match mkfs.fat's.
            let root = 19 * SECTOR;
            for r in [0x0B..0x3E, SECTOR..root, root..root + 12] {
                assert_eq!(theirs[r.clone()], img[r.clone()], "{r:?}");
            }
        }
    }

    #[test]
    fn fat12_packing_round_trips() {
        let mut disk = Floppy::new("T", 1);
        let value = |n: u16| (n.wrapping_mul(2654) ^ 0xA5A) & 0xFFF;
        for n in FIRST_CLUSTER..=LAST_CLUSTER {
            disk.set_fat(n, value(n));
        }
        // Every entry reads back, so no write clobbered a neighbour's nibble.
        for n in FIRST_CLUSTER..=LAST_CLUSTER {
            assert_eq!(disk.fat(n), value(n), "cluster {n}");
        }
        assert_eq!((disk.fat(0), disk.fat(1)), (0xFF0, 0xFFF));
        // By hand: entries 2 and 3 share three bytes, low nibbles first.
        disk.set_fat(2, 0xABC);
        disk.set_fat(3, 0x123);
        let img = disk.image();
        assert_eq!(img[SECTOR + 3..SECTOR + 6], [0xBC, 0x3A, 0x12]);
        assert_eq!(img[SECTOR..10 * SECTOR], img[10 * SECTOR..19 * SECTOR]);
    }

    #[test]
    fn names_and_limits() {
        assert_eq!(&short_name("PAD_07.BIN").unwrap(), b"PAD_07  BIN");
        assert_eq!(&short_name("readme").unwrap(), b"README     ");
        for bad in "|.BIN|TOOLONGNAME.TXT|A.TOOL|A.B.C|SP ACE|A.|É".split('|') {
            assert!(short_name(bad).is_none(), "{bad:?} accepted");
        }
        let mut disk = Floppy::new("T", 1);
        assert!(disk.add_file("NOT_8.3_NAME", b"x").is_err());
        disk.add_file("README", b"hello").unwrap();
        disk.add_file("EMPTY.TXT", b"").unwrap();
        assert!(disk.add_file("readme", b"again").is_err(), "duplicate");
        assert_eq!(disk.list(), ["README", "EMPTY.TXT"]);
        assert_eq!(disk.read_file("README").unwrap(), b"hello");
        assert_eq!(disk.read_file("EMPTY.TXT").unwrap(), b"");
        assert_eq!(disk.file_ranges("EMPTY.TXT").unwrap(), []);
        assert!(disk.read_file("NOPE").is_none() && disk.delete_file("NOPE").is_err());
        disk.delete_file("README").unwrap();

        let free = (LAST_CLUSTER - 1) as usize * SECTOR;
        assert_eq!(disk.free_bytes(), free as u64);
        assert!(disk.add_file("HUGE", &vec![1; free + 1]).is_err());
        disk.add_file("HUGE", &vec![1; free]).unwrap();
        assert!(disk.add_file("MORE", b"x").is_err());
        disk.delete_file("HUGE").unwrap();
        // 224 entries, less the label and EMPTY.TXT; deleted slots are reused.
        for i in 0..222 {
            disk.add_file(&format!("F{i}"), b"").unwrap();
        }
        assert!(disk.add_file("ONE_MORE", b"").is_err());
    }

    #[test]
    fn writes_after_deletions_are_fragmented() {
        let (disk, small, big) = fragmented_disk();
        let img = disk.image();
        assert!(small.iter().all(|(_, r)| r.len() == 1));
        let ranges = disk.file_ranges("BIG.BIN").unwrap();
        assert!(ranges.len() > 5, "only {} fragments", ranges.len());
        // First fit: the first fragment is exactly the gap PAD_00 left.
        assert_eq!(ranges[0], small[0].1[0]);
        let joined: Vec<u8> = ranges
            .iter()
            .flat_map(|r| at(img, r.clone()))
            .copied()
            .collect();
        assert_eq!(joined.len(), big.len().div_ceil(SECTOR) * SECTOR);
        assert!(joined[..big.len()] == big[..], "fragments out of order");
        assert!(joined[big.len()..].iter().all(|&b| b == 0), "slack");
        assert!(disk.read_file("BIG.BIN").unwrap() == big);
        assert_eq!(disk.list().len(), 21);

        // Deleted files' data stays where it was unless BIG.BIN reused the cluster.
        let mut intact = 0;
        for (i, (data, old)) in small.iter().enumerate() {
            let name = format!("PAD_{i:02}.BIN");
            if i % 2 == 1 {
                assert!(disk.read_file(&name).unwrap() == *data);
                continue;
            }
            assert!(disk.read_file(&name).is_none());
            let mut whole = true;
            for (k, chunk) in data.chunks(SECTOR).enumerate() {
                let s = old[0].start + (k * SECTOR) as u64;
                if ranges.iter().any(|r| r.contains(&s)) {
                    whole = false;
                } else {
                    assert!(at(img, s..s + SECTOR as u64) == chunk, "{name} sector {k}");
                }
            }
            intact += whole as usize;
        }
        assert!(intact >= 1, "no deleted file survived whole");
    }

    #[test]
    fn real_tools_accept_the_image() {
        let (disk, small, big) = fragmented_disk();
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("floppy.img");
        std::fs::write(&image, disk.image()).unwrap();
        if have("fsck.fat") {
            run(Command::new("fsck.fat").arg("-n").arg(&image));
        }
        if have("mcopy") {
            for (name, want) in [("BIG.BIN", &big), ("PAD_39.BIN", &small[39].0)] {
                let dest = dir.path().join(name);
                let from = format!("::/{name}");
                run(Command::new("mcopy")
                    .arg("-n")
                    .arg("-i")
                    .arg(&image)
                    .arg(from)
                    .arg(&dest));
                assert!(std::fs::read(&dest).unwrap() == *want, "mcopy {name}");
            }
        }
    }

    #[test]
    fn wipe_zeroes_exactly_the_system_area() {
        let (mut disk, _, _) = fragmented_disk();
        let before = disk.image().to_vec();
        disk.wipe_system_area();
        let after = disk.image();
        assert!(after[..33 * SECTOR].iter().all(|&b| b == 0));
        assert!(before[..33 * SECTOR].iter().any(|&b| b != 0));
        assert!(after[33 * SECTOR..] == before[33 * SECTOR..]);
        assert!(disk.list().is_empty() && disk.read_file("BIG.BIN").is_none());
    }

    #[test]
    fn scramble_is_a_deterministic_permutation_of_runs() {
        // Tag every sector with its number so the mapping can be checked against the bytes.
        let mut img = fragmented_disk().0.into_image();
        for (s, sector) in img.chunks_mut(SECTOR).enumerate() {
            sector[..4].copy_from_slice(&(s as u32).to_le_bytes());
        }
        let (min_run, max_run) = (3, 9);
        let (out, map) = scramble_runs(&img, 42, min_run, max_run);
        assert_eq!((out.len(), map.len()), (img.len(), TOTAL_SECTORS));
        let mut seen = vec![false; TOTAL_SECTORS];
        for (o, &i) in map.iter().enumerate() {
            assert!(!std::mem::replace(&mut seen[i as usize], true), "{i} twice");
            let i = i as usize;
            assert!(out[o * SECTOR..(o + 1) * SECTOR] == img[i * SECTOR..(i + 1) * SECTOR]);
        }
        assert!(seen.iter().all(|&s| s));
        assert!(map.windows(2).any(|w| w[1] != w[0] + 1), "nothing moved");

        // Runs in bounds: the cut the shuffle used, and, seen from outside, every maximal
        // stretch of consecutive input sectors is at least one run long.
        let runs = cut_runs(TOTAL_SECTORS, &mut SplitMix(42), min_run, max_run);
        let (last, rest) = runs.split_last().unwrap();
        assert!(rest.iter().all(|r| (min_run..=max_run).contains(&r.len())));
        assert!((1..=max_run).contains(&last.len()));
        let mut start = 0;
        for o in 1..=map.len() {
            if o == map.len() || map[o] != map[o - 1] + 1 {
                let ends_image = map[o - 1] as usize == TOTAL_SECTORS - 1;
                assert!(o - start >= min_run || ends_image, "{} sectors", o - start);
                start = o;
            }
        }

        assert!(scramble_runs(&img, 42, min_run, max_run) == (out, map.clone()));
        assert!(scramble_runs(&img, 43, min_run, max_run).1 != map);
        let (_, single) = scramble_runs(&img, 7, 1, 1);
        assert!(single.windows(2).any(|w| w[1] != w[0] + 1) && single.len() == TOTAL_SECTORS);
    }
}
