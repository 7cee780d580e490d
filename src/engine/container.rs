//! The one block reader: finds an SBX container inside a file (at any byte offset, with or
//! without a password), settles its geometry (slot 0, the RS layout and burst level) and
//! reads its block slots in large pieces.
//!
//! Decode, check, repair and info all read through here. It opens its input read-only and
//! never writes to it. Reads go through `source::read_tolerant`: a block with an unreadable
//! byte reads as absent (all zeros), and the unreadable ranges go back to the caller.

use super::geometry::{self, KEEP_PAYLOADS_UP_TO, Sample};
use super::job::Error;
use super::source::{ByteRange, ReadAt, any_overlap, read_tolerant};
use crate::format::block::{self, BlockState, SIGNATURE};
use crate::format::password;
use crate::format::rs::{Layout, MAX_INFERRED_BURST};
use crate::format::{Header, Metadata, Uid, Version};
use memchr::memmem;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The largest block of any version.
const MAX_BLOCK: usize = 4096;
/// Bytes read at a time while walking or searching.
const CHUNK: usize = 4 << 20;
/// How far past the first valid block the metadata block is looked for first (the rest of the
/// file is searched only when it is not there).
const META_SEARCH: u64 = 1 << 20;

/// A container found in a file: where it starts, its version and UID, its metadata.
pub struct Container {
    pub path: PathBuf,
    source: Box<dyn ReadAt>,
    /// Size of the file (or device) in bytes.
    pub file_len: u64,
    /// Byte offset of slot 0 (the first block position) of the container inside the file.
    pub start: u64,
    /// Where each block belongs: versions, shard counts, burst level.
    pub layout: Layout,
    /// How the geometry was found, for reports ("burst level inferred", ...).
    pub geometry_notes: Vec<String>,
    pub version: Version,
    pub uid: Uid,
    /// The first valid block found: where the search settled.
    pub reference: Header,
    pub reference_offset: u64,
    /// The first valid metadata block of this container, and where it is.
    pub metadata: Option<Metadata>,
    pub metadata_offset: Option<u64>,
    /// Length of a block 0 written longer than a block by the original's bug, if that is
    /// where the metadata came from.
    pub overlong_metadata: Option<usize>,
    /// Burst level given by the user, if any.
    burst_override: Option<u32>,
    /// Keystream of the password (as long as the largest block), if one was given.
    keystream: Option<Vec<u8>>,
}

impl Container {
    /// Open `path` read-only and locate the container in it. `burst` overrides the burst
    /// level of an RS container (otherwise read from our metadata field, or inferred).
    pub fn open(
        path: &Path,
        password: Option<&[u8]>,
        burst: Option<u32>,
    ) -> Result<Container, Error> {
        let mut file = File::open(path).map_err(Error::read(path))?;
        // Seeking to the end also gives the size of block devices, where metadata says 0.
        let file_len = file.seek(SeekFrom::End(0)).map_err(Error::read(path))?;
        Container::open_source(path, Box::new(file), file_len, password, burst)
    }

    /// [`Container::open`] on a source already opened (`path` only names it in reports):
    /// how tests put a failing disk under the reader.
    pub fn open_source(
        path: &Path,
        source: Box<dyn ReadAt>,
        file_len: u64,
        password: Option<&[u8]>,
        burst: Option<u32>,
    ) -> Result<Container, Error> {
        let keystream = password.map(|p| password::keystream(p, MAX_BLOCK));
        let mut c = Container {
            path: path.to_path_buf(),
            source,
            file_len,
            start: 0,
            layout: Layout::plain(Version::V1, true),
            geometry_notes: Vec::new(),
            version: Version::V1,
            uid: [0; 6],
            reference: Header {
                version: Version::V1,
                crc: 0,
                uid: [0; 6],
                seq: 0,
            },
            reference_offset: 0,
            metadata: None,
            metadata_offset: None,
            overlong_metadata: None,
            burst_override: burst,
            keystream,
        };
        c.locate()?;
        Ok(c)
    }

    pub fn block_size(&self) -> usize {
        self.version.block_size()
    }

    pub fn has_password(&self) -> bool {
        self.keystream.is_some()
    }

    /// Find the first valid block, then a metadata block of the same container (wherever it is).
    fn locate(&mut self) -> Result<(), Error> {
        let mut found: Option<(u64, Header)> = None;
        let mut damaged_meta: Option<(u64, Header)> = None;
        self.search_from(0, self.file_len, |offset, state, _| {
            match state {
                BlockState::Valid(h) => {
                    found = Some((offset, h));
                    return false;
                }
                BlockState::Damaged(h) if h.seq == 0 => damaged_meta = Some((offset, h)),
                _ => {}
            }
            true
        })?;
        let Some((offset, header)) = found else {
            return Err(self.explain_not_found()?);
        };
        self.reference = header;
        self.reference_offset = offset;
        self.version = header.version;
        self.uid = header.uid;
        let meta = if header.seq == 0 {
            Some(offset)
        } else {
            self.find_metadata(offset)?
        };
        if let Some(o) = meta {
            let block = self.read_block(o)?;
            self.metadata = Some(Metadata::parse(&block[16..]));
            self.metadata_offset = Some(o);
        } else if let Some((p, h)) = damaged_meta {
            self.try_overlong_metadata(p, h)?;
        }
        self.settle_geometry()
    }

    /// The first valid metadata block of this container from `from` on: near it first (where
    /// it is in any container written in order), then in the rest of the file, since blocks
    /// pieced back together out of order may put it anywhere. Without it the size and hash are
    /// unknown, so a decode could not tell padding from data or verify anything.
    fn find_metadata(&mut self, from: u64) -> Result<Option<u64>, Error> {
        let (uid, version) = (self.uid, self.version);
        let near = from.saturating_add(META_SEARCH).min(self.file_len);
        let mut meta = None;
        for (a, b) in [(from, near), (near, self.file_len)] {
            self.search_from(a, b, |o, state, _| {
                if let BlockState::Valid(h) = state
                    && h.seq == 0
                    && h.uid == uid
                    && h.version == version
                {
                    meta = Some(o);
                    return false;
                }
                true
            })?;
            if meta.is_some() {
                break;
            }
        }
        Ok(meta)
    }

    /// The original SBXEnc writes block 0 longer than a block when the names do not fit
    /// (its quirk #1), which shifts every later block. Such a block 0 ends where the first
    /// data block starts, and its CRC covers exactly that length: accept it when it does.
    fn try_overlong_metadata(&mut self, at: u64, h: Header) -> Result<(), Error> {
        /// Six fields with the longest values a LEN byte allows.
        const MAX_FIELDS: u64 = 6 * (4 + 255);
        let (bs, first) = (self.block_size() as u64, self.reference_offset);
        if h.uid != self.uid
            || h.version != self.version
            || self.reference.seq != 1
            || first <= at + bs
            || first - at > 16 + MAX_FIELDS
        {
            return Ok(());
        }
        let bytes = self.read_bytes(at, (first - at) as usize)?;
        if block::crc16(self.version.byte(), &bytes[6..]) == h.crc {
            self.metadata = Some(Metadata::parse(&bytes[16..]));
            self.metadata_offset = Some(at);
            self.overlong_metadata = Some(bytes.len());
        }
        Ok(())
    }

    /// The error for a file with no block we can read: say so plainly when the file is empty
    /// or when a password was given for a container that has none.
    fn explain_not_found(&mut self) -> Result<Error, Error> {
        if self.file_len == 0 {
            return Ok(Error::Invalid(format!("{} is empty", self.path.display())));
        }
        if self.keystream.take().is_some() {
            let mut plain_found = false;
            self.search_from(0, self.file_len, |_, state, _| {
                plain_found = matches!(state, BlockState::Valid(_));
                !plain_found
            })?;
            if plain_found {
                return Ok(Error::NoPassword {
                    path: self.path.clone(),
                });
            }
            return Ok(Error::NotSbx {
                path: self.path.clone(),
                password_given: true,
            });
        }
        Ok(Error::NotSbx {
            path: self.path.clone(),
            password_given: false,
        })
    }

    /// Decide slot 0 and the layout. Plain versions: from the reference block's sequence
    /// number. RS versions: M and P from the metadata (or the parity, when every copy is
    /// lost), B from our metadata field (or inferred from positions, as blkar does), and
    /// slot 0 where the most blocks agree.
    fn settle_geometry(&mut self) -> Result<(), Error> {
        let bs = self.block_size() as u64;
        if !self.version.uses_rs() {
            let seq = u64::from(self.reference.seq);
            let with_meta = Layout::plain(self.version, true);
            let meta_start = self.reference_offset.checked_sub(
                if seq == 0 {
                    0
                } else {
                    with_meta.slot_of(seq as u32)
                } * bs,
            );
            // Without a readable metadata block, count slot 0 as metadata only when a damaged
            // block sits there; otherwise the container has none (made with -nm).
            let has_meta = self.metadata.is_some()
                || meta_start.is_some_and(|s| {
                    self.read_block(s)
                        .is_ok_and(|b| !matches!(block::classify(&b), BlockState::NotSbx))
                });
            self.layout = Layout::plain(self.version, has_meta);
            self.start = if has_meta {
                meta_start.unwrap_or(self.reference_offset)
            } else {
                self.reference_offset
                    .checked_sub((seq.max(1) - 1) * bs)
                    .unwrap_or(self.reference_offset)
            };
            if self.overlong_metadata.is_some() {
                // Block 0 is longer than a slot; the grid starts at the first data block.
                self.start = self.reference_offset - bs;
            }
            return Ok(());
        }
        let meta = self.metadata.clone().unwrap_or_default();
        let window = if meta.rs_data.is_some() { 4096 } else { 16384 };
        let sample = self.sample(self.reference_offset, window)?;
        let (m, p) = match (meta.rs_data, meta.rs_parity) {
            (Some(m), Some(p)) => (usize::from(m), usize::from(p)),
            _ => {
                let Some((m, p)) = geometry::infer_shards(&sample) else {
                    return Err(Error::Invalid(format!(
                        "{}: version {} container without metadata, and its first block set is too damaged to work out its Reed–Solomon settings",
                        self.path.display(),
                        self.version
                    )));
                };
                self.geometry_notes.push(format!(
                    "no metadata block survives: Reed–Solomon settings {m} + {p} inferred from the parity; name, size and hash are unavailable"
                ));
                (m, p)
            }
        };
        let base = Layout::rs(self.version, m, p, 0).map_err(Error::Invalid)?;
        let candidates: Box<dyn Iterator<Item = u32>> = match self.burst_override.or(meta.burst) {
            Some(b) => Box::new(std::iter::once(b)),
            None => Box::new(geometry::all_bursts()),
        };
        // A container file of its own ends exactly where its layout does.
        let (file_len, fsz) = (self.file_len, meta.file_size);
        let fits_length = |burst: u32, start: u64| {
            fsz.is_some_and(|n| {
                let l = Layout { burst, ..base };
                start + l.slot_count(l.sets_for(n)) * bs == file_len
            })
        };
        match geometry::infer_burst_and_start(base, &sample, bs, candidates, fits_length) {
            Some((_, start, _))
                if sample.blocks.is_empty()
                    && sample.metas.len() < 2
                    && self.burst_override.or(meta.burst).is_none() =>
            {
                // One metadata copy and no data (an empty file): positions cannot tell B,
                // but a container file of its own ends at its last copy, slot P·(1+B) —
                // and begins at byte 0, if the copy found sits where that layout puts one
                // (the first copy may be the one that was erased).
                let burst_for = |start: u64| {
                    let slots = self.file_len.saturating_sub(start) / bs;
                    match slots.checked_sub(1) {
                        Some(n) if n > 0 && n % p as u64 == 0 => (n / p as u64 - 1) as u32,
                        _ => 0,
                    }
                };
                let copy = sample.metas.first().copied();
                let from_zero = copy.is_some_and(|o| {
                    let l = Layout {
                        burst: burst_for(0),
                        ..base
                    };
                    o % bs == 0 && l.meta_slots().any(|k| k == o / bs)
                });
                let start = if from_zero { 0 } else { start };
                let burst = burst_for(start);
                self.geometry_notes.push(format!(
                    "burst level {burst} inferred from the container's length"
                ));
                self.layout = Layout { burst, ..base };
                self.start = start;
            }
            Some((burst, start, _)) => {
                if meta.burst.is_none() && self.burst_override.is_none() {
                    self.geometry_notes.push(format!(
                        "burst level {burst} inferred from the block positions"
                    ));
                }
                self.layout = Layout { burst, ..base };
                self.start = start;
            }
            None => {
                // Only metadata blocks survive near the start: the copies sit at slots
                // i·(1+B); the first one found is taken as slot 0.
                self.layout = Layout {
                    burst: meta.burst.unwrap_or(0).min(MAX_INFERRED_BURST),
                    ..base
                };
                self.start = self.metadata_offset.unwrap_or(self.reference_offset);
            }
        }
        Ok(())
    }

    /// Valid blocks of this container in `slots` block positions from `from`.
    fn sample(&mut self, from: u64, slots: u64) -> Result<Sample, Error> {
        let bs = self.block_size() as u64;
        let len = (slots * bs)
            .min(32 << 20)
            .min(self.file_len.saturating_sub(from));
        let mut bytes = Vec::new();
        self.read_into(from, len as usize, bs as usize, &mut bytes)?;
        let mut sample = Sample::default();
        for (i, b) in bytes.chunks(bs as usize).enumerate() {
            if let BlockState::Valid(h) = block::classify(b)
                && h.uid == self.uid
                && h.version == self.version
            {
                if h.seq == 0 {
                    sample.metas.push(from + i as u64 * bs);
                    continue;
                }
                // A few hundred blocks settle the geometry; more only cost time.
                if sample.blocks.len() < 512 {
                    sample.blocks.push((from + i as u64 * bs, h.seq));
                }
                if h.seq <= KEEP_PAYLOADS_UP_TO {
                    sample
                        .payloads
                        .entry(h.seq)
                        .or_insert_with(|| b[16..].to_vec());
                }
            }
        }
        Ok(sample)
    }

    /// Read slots `first..first + count` (plain bytes, fewer at the end of the file). A slot
    /// with an unreadable byte reads as zeros; the unreadable byte ranges are returned.
    pub fn read_slots(
        &mut self,
        first: u64,
        count: u64,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<ByteRange>, Error> {
        let bs = self.block_size();
        let from = self.start + first * bs as u64;
        let want = (count * bs as u64).min(self.file_len.saturating_sub(from));
        self.read_into(from, want as usize, bs, buf)
    }

    /// Byte offset of slot `k`.
    pub fn slot_offset(&self, k: u64) -> u64 {
        self.start + k * self.block_size() as u64
    }

    /// Read the plain bytes of the block of this container's size at `offset` (all zeros
    /// when part of it cannot be read).
    pub fn read_block(&mut self, offset: u64) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        self.read_into(offset, self.block_size(), self.block_size(), &mut buf)?;
        Ok(buf)
    }

    /// Copy the whole file, as stored (password and all), to `out`; unreadable bytes are
    /// written as zeros. Returns how many bytes could not be read, and where (the first
    /// `cap` ranges).
    pub fn copy_raw(
        &self,
        out: &mut dyn std::io::Write,
        out_path: &Path,
        cap: usize,
        cancel: &super::job::CancelFlag,
    ) -> Result<(u64, Vec<ByteRange>), Error> {
        let mut buf = vec![0u8; CHUNK];
        let (mut bytes, mut unreadable) = (0, Vec::new());
        let mut pos = 0;
        while pos < self.file_len {
            cancel.check()?;
            let want = (CHUNK as u64).min(self.file_len - pos) as usize;
            let t = read_tolerant(&*self.source, pos, &mut buf[..want]);
            if t.len == 0 {
                break;
            }
            out.write_all(&buf[..t.len])
                .map_err(Error::write(out_path))?;
            for r in t.unreadable {
                bytes += r.len();
                super::source::push_merged(&mut unreadable, r, cap);
            }
            pos += t.len as u64;
        }
        Ok((bytes, unreadable))
    }

    /// Read the bytes at `offset` as stored (password and all) into `buf`, fewer at the end
    /// of the file; unreadable bytes read as zeros. Returns the bytes read and the
    /// unreadable ranges.
    pub fn read_raw(&self, offset: u64, buf: &mut [u8]) -> (usize, Vec<ByteRange>) {
        let t = read_tolerant(&*self.source, offset, buf);
        (t.len, t.unreadable)
    }

    /// Read `len` plain bytes at `offset` as one block (an over-long block 0).
    fn read_bytes(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        self.read_into(offset, len, len, &mut buf)?;
        Ok(buf)
    }

    /// Read up to `len` bytes at `offset` into `buf` (fewer at the end of the file) and remove
    /// the password, whose keystream starts again every `stride` bytes (at each block). A
    /// block (`stride` bytes) with an unreadable byte comes back as zeros: absent, neither
    /// valid nor damaged. Returns the unreadable ranges.
    fn read_into(
        &mut self,
        offset: u64,
        len: usize,
        stride: usize,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<ByteRange>, Error> {
        let len = (len as u64).min(self.file_len.saturating_sub(offset)) as usize;
        buf.resize(len, 0);
        let t = read_tolerant(&*self.source, offset, buf);
        buf.truncate(t.len);
        let stride = stride.max(1);
        for (i, b) in buf.chunks_mut(stride).enumerate() {
            let at = offset + (i * stride) as u64;
            if any_overlap(&t.unreadable, at, at + b.len() as u64) {
                b.fill(0);
            } else if let Some(ks) = &self.keystream {
                password::apply(b, ks);
            }
        }
        Ok(t.unreadable)
    }

    /// Search `[from, to)` at every byte offset for blocks of any version; `visit` gets each
    /// candidate (offset, state, plain bytes) and returns false to stop.
    fn search_from(
        &mut self,
        from: u64,
        to: u64,
        mut visit: impl FnMut(u64, BlockState, &[u8]) -> bool,
    ) -> Result<(), Error> {
        let ks = self.keystream.clone();
        let mut sig = *SIGNATURE;
        if let Some(ks) = &ks {
            password::apply(&mut sig, ks);
        }
        let finder = memmem::Finder::new(&sig);
        let mut buf = vec![0u8; CHUNK + MAX_BLOCK];
        let mut plain = [0u8; MAX_BLOCK];
        let mut pos = from;
        while pos < to {
            let want = (buf.len() as u64).min(self.file_len.saturating_sub(pos)) as usize;
            let read = read_tolerant(&*self.source, pos, &mut buf[..want]);
            let n = read.len;
            if n == 0 {
                break;
            }
            let at_end = n < buf.len() || pos + n as u64 >= self.file_len;
            // Candidates beyond `limit` are looked at in the next window, whole.
            let limit = if at_end { n } else { n - MAX_BLOCK + 1 };
            let limit = limit.min((to - pos) as usize);
            for i in finder.find_iter(&buf[..n]) {
                if i >= limit {
                    break;
                }
                let avail = (n - i).min(MAX_BLOCK);
                plain[..avail].copy_from_slice(&buf[i..i + avail]);
                if let Some(ks) = &ks {
                    password::apply(&mut plain[..avail], ks);
                }
                let at = pos + i as u64;
                let state = match block::classify(&plain[..avail]) {
                    // A block with an unreadable byte is absent, whatever its header says.
                    BlockState::Valid(h) | BlockState::Damaged(h)
                        if any_overlap(
                            &read.unreadable,
                            at,
                            at + h.version.block_size().min(avail) as u64,
                        ) =>
                    {
                        BlockState::NotSbx
                    }
                    s => s,
                };
                if !visit(at, state, &plain[..avail]) {
                    return Ok(());
                }
            }
            if at_end {
                break;
            }
            pos += limit as u64;
        }
        Ok(())
    }

    /// The container had a metadata block and it is gone, so the file's size and hash are
    /// unknown. Versions 17–19 always carry one. For 1–3 the evidence is a damaged block in
    /// slot 0, or exactly one block-sized gap before block 1 at the very start of the file (a
    /// container made with `--no-meta` starts with block 1).
    pub fn metadata_lost(&self) -> bool {
        if self.metadata.is_some() {
            return false;
        }
        self.layout.is_rs()
            || self.layout.meta_copies > 0
            || (self.start == self.block_size() as u64 && self.overlong_metadata.is_none())
    }

    /// Bytes from the container's start to the end of the file.
    pub fn span(&self) -> u64 {
        self.file_len.saturating_sub(self.start)
    }

    /// Slots from the container's start to the end of the file.
    pub fn slots_in_file(&self) -> u64 {
        self.span().div_ceil(self.block_size() as u64)
    }
}
