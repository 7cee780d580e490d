//! Encode a file into an SBX container (versions 1–3), byte-identical to the original SBXEnc
//! for the same input, UID, version, names and dates.
//!
//! The input is read once: framing, CRC and writing happen on this thread while the hash is
//! computed on another; block 0 (which holds the hash) is written last. The output is written
//! under a temporary name and renamed when complete. Never writes to the input.

use super::hashpipe::{Batch, FramePipe};
use super::io::{file_name_of, read_full, same_file};
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::output::{AtomicFile, fit_name};
use crate::format::block::{self, Uid, uid_hex};
use crate::format::hash::hex;
use crate::format::metadata::PAD;
use crate::format::rs::{Codec, Layout, MAX_INFERRED_BURST};
use crate::format::{HashKind, Metadata, StoredHash, Version, password};
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a job's output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Next to the input, with the default name.
    Beside,
    /// Into this folder, with the default name.
    Folder(PathBuf),
    /// Exactly this path.
    File(PathBuf),
}

impl Target {
    /// The output path for an input whose default output name is `name`.
    pub fn resolve(&self, input: &Path, name: &str) -> PathBuf {
        match self {
            Target::Beside => input.with_file_name(name),
            Target::Folder(dir) => dir.join(name),
            Target::File(p) => p.clone(),
        }
    }
}

/// Reed–Solomon settings of versions 17–19.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RsParams {
    /// M: data shards per block set.
    pub data: usize,
    /// P: parity shards per block set.
    pub parity: usize,
    /// B: burst resistance level (consecutive damaged blocks a block set survives per shard).
    pub burst: u32,
}

impl Default for RsParams {
    /// blkar's defaults, the most robust general choice: 10 + 2, burst 12.
    fn default() -> Self {
        RsParams {
            data: 10,
            parity: 2,
            burst: 12,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EncodeOpts {
    pub input: PathBuf,
    pub output: Target,
    pub version: Version,
    /// Used when `version` is 17, 18 or 19.
    pub rs: RsParams,
    /// `None`: a random UID.
    pub uid: Option<Uid>,
    pub hash: HashKind,
    pub no_meta: bool,
    pub password: Option<String>,
    pub overwrite: bool,
    /// SDT, seconds since 1970; `None`: now.
    pub sbx_time: Option<i64>,
    /// Read standard input instead of `input` (a pipe: the size and hash are stored when it
    /// ends; the output must be named by `output`).
    pub stdin: bool,
    /// The file name stored in the metadata; `None`: the input's name (none for standard
    /// input).
    pub name: Option<String>,
}

impl EncodeOpts {
    /// Defaults: version 17 (10 + 2, burst 12), SHA-256, random UID, output beside the input.
    pub fn new(input: impl Into<PathBuf>) -> EncodeOpts {
        EncodeOpts {
            input: input.into(),
            output: Target::Beside,
            version: Version::V17,
            rs: RsParams::default(),
            uid: None,
            hash: HashKind::Sha256,
            no_meta: false,
            password: None,
            overwrite: false,
            sbx_time: None,
            stdin: false,
            name: None,
        }
    }

    /// The block layout these options produce.
    pub fn layout(&self) -> Result<Layout, String> {
        if self.version.uses_rs() {
            if self.rs.burst > MAX_BURST {
                return Err(format!(
                    "burst level {} is above the maximum {MAX_BURST}",
                    self.rs.burst
                ));
            }
            Layout::rs(self.version, self.rs.data, self.rs.parity, self.rs.burst)
        } else {
            Ok(Layout::plain(self.version, !self.no_meta))
        }
    }
}

/// Where `opts` writes its container (`NAME.sbx` beside the input or in the folder given,
/// shortened to fit the file system), with a note when the name had to be shortened. The
/// app asks this to tell the user that a container is already there before encoding.
pub fn output_path(opts: &EncodeOpts) -> (PathBuf, Option<String>) {
    let input_path = &opts.input;
    let default_name = format!("{}.sbx", stored_name(opts));
    let out_path = opts.output.resolve(input_path, &default_name);
    // A name already at the file system's limit has no room for `.sbx`: shorten it.
    if !matches!(opts.output, Target::File(_))
        && let Some(dir) = out_path.parent()
    {
        let (fitted, note) = fit_name(dir, &default_name);
        return (dir.join(fitted), note);
    }
    (out_path, None)
}

/// The name stored in the metadata: the one given, else the input's (none for a pipe).
fn stored_name(opts: &EncodeOpts) -> String {
    match (&opts.name, opts.stdin) {
        (Some(n), _) => n.clone(),
        (None, true) => String::new(),
        (None, false) => file_name_of(&opts.input),
    }
}

/// Largest burst level accepted (blkar infers up to 1000; a reader without our burst field
/// can still find it).
pub const MAX_BURST: u32 = MAX_INFERRED_BURST;

#[derive(Clone, Debug, Serialize)]
pub struct EncodeReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub version: Version,
    pub rs: Option<RsParams>,
    pub uid: String,
    pub file_size: u64,
    /// Data blocks holding the file (padding and parity blocks not counted).
    pub data_blocks: u64,
    /// All blocks written: metadata copies, data, padding and parity.
    pub blocks_written: u64,
    pub container_size: u64,
    pub hash_kind: HashKind,
    pub hash: String,
    /// Things the user should know (shortened names, compatibility limits).
    pub notes: Vec<String>,
}

/// Input bytes read (and blocks framed) per batch, about.
const BATCH: usize = 4 << 20;

pub fn run(
    opts: &EncodeOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<EncodeReport, Error> {
    let v = opts.version;
    let layout = opts.layout().map_err(Error::Invalid)?;
    let input_path = &opts.input;
    let (mut input, size, file_time) = open_input(opts)?;
    let (bs, payload) = (v.block_size(), v.payload_size());
    let (m, t) = (layout.data, layout.shards());
    let too_large = || {
        Error::Invalid(format!(
            "{} is too large for version {v} with these settings (sequence numbers are 32-bit)",
            input_path.display(),
        ))
    };
    if layout.sets_for(size).saturating_mul(t as u64) > u64::from(u32::MAX) {
        return Err(too_large());
    }
    if v.uses_rs() && opts.no_meta {
        return Err(Error::Invalid(
            "Reed–Solomon containers always carry metadata (blkar needs it to read them)".into(),
        ));
    }
    if size == 0 && opts.no_meta {
        return Err(Error::Invalid(
            "an empty file without a metadata block would make an empty container".into(),
        ));
    }
    let password = opts.password.as_deref().map(str::as_bytes);
    if password.is_some_and(<[u8]>::is_empty) {
        return Err(Error::Invalid("the password is empty".into()));
    }
    if password.is_some() && v.uses_rs() {
        return Err(Error::Invalid(
            "passwords exist only in versions 1–3 (blkar's 17–19 have none)".into(),
        ));
    }
    let file_name = stored_name(opts);
    if opts.stdin && opts.output == Target::Beside {
        return Err(Error::Invalid(
            "standard input has no folder to write beside: name the output (-o FILE)".into(),
        ));
    }
    if opts.stdin && file_name.is_empty() && matches!(opts.output, Target::Folder(_)) {
        return Err(Error::Invalid(
            "standard input has no name to make the output's from: give -o FILE or --name".into(),
        ));
    }
    let (out_path, name_note) = output_path(opts);
    if !opts.stdin && same_file(input_path, &out_path) {
        return Err(Error::Invalid(format!(
            "{} would overwrite its own input",
            out_path.display()
        )));
    }
    let mut out = AtomicFile::create(&out_path, opts.overwrite)?;
    let uid = match opts.uid {
        Some(u) => u,
        None => random_uid()?,
    };
    let keystream = password.map(|p| password::keystream(p, bs));
    let codec = if layout.is_rs() {
        Some(Codec::new(m, layout.parity).map_err(Error::Invalid)?)
    } else {
        None
    };
    let mut notes: Vec<String> = name_note.into_iter().collect();

    // Read whole groups of block sets (a super block set when interleaving) per batch, so
    // every block of a batch lands in one contiguous range of slots.
    let target = (BATCH / bs) as u64;
    let (_, group_sets) = layout.group(0, target);
    let sets_per_group = (group_sets.end - group_sets.start) as usize;
    let group_input = sets_per_group * m * payload;
    let groups_per_batch = (BATCH / group_input).max(1);
    let batch_input = groups_per_batch * group_input;
    let mut framer = Framer {
        layout: &layout,
        uid,
        codec,
        pad_chunk: vec![PAD; payload],
        parity: vec![vec![0u8; payload]; layout.parity],
    };
    let mut pipe = FramePipe::new(opts.hash, v, keystream.clone());
    let mut write = |b: &Batch| {
        out.file()
            .write_all_at(&b.framed, b.at)
            .map_err(Error::write(&out_path))
    };
    let mut done: u64 = 0;
    let mut sets_done: u64 = 0;
    let mut throttle = Throttle::default();
    let mut group = 0u64;
    loop {
        cancel.check()?;
        // Two batches with the hash thread while this one is read and framed.
        let mut b = match pipe.in_flight() >= 2 {
            true => {
                let b = pipe.recv().expect("a batch in flight");
                write(&b)?;
                b
            }
            false => Batch::default(),
        };
        b.input.resize(batch_input, 0);
        let n = read_full(&mut input, &mut b.input).map_err(Error::read(input_path))?;
        if layout.sets_for(done + n as u64).saturating_mul(t as u64) > u64::from(u32::MAX) {
            // Only a pipe can get here: a file's size was checked before.
            return Err(too_large());
        }
        b.input.truncate(n);
        let last = n < batch_input;
        let sets = n.div_ceil(payload).div_ceil(m);
        let slot_start = layout.group(group, target).0.start;
        let slot_end = if last {
            layout.slot_count(sets_done + sets as u64)
        } else {
            layout
                .group(group + groups_per_batch as u64 - 1, target)
                .0
                .end
        };
        b.framed.resize((slot_end - slot_start) as usize * bs, 0);
        if last || group == 0 {
            // Holes and the metadata placeholders read as zeros.
            b.framed.fill(0);
        }
        framer.frame(&b.input, sets_done, slot_start, &mut b.framed);
        b.at = slot_start * bs as u64;
        pipe.send(b);
        done += n as u64;
        sets_done += sets as u64;
        group += groups_per_batch as u64;
        throttle.report(
            progress,
            Progress {
                stage: Stage::Encoding,
                bytes_done: done,
                bytes_total: size,
                items: layout.chunks_for(done),
            },
        );
        if last {
            break;
        }
    }
    while let Some(b) = pipe.recv() {
        write(&b)?;
    }
    let digest = pipe.finish();
    let data_blocks = layout.chunks_for(done);

    if !opts.no_meta {
        let mut meta = Metadata {
            file_name: (!file_name.is_empty()).then_some(file_name),
            sbx_name: Some(file_name_of(&out_path)),
            file_size: Some(done),
            file_time,
            sbx_time: Some(opts.sbx_time.unwrap_or_else(now_secs)),
            hash: Some(StoredHash::Known {
                kind: opts.hash,
                digest: digest.clone(),
            }),
            ..Default::default()
        };
        if layout.is_rs() {
            meta.rs_data = Some(m as u8);
            meta.rs_parity = Some(layout.parity as u8);
            meta.burst = Some(layout.burst);
        }
        if meta.fit_names(v) {
            notes.push(format!(
                "names shortened to fit the metadata block: {:?}, {:?}",
                meta.file_name.as_deref().unwrap_or(""),
                meta.sbx_name.as_deref().unwrap_or("")
            ));
        }
        if layout.is_rs() && meta.burst.is_none() {
            notes.push("no room for the burst level in the metadata: readers will infer it".into());
        }
        if meta.file_time.is_some_and(|t| t < 0) {
            notes.push(
                "the file is dated before 1970; the original SeqBox cannot read such a date".into(),
            );
        }
        let mut block0 = vec![0u8; bs];
        block0[16..].copy_from_slice(&meta.to_payload(v).map_err(Error::Invalid)?);
        block::write_header(&mut block0, v, &uid, 0);
        if let Some(ks) = &keystream {
            password::apply(&mut block0, ks);
        }
        let f = out.file();
        for slot in layout.meta_slots() {
            f.seek(SeekFrom::Start(slot * bs as u64))
                .and_then(|_| f.write_all(&block0))
                .map_err(Error::write(&out_path))?;
        }
    }
    if password.is_some_and(|p| !password::original_can_use(p)) {
        notes.push("the original SeqBox tools cannot use this password (their encoder crashes on it); SeqBox Studio reads it fine".into());
    }
    if opts.hash != HashKind::Sha256 && !v.uses_rs() {
        notes.push(format!(
            "the original SeqBox tools verify SHA-256 only; they will not check this {} hash",
            opts.hash
        ));
    }
    progress(Progress {
        stage: Stage::Encoding,
        bytes_done: done,
        bytes_total: size,
        items: layout.chunks_for(done),
    });
    let slots = layout.slot_count(sets_done);
    let blocks_written = sets_done * t as u64 + layout.meta_copies as u64;
    let output = out.commit(opts.overwrite)?;
    Ok(EncodeReport {
        input: input_path.clone(),
        output,
        version: v,
        rs: layout.is_rs().then_some(RsParams {
            data: m,
            parity: layout.parity,
            burst: layout.burst,
        }),
        uid: uid_hex(&uid),
        file_size: done,
        data_blocks,
        blocks_written,
        container_size: slots * bs as u64,
        hash_kind: opts.hash,
        hash: hex(&digest),
        notes,
    })
}

/// Frames a batch of input into blocks (headers without CRCs: the hash thread seals them)
/// and computes each block set's parity.
struct Framer<'a> {
    layout: &'a Layout,
    uid: Uid,
    codec: Option<Codec>,
    pad_chunk: Vec<u8>,
    parity: Vec<Vec<u8>>,
}

impl Framer<'_> {
    /// Frame `input` (whole block sets from set `first_set` on) into `framed`, which holds
    /// the slots from `slot_start` on.
    fn frame(&mut self, input: &[u8], first_set: u64, slot_start: u64, framed: &mut [u8]) {
        let layout = self.layout;
        let (v, m) = (layout.version, layout.data);
        let (bs, payload) = (v.block_size(), v.payload_size());
        let n = input.len();
        let uid = self.uid;
        for local in 0..n.div_ceil(payload).div_ceil(m) {
            let set = first_set + local as u64;
            let chunk = |j: usize| -> &[u8] {
                let at = (local * m + j) * payload;
                if at >= n {
                    &[]
                } else {
                    &input[at..(at + payload).min(n)]
                }
            };
            let mut place = |shard: usize, bytes: &[u8]| {
                let seq = layout.seq_of(set, shard).expect("checked above");
                let at = (layout.slot_of(seq) - slot_start) as usize * bs;
                let block = &mut framed[at..at + bs];
                block[16..16 + bytes.len()].copy_from_slice(bytes);
                block[16 + bytes.len()..].fill(PAD);
                block::write_header_fields(block, v, &uid, seq);
            };
            for j in 0..m {
                place(j, chunk(j));
            }
            if let Some(codec) = &self.codec {
                // The parity covers whole payloads: the last chunk and padding chunks padded.
                // At most one chunk of a set is short: the file's last one.
                let short: Option<Vec<u8>> = (0..m)
                    .map(chunk)
                    .find(|c| !c.is_empty() && c.len() < payload)
                    .map(|c| {
                        let mut p = c.to_vec();
                        p.resize(payload, PAD);
                        p
                    });
                let pad = &self.pad_chunk[..];
                let refs: Vec<&[u8]> = (0..m)
                    .map(|j| match chunk(j) {
                        c if c.len() == payload => c,
                        [] => pad,
                        _ => short.as_deref().expect("the short chunk"),
                    })
                    .collect();
                let mut outs: Vec<&mut [u8]> = self.parity.iter_mut().map(|p| &mut p[..]).collect();
                codec.encode(&refs, &mut outs);
                for (i, p) in self.parity.iter().enumerate() {
                    place(m + i, p);
                }
            }
        }
    }
}

/// An input to read, its size (as far as known: a pipe's is counted as it is read) and its
/// modification time (none for a pipe).
type Input = (Box<dyn Read>, u64, Option<i64>);

fn open_input(opts: &EncodeOpts) -> Result<Input, Error> {
    if opts.stdin {
        return Ok((Box::new(std::io::stdin().lock()), 0, None));
    }
    let path = &opts.input;
    let input = File::open(path).map_err(Error::read(path))?;
    let info = input.metadata().map_err(Error::read(path))?;
    if !info.is_file() {
        return Err(Error::Invalid(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok((Box::new(input), info.len(), Some(mtime_secs(&info))))
}

fn random_uid() -> Result<Uid, Error> {
    let mut uid = [0u8; 6];
    getrandom::fill(&mut uid)
        .map_err(|e| Error::Invalid(format!("no random numbers for a UID: {e}")))?;
    Ok(uid)
}

/// Seconds since 1970 (negative before), fractions dropped toward the past like Python's int().
fn mtime_secs(info: &std::fs::Metadata) -> i64 {
    match info.modified() {
        Ok(t) => system_time_secs(t),
        Err(_) => 0,
    }
}

pub fn system_time_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    }
}

fn now_secs() -> i64 {
    system_time_secs(SystemTime::now())
}
