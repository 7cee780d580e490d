//! The artefacts of a case: containers made by the real encoder, and the files or images
//! they are laid into and damaged in. Every block copy placed is remembered with its
//! original bytes and followed through every change (overwrites, cuts, flips), so the oracle
//! can tell afterwards, byte for byte, which copies survive and where they are.

use super::Rng;
use seqbox::engine::encode::{EncodeOpts, RsParams, Target};
use seqbox::engine::{CancelFlag, encode};
use seqbox::format::block::{self, BlockState, Uid};
use seqbox::format::rs::Layout;
use std::collections::HashMap;
use std::path::Path;

/// The UID every container of the matrix shares (stale ones on purpose).
pub const UID: Uid = [0x5e, 0xb0, 0x11, 0x0a, 0x7e, 0x1c];

/// A container made by the encoder, split into its block slots.
pub struct Encoded {
    pub data: Vec<u8>,
    pub bytes: Vec<u8>,
    pub layout: Layout,
    /// Sequence number held by each slot (metadata copies are 0), `None` for a hole.
    pub slots: Vec<Option<u32>>,
    /// The bytes of each block by sequence number.
    blocks: HashMap<u32, Vec<u8>>,
}

impl Encoded {
    /// Encode `data` with `layout` (our own encoder, a fixed UID and a creation time `sdt`).
    pub fn new(dir: &Path, name: &str, data: Vec<u8>, layout: Layout, sdt: i64) -> Encoded {
        let input = dir.join(name);
        std::fs::write(&input, &data).unwrap();
        let out = dir.join(format!("{name}.sbx"));
        let opts = EncodeOpts {
            output: Target::File(out.clone()),
            version: layout.version,
            rs: RsParams {
                data: layout.data,
                parity: layout.parity.max(1),
                burst: layout.burst,
            },
            uid: Some(UID),
            sbx_time: Some(sdt),
            overwrite: true,
            ..EncodeOpts::new(&input)
        };
        encode::run(&opts, &CancelFlag::new(), &|_| {}).expect("encode");
        let bytes = std::fs::read(&out).unwrap();
        std::fs::remove_file(&out).unwrap();
        std::fs::remove_file(&input).unwrap();
        let bs = layout.version.block_size();
        let mut slots = Vec::new();
        let mut blocks = HashMap::new();
        for b in bytes.chunks(bs) {
            match block::classify(b) {
                BlockState::Valid(h) => {
                    slots.push(Some(h.seq));
                    blocks.entry(h.seq).or_insert_with(|| b.to_vec());
                }
                _ => slots.push(None),
            }
        }
        Encoded {
            data,
            bytes,
            layout,
            slots,
            blocks,
        }
    }

    pub fn block_size(&self) -> usize {
        self.layout.version.block_size()
    }

    pub fn slot_bytes(&self, k: usize) -> &[u8] {
        let bs = self.block_size();
        &self.bytes[k * bs..(k + 1) * bs]
    }

    /// The block this container has for sequence number `seq` (0 = metadata).
    pub fn block(&self, seq: u32) -> Option<&[u8]> {
        self.blocks.get(&seq).map(Vec::as_slice)
    }

    /// Slots holding metadata copies.
    pub fn meta_slots(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&k| self.slots[k] == Some(0))
            .collect()
    }
}

/// Which container a placed block comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    New,
    Old,
}

/// One block copy laid into an artefact, followed through the damage.
#[derive(Clone, Debug)]
pub struct Placed {
    /// Where it is now; `None` once a cut went through it.
    pub offset: Option<u64>,
    pub seq: u32,
    pub src: Src,
    pub bytes: Vec<u8>,
}

/// One piece of an artefact's plan.
pub enum Item {
    /// Slot `k` of a container (a hole is laid as its zeros).
    Slot(Src, usize),
    /// Bytes that are not SBX.
    Fill(Vec<u8>),
}

/// A container file or a disk image, with every block copy it holds.
pub struct Artefact {
    pub name: String,
    pub bytes: Vec<u8>,
    pub placed: Vec<Placed>,
    /// Offset of the new container's first slot as laid (before damage), and its block size:
    /// slots of a container read from one file are at offsets ≡ `align` (mod block size).
    pub align: u64,
    /// Offset of the new container's slot 0, when it was laid first and in order (followed
    /// through cuts; `None` once a cut went through it).
    pub start: Option<u64>,
    pub block_size: u64,
    /// Some copies are no longer in step with `align` (pieces laid at odd offsets, sectors
    /// cut out): only a reader that looks at every byte offset (scan) can be held to them.
    pub misaligned: bool,
}

impl Artefact {
    /// Lay `items` end to end.
    pub fn build(name: &str, items: &[Item], new: &Encoded, old: Option<&Encoded>) -> Artefact {
        let mut a = Artefact {
            name: name.to_string(),
            bytes: Vec::new(),
            placed: Vec::new(),
            align: 0,
            start: None,
            block_size: new.block_size() as u64,
            misaligned: false,
        };
        let mut first_new = None;
        for item in items {
            match item {
                Item::Fill(b) => a.bytes.extend_from_slice(b),
                &Item::Slot(src, k) => {
                    let c = match src {
                        Src::New => new,
                        Src::Old => old.expect("an old container"),
                    };
                    let at = a.bytes.len() as u64;
                    if src == Src::New && first_new.is_none() {
                        first_new = Some(at);
                        a.start = (k == 0).then_some(at);
                    }
                    if let Some(seq) = c.slots[k] {
                        a.placed.push(Placed {
                            offset: Some(at),
                            seq,
                            src,
                            bytes: c.slot_bytes(k).to_vec(),
                        });
                    }
                    a.bytes.extend_from_slice(c.slot_bytes(k));
                }
            }
        }
        a.align = first_new.unwrap_or(0) % a.block_size;
        a
    }

    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Overwrite `len` bytes at `at` with zeros (`noise` None) or noise.
    pub fn overwrite(&mut self, at: u64, len: u64, noise: Option<&mut Rng>) {
        let end = (at + len).min(self.len()) as usize;
        let at = (at as usize).min(end);
        match noise {
            None => self.bytes[at..end].fill(0),
            Some(rng) => {
                let fill = rng.bytes(end - at);
                self.bytes[at..end].copy_from_slice(&fill);
            }
        }
    }

    /// Cut `len` bytes at `at` out of the artefact: later copies move back, copies the cut
    /// goes through are gone.
    pub fn cut(&mut self, at: u64, len: u64) {
        let end = (at + len).min(self.len());
        let at = at.min(end);
        self.bytes.drain(at as usize..end as usize);
        let len = end - at;
        if len % self.block_size != 0 {
            self.misaligned |= self
                .placed
                .iter()
                .any(|p| p.offset.is_some_and(|o| o >= end));
        }
        let moved = |o: Option<u64>, size: u64| match o {
            Some(o) if o + size <= at => Some(o),
            Some(o) if o >= end => Some(o - len),
            _ => None,
        };
        for p in &mut self.placed {
            p.offset = moved(p.offset, p.bytes.len() as u64);
        }
        self.start = moved(self.start, 1);
    }

    pub fn truncate(&mut self, len: u64) {
        let total = self.len();
        self.cut(len, total.saturating_sub(len));
    }

    pub fn flip(&mut self, bit: u64) {
        if let Some(b) = self.bytes.get_mut((bit / 8) as usize) {
            *b ^= 1 << (bit % 8);
        }
    }

    /// Whether copy `p` is still there, byte for byte.
    pub fn intact(&self, p: &Placed) -> bool {
        p.offset.is_some_and(|o| {
            self.bytes.get(o as usize..o as usize + p.bytes.len()) == Some(&p.bytes[..])
        })
    }

    /// Damage that leaves a block's CRC valid (one in 65 536 changed blocks) would make a
    /// wrong block look right to everyone; change such a block once more so the oracle's
    /// "changed means lost" holds. Call after the damage.
    pub fn seal(&mut self) {
        for i in 0..self.placed.len() {
            let Some(o) = self.placed[i].offset else {
                continue;
            };
            let (o, bs) = (o as usize, self.placed[i].bytes.len());
            for salt in 0..=255u8 {
                let Some(now) = self.bytes.get(o..o + bs) else {
                    break;
                };
                if now == &self.placed[i].bytes[..]
                    || !matches!(block::classify(now), BlockState::Valid(_))
                {
                    break;
                }
                self.bytes[o + 16 + usize::from(salt) % (bs - 16)] ^= 0x5A;
            }
        }
    }

    /// Where the copies lie and which survive, for a failing case's report: `seq@offset`,
    /// `x` for a copy that is gone, `'` for an older container's.
    pub fn describe(&self) -> String {
        let mut copies: Vec<&Placed> = self.placed.iter().collect();
        copies.sort_by_key(|p| p.offset);
        let cells: Vec<String> = copies
            .iter()
            .map(|p| {
                let old = if p.src == Src::Old { "'" } else { "" };
                match p.offset {
                    Some(o) if self.intact(p) => format!("{}{old}@{o}", p.seq),
                    Some(o) => format!("x{}{old}@{o}", p.seq),
                    None => format!("x{}{old}", p.seq),
                }
            })
            .collect();
        format!(
            "{}: {} bytes, first slot at {} (mod {}): {}",
            self.name,
            self.len(),
            self.align,
            self.block_size,
            cells.join(" ")
        )
    }

    pub fn write(&self, dir: &Path) -> std::path::PathBuf {
        let path = dir.join(&self.name);
        std::fs::write(&path, &self.bytes).unwrap();
        path
    }
}
