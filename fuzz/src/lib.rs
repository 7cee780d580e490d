//! What the fuzz targets share: a scratch folder on tmpfs (one per fuzzing process, emptied
//! between inputs), the no-op progress callback, a small deterministic generator for bytes
//! the input does not spell out, and the hash check behind the "verified ⇒ bytes match"
//! invariant.
//!
//! Never touches anything outside its scratch folders; never reads the network.

use seqbox::engine::assemble::HashCheck;
use seqbox::engine::{CancelFlag, Progress};
use seqbox::format::HashKind;
use seqbox::format::hash::hex;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The progress callback the engine's jobs take; fuzzing does not watch progress.
pub fn quiet(_: Progress) {}

/// A cancel flag that is never raised.
pub fn never() -> CancelFlag {
    CancelFlag::new()
}

/// Where temporary files go: /dev/shm (tmpfs) when it exists, else the system temp folder.
fn tmpfs_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// This process's scratch folder, `seqbox-fuzz-PID` on tmpfs.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = tmpfs_root();
        remove_stale(&root);
        let d = root.join(format!("seqbox-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("a scratch folder on tmpfs");
        d
    })
}

/// libFuzzer ends a process without running destructors (a crash ends it at once), so the
/// scratch folders of processes that are gone are removed when the next one starts.
fn remove_stale(root: &Path) {
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("seqbox-fuzz-"))
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A fresh, empty folder `name` inside the scratch folder.
pub fn fresh_dir(name: &str) -> PathBuf {
    let d = scratch().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch subfolder");
    d
}

/// Write `bytes` to `name` in the scratch folder (replacing it) and return its path.
pub fn put(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).expect("scratch file");
    p
}

/// Remove `path` and SQLite's companions (`-wal`, `-shm`, `-journal`).
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The environment variable that makes a target save the file the engine reads (a patched
/// image, an edited catalogue) to the path it names: how a finding of a patch-list or
/// edit-list input becomes a regression test's input.
pub const SAVE_ENV: &str = "SEQBOX_FUZZ_SAVE_INPUT";

/// Copy `file` to the path [`SAVE_ENV`] names, if it is set.
pub fn save_if_asked(file: &Path) {
    if let Some(to) = std::env::var_os(SAVE_ENV) {
        std::fs::copy(file, &to).expect("saving the input file");
    }
}

/// The files in `dir` (not recursive), sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Every file below `dir`, recursively, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for p in files_in(&d) {
            match p.symlink_metadata() {
                Ok(m) if m.is_dir() => todo.push(p),
                _ => out.push(p),
            }
        }
    }
    out.sort();
    out
}

/// The digest of `bytes` as lower-case hex.
pub fn digest_hex(kind: HashKind, bytes: &[u8]) -> String {
    let mut h = kind.hasher();
    h.update(bytes);
    hex(&h.finalize())
}

/// The invariant every decoding job must keep: when it says the stored hash matched, the
/// bytes it wrote hash to that digest. `what` names the job in the panic message.
pub fn assert_hash_holds(what: &str, hash: &HashCheck, output: &Path) {
    if let HashCheck::Match { kind, digest } = hash {
        let bytes = std::fs::read(output).unwrap_or_else(|e| {
            panic!(
                "{what}: verified output {} unreadable: {e}",
                output.display()
            )
        });
        assert_eq!(
            &digest_hex(*kind, &bytes),
            digest,
            "{what}: {} says verified but its bytes do not hash to the stored digest",
            output.display()
        );
    }
}

/// No temporary file (`NAME.XXXXXX.part`, as `AtomicFile` names them) may outlive a job.
/// For failed jobs, whose reports cannot say what they wrote.
pub fn assert_no_temp_files(what: &str, dir: &Path) {
    for p in files_below(dir) {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = name
            .as_deref()
            .and_then(|n| n.strip_suffix(".part"))
            .is_some_and(|n| {
                n.rsplit_once('.').is_some_and(|(_, x)| {
                    x.len() == 6 && x.chars().all(|c| c.is_ascii_alphanumeric())
                })
            });
        assert!(
            !temp,
            "{what}: a temporary file was left behind: {}",
            p.display()
        );
    }
}

/// Every file below `dir` is one of `outputs` and every output is there: nothing written
/// that the report does not name (a leftover temporary file, say), nothing named missing.
pub fn assert_only_outputs(what: &str, dir: &Path, outputs: &[PathBuf]) {
    let mut want = outputs.to_vec();
    want.sort();
    assert_eq!(
        files_below(dir),
        want,
        "{what}: files in the output folder against the report"
    );
}

/// Reads the fuzz input a few bytes at a time; past its end every read gives zeros.
pub struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes, pos: 0 }
    }

    pub fn u8(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.bytes.len());
        let end = start.saturating_add(n).min(self.bytes.len());
        self.pos = self.pos.saturating_add(n);
        &self.bytes[start..end]
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// Inputs shorter than this are patch lists over a seed image ([`patched_image`]).
pub const PATCH_LIST_BELOW: usize = 64 << 10;

/// The disk image an input of the file-system targets stands for: a long input is the image
/// itself; a short one picks one of `bases` (its first byte) and patches it (24-bit offset,
/// length, bytes, repeated), so mutations land inside a valid volume.
pub fn patched_image<'a>(data: &'a [u8], bases: &[&[u8]]) -> std::borrow::Cow<'a, [u8]> {
    if data.len() >= PATCH_LIST_BELOW {
        return data.into();
    }
    let mut input = Input::new(data);
    let mut img = bases[usize::from(input.u8()) % bases.len()].to_vec();
    while !input.is_empty() {
        let at = (input.u16() as usize | usize::from(input.u8()) << 16) % img.len();
        let len = 1 + usize::from(input.u8());
        let bytes = input.take(len);
        let end = (at + bytes.len()).min(img.len());
        img[at..end].copy_from_slice(&bytes[..end - at]);
    }
    img.into()
}

/// Give every block header found in `bytes` (the signature and a known version byte, at any
/// offset, blocks not overlapping) the CRC its contents need, so that mutations of headers and
/// payloads make valid blocks instead of damaged ones — a CRC-16 is a wall random mutation
/// rarely climbs. Returns how many blocks were fixed.
pub fn fix_crcs(bytes: &mut [u8]) -> usize {
    use seqbox::format::Version;
    use seqbox::format::block::{SIGNATURE, block_crc};
    let mut fixed = 0;
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(3).position(|w| w == SIGNATURE) {
        let p = at + i;
        let Some(v) = bytes.get(p + 3).and_then(|&b| Version::from_byte(b)) else {
            at = p + 1;
            continue;
        };
        let bs = v.block_size();
        if p + bs > bytes.len() {
            break;
        }
        let crc = block_crc(v, &bytes[p..p + bs]);
        bytes[p + 4..p + 6].copy_from_slice(&crc.to_be_bytes());
        fixed += 1;
        at = p + bs;
    }
    fixed
}

/// Whether a target fixes the CRCs of this input: two inputs in three, by length, so that
/// damaged blocks stay in the mix.
pub fn fixes_crcs(data: &[u8]) -> bool {
    !data.len().is_multiple_of(3)
}

/// Deterministic pseudo-random bytes (xorshift64), for content the input only seeds.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = vec![0u8; len];
    for c in v.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
    }
    v
}

pub mod seeds;
pub use seeds::catalog_sources;
