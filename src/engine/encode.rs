//! Encode a file into an SBX container (versions 1–3), byte-identical to the original SBXEnc
//! for the same input, UID, version, names and dates.
//!
//! The input is read once: framing, CRC and writing happen on this thread while the hash is
//! computed on another; block 0 (which holds the hash) is written last. The output is written
//! under a temporary name and renamed when complete. Never writes to the input.

use super::hashpipe::HashPipe;
use super::io::{file_name_of, read_full, same_file};
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use super::output::AtomicFile;
use crate::format::block::{self, Uid, uid_hex};
use crate::format::hash::hex;
use crate::format::metadata::PAD;
use crate::format::{HashKind, Metadata, StoredHash, Version, password};
use serde::Serialize;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
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

#[derive(Clone, Debug)]
pub struct EncodeOpts {
    pub input: PathBuf,
    pub output: Target,
    pub version: Version,
    /// `None`: a random UID.
    pub uid: Option<Uid>,
    pub hash: HashKind,
    pub no_meta: bool,
    pub password: Option<String>,
    pub overwrite: bool,
    /// SDT, seconds since 1970; `None`: now.
    pub sbx_time: Option<i64>,
}

impl EncodeOpts {
    pub fn new(input: impl Into<PathBuf>) -> EncodeOpts {
        EncodeOpts {
            input: input.into(),
            output: Target::Beside,
            version: Version::V1,
            uid: None,
            hash: HashKind::Sha256,
            no_meta: false,
            password: None,
            overwrite: false,
            sbx_time: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EncodeReport {
    pub input: PathBuf,
    pub output: PathBuf,
    pub version: Version,
    pub uid: String,
    pub file_size: u64,
    pub data_blocks: u64,
    pub container_size: u64,
    pub hash_kind: HashKind,
    pub hash: String,
    /// Things the user should know (shortened names, compatibility limits).
    pub notes: Vec<String>,
}

/// Bytes of input framed per write.
const BLOCKS_PER_CHUNK: usize = 8192;

pub fn run(
    opts: &EncodeOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<EncodeReport, Error> {
    let v = opts.version;
    if v.uses_rs() {
        return Err(Error::Invalid(format!(
            "version {v} (Reed–Solomon) is not supported yet"
        )));
    }
    let input_path = &opts.input;
    let mut input = File::open(input_path).map_err(Error::read(input_path))?;
    let info = input.metadata().map_err(Error::read(input_path))?;
    if !info.is_file() {
        return Err(Error::Invalid(format!(
            "{} is not a regular file",
            input_path.display()
        )));
    }
    let size = info.len();
    let (bs, payload) = (v.block_size(), v.payload_size());
    if size.div_ceil(payload as u64) > u64::from(u32::MAX) {
        return Err(Error::Invalid(format!(
            "{} is too large for version {v} (at most {} bytes)",
            input_path.display(),
            u64::from(u32::MAX) * payload as u64
        )));
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
    let file_name = file_name_of(input_path);
    let out_path = opts.output.resolve(input_path, &format!("{file_name}.sbx"));
    if same_file(input_path, &out_path) {
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
    let mut notes = Vec::new();

    if !opts.no_meta {
        // Block 0 is written last, once the hash is known; reserve its place.
        out.file()
            .write_all(&vec![0u8; bs])
            .map_err(Error::write(&out_path))?;
    }
    let chunk_in = BLOCKS_PER_CHUNK * payload;
    let mut pipe = HashPipe::new(Some(opts.hash), chunk_in);
    let mut framed = vec![0u8; BLOCKS_PER_CHUNK * bs];
    let mut seq: u32 = 1;
    let mut done: u64 = 0;
    let mut throttle = Throttle::default();
    loop {
        cancel.check()?;
        let mut buf = pipe.buffer();
        buf.resize(chunk_in, 0);
        let n = read_full(&mut input, &mut buf).map_err(Error::read(input_path))?;
        buf.truncate(n);
        if n == 0 {
            break;
        }
        let blocks = n.div_ceil(payload);
        for (i, piece) in buf.chunks(payload).enumerate() {
            let block = &mut framed[i * bs..(i + 1) * bs];
            block[16..16 + piece.len()].copy_from_slice(piece);
            block[16 + piece.len()..].fill(PAD);
            block::write_header(block, v, &uid, seq);
            if let Some(ks) = &keystream {
                password::apply(block, ks);
            }
            seq += 1;
        }
        out.file()
            .write_all(&framed[..blocks * bs])
            .map_err(Error::write(&out_path))?;
        pipe.feed(buf);
        done += n as u64;
        throttle.report(
            progress,
            Progress {
                stage: Stage::Encoding,
                bytes_done: done,
                bytes_total: size,
                items: u64::from(seq - 1),
            },
        );
    }
    let digest = pipe.finish().expect("a hash kind was given");
    let data_blocks = u64::from(seq - 1);

    if !opts.no_meta {
        let mut meta = Metadata {
            file_name: Some(file_name),
            sbx_name: Some(file_name_of(&out_path)),
            file_size: Some(done),
            file_time: Some(mtime_secs(&info)),
            sbx_time: Some(opts.sbx_time.unwrap_or_else(now_secs)),
            hash: Some(StoredHash::Known {
                kind: opts.hash,
                digest: digest.clone(),
            }),
            ..Default::default()
        };
        if meta.fit_names(v) {
            notes.push(format!(
                "names shortened to fit the metadata block: {:?}, {:?}",
                meta.file_name.as_deref().unwrap_or(""),
                meta.sbx_name.as_deref().unwrap_or("")
            ));
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
        f.seek(SeekFrom::Start(0))
            .map_err(Error::write(&out_path))?;
        f.write_all(&block0).map_err(Error::write(&out_path))?;
    }
    if password.is_some_and(|p| !password::original_can_use(p)) {
        notes.push("the original SeqBox tools cannot use this password (their encoder crashes on it); SeqBox Studio reads it fine".into());
    }
    if opts.hash != HashKind::Sha256 {
        notes.push(format!(
            "the original SeqBox tools verify SHA-256 only; they will not check this {} hash",
            opts.hash
        ));
    }
    progress(Progress {
        stage: Stage::Encoding,
        bytes_done: done,
        bytes_total: size,
        items: data_blocks,
    });
    let container_size = (data_blocks + u64::from(!opts.no_meta)) * bs as u64;
    let output = out.commit(opts.overwrite)?;
    Ok(EncodeReport {
        input: input_path.clone(),
        output,
        version: v,
        uid: uid_hex(&uid),
        file_size: done,
        data_blocks,
        container_size,
        hash_kind: opts.hash,
        hash: hex(&digest),
        notes,
    })
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
