//! The corruption matrix's model: which containers (version, M + P, burst level, file size),
//! which damage (the case kinds), and a seeded generator that turns a case number into one
//! fully determined case, so any failure is reproduced from its number alone.
//!
//! Included by `tests/corruption_matrix.rs` only (by path, so the other test binaries do not
//! compile it). `art` builds containers and the files or images they lie in and damages them while
//! keeping track of every block copy; `oracle` says from that record what the maths allows;
//! `judge` runs the engine and the binary on the case and compares. Test-only: never touches
//! anything outside the temporary folders it is given.

pub mod art;
pub mod judge;
pub mod oracle;
pub mod scenario;

use seqbox::format::Version;
use seqbox::format::rs::Layout;

/// A small, fast, seedable generator (splitmix64): the whole matrix is reproducible.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EB0_C5DA_7A5E_ED00)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in `lo..hi` (lo when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo))
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// Version and Reed–Solomon settings of one container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub version: Version,
    pub m: usize,
    pub p: usize,
    pub b: u32,
}

impl Geometry {
    const fn plain(version: Version) -> Geometry {
        Geometry {
            version,
            m: 1,
            p: 0,
            b: 0,
        }
    }

    const fn rs(version: Version, m: usize, p: usize, b: u32) -> Geometry {
        Geometry { version, m, p, b }
    }

    pub fn layout(&self) -> Layout {
        if self.version.uses_rs() {
            Layout::rs(self.version, self.m, self.p, self.b).expect("a valid RS geometry")
        } else {
            Layout::plain(self.version, true)
        }
    }

    pub fn label(&self) -> String {
        if self.version.uses_rs() {
            format!("v{} {}+{} B{}", self.version, self.m, self.p, self.b)
        } else {
            format!("v{}", self.version)
        }
    }

    pub fn payload(&self) -> u64 {
        self.version.payload_size() as u64
    }
}

/// The containers of the matrix: v1, v3, and v17/v19 with several M + P and burst levels.
pub const GEOMETRIES: [Geometry; 10] = [
    Geometry::plain(Version::V1),
    Geometry::rs(Version::V17, 10, 2, 0),
    Geometry::rs(Version::V17, 10, 2, 12),
    Geometry::rs(Version::V19, 4, 4, 3),
    Geometry::plain(Version::V3),
    Geometry::rs(Version::V17, 4, 4, 3),
    Geometry::rs(Version::V19, 10, 2, 12),
    Geometry::rs(Version::V17, 1, 1, 1),
    Geometry::rs(Version::V19, 1, 1, 0),
    Geometry::rs(Version::V19, 2, 1, 5),
];

/// What happens to a container before it is read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// No damage at all.
    Clean,
    /// 0–30 % of the blocks zeroed, overwritten with noise, or cut out of the file.
    Loss,
    /// One to three runs of consecutive blocks zeroed.
    Burst,
    /// A few bits flipped in some blocks.
    BitFlip,
    /// The file cut short.
    Truncate,
    /// The file's blocks in a shuffled order of pieces (a container pieced together by hand).
    Reorder,
    /// A container of over 1 MiB whose metadata block(s) were moved to the end.
    MetaFar,
    /// Every metadata copy destroyed (zeroed, or damaged in its payload).
    MetaLost,
    /// The file re-encoded in place with the same UID: the tail of the older, longer
    /// container is still there.
    StaleTail,
    /// Blocks of an older container with the same UID lying where some of ours were.
    StaleScattered,
    /// The container at an odd byte offset inside a larger image, sectors lost.
    Image,
    /// Two images each holding a differently damaged copy of the container.
    TwoImages,
    /// An image holding the container and an older container with the same UID.
    ImageStale,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Clean,
        Kind::Loss,
        Kind::Burst,
        Kind::BitFlip,
        Kind::Truncate,
        Kind::Reorder,
        Kind::MetaFar,
        Kind::MetaLost,
        Kind::StaleTail,
        Kind::StaleScattered,
        Kind::Image,
        Kind::TwoImages,
        Kind::ImageStale,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Clean => "clean",
            Kind::Loss => "sector loss",
            Kind::Burst => "bursts",
            Kind::BitFlip => "bit flips",
            Kind::Truncate => "truncation",
            Kind::Reorder => "reordered",
            Kind::MetaFar => "metadata >1 MiB away",
            Kind::MetaLost => "metadata lost",
            Kind::StaleTail => "stale tail (same UID)",
            Kind::StaleScattered => "stale blocks (same UID)",
            Kind::Image => "image, odd offset",
            Kind::TwoImages => "two damaged images",
            Kind::ImageStale => "image + older same UID",
        }
    }

    /// Whether the case is read as images (scan + recover) rather than a container file.
    pub fn on_images(self) -> bool {
        matches!(self, Kind::Image | Kind::TwoImages | Kind::ImageStale)
    }
}

/// One case of the matrix, fully determined by its number and the run it belongs to.
#[derive(Clone, Debug)]
pub struct Case {
    pub number: u64,
    pub seed: u64,
    pub kind: Kind,
    pub geometry: Geometry,
    pub size: u64,
}

/// Which list of cases: the quick one `cargo test` runs, or the long one behind `--ignored`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    Fast,
    Full,
}

impl Case {
    /// Case `number` of `run`: kinds and geometries in turn, everything else from the seed.
    pub fn new(run: Run, number: u64) -> Case {
        let kinds = Kind::ALL.len() as u64;
        let kind = Kind::ALL[(number % kinds) as usize];
        let geometry = GEOMETRIES[((number / kinds) % GEOMETRIES.len() as u64) as usize];
        let seed =
            number.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ if run == Run::Full { 0xF011 } else { 0 };
        let mut rng = Rng::new(seed);
        let size = match kind {
            // Over 1 MiB of container, and the metadata at its end.
            Kind::MetaFar => rng.range(1_100_000, 1_400_000),
            _ => pick_size(&mut rng, geometry, run),
        };
        Case {
            number,
            seed,
            kind,
            geometry,
            size,
        }
    }

    pub fn label(&self) -> String {
        format!(
            "case {} ({}, {}, {} bytes, seed {:#x})",
            self.number,
            self.kind.label(),
            self.geometry.label(),
            self.size,
            self.seed
        )
    }
}

/// A file size: the edges (empty, one byte, one payload and around it, a whole block set, a
/// whole super block set), small random sizes, and — in the full run — a few megabytes.
fn pick_size(rng: &mut Rng, g: Geometry, run: Run) -> u64 {
    let payload = g.payload();
    let set = payload * g.m as u64;
    let big = if run == Run::Full { 4_000_000 } else { 0 };
    match rng.below(12) {
        0 => 0,
        1 => 1,
        2 => payload - 1,
        3 => payload,
        4 => payload + 1,
        5 => set * rng.range(1, 9),
        6 => set * u64::from(g.b.max(1)) * rng.range(1, 3),
        7 if big > 0 => rng.range(1_000_000, big),
        8 if big > 0 => rng.range(200_000, 1_000_000),
        _ => rng.range(2, 80_000),
    }
}
