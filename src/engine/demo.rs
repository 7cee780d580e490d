//! The fragmentation demo: what losing a file system does to files, shown on a generated
//! 1.44 MB floppy. Files and their SBX copies go onto a FAT12 floppy that earlier files and
//! deletions left full of gaps, so they are stored in pieces; then the file system is wiped
//! and the sectors are scrambled. Two ways of getting the files back are compared: a
//! signature carver (find a file's first bytes, read its size from there) and an SBX scan and
//! recovery. Each stage's image and its scan catalogue (for the block map), the carved and
//! the recovered files all go into one new, empty output folder.
//!
//! The floppy exists only in memory and as image files in that folder: the demo never opens
//! a real disk, never writes outside its own output folder, and only reads the user's files.

mod carve;
mod floppy;
mod folder;
mod found;
mod samples;

pub use folder::{Reuse, reuse};

use carve::carve;
use floppy::{Laid, lay_out};

use super::calc;
use super::encode::{self, EncodeOpts, Target};
use super::fat::{Floppy, SECTOR, SplitMix, scramble_runs};
use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage};
use super::output::AtomicFile;
use super::recover::{self, RecoverOpts, RecoverStatus, Selection};
use super::scan::{self, ScanOpts};
use crate::format::Version;
use crate::format::block::{Uid, uid_hex};
use crate::format::hash::hex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

/// Scrambled runs are 1 to 32 sectors (up to 16 KiB): pieces of files stay whole often
/// enough for a carver to get some bytes right, never a whole large file.
pub const SCRAMBLE_RUNS: [usize; 2] = [1, 32];
/// Each file takes two root-directory entries (it and its SBX copy) of 224.
const MAX_FILES: usize = 32;
/// Generated samples are dated 2020-01-01, like the floppy's directory entries.
const SAMPLE_MTIME: u64 = 1_577_836_800;

#[derive(Clone, Debug)]
pub struct DemoOpts {
    /// A new or empty folder; everything the demo writes goes here.
    pub out_dir: PathBuf,
    /// Picks the samples, UIDs, gaps and scramble: one seed, byte-identical images.
    pub seed: u64,
    /// Files to put on the floppy; empty: generated samples.
    pub files: Vec<PathBuf>,
}

/// One stage of the disk: its image and the catalogue of its scan (for the block map).
#[derive(Clone, Debug, Serialize)]
pub struct StageInfo {
    /// "before", "wiped" or "scrambled".
    pub name: &'static str,
    pub image: PathBuf,
    pub catalog: PathBuf,
    pub description: String,
    /// Valid SBX blocks the scan of this stage found (the same in every stage).
    pub sbx_blocks: u64,
}

/// What became of one file.
#[derive(Clone, Debug, Serialize)]
pub struct DemoFile {
    pub name: String,
    pub size: u64,
    pub sha256_hex: String,
    /// The file as it went onto the floppy (in `originals/`), with its SBX copy beside it.
    pub original_path: PathBuf,
    /// UID of its SBX copy.
    pub uid: String,
    /// Pieces the file and its SBX copy were stored in on the floppy.
    pub original_fragments: usize,
    pub sbx_fragments: usize,
    /// The carver found the file's first bytes somewhere in the scrambled image.
    pub carved_found: bool,
    pub carved_identical: bool,
    /// Leading bytes the best carved candidate got right.
    pub carved_correct_prefix: u64,
    pub carved_path: Option<PathBuf>,
    /// Valid blocks of its SBX copy on the scrambled image, and the pieces they lay in
    /// there (runs of consecutive sectors holding consecutive blocks).
    pub sbx_blocks_found: u64,
    pub sbx_pieces_found: u64,
    /// Recovered from the scrambled image and equal to the original (SHA-256).
    pub sbx_recovered_identical: bool,
    pub recovered_path: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DemoReport {
    pub out_dir: PathBuf,
    pub seed: u64,
    /// The files were generated samples (not the user's).
    pub samples: bool,
    /// Shortest and longest run of sectors the scramble moved as one piece.
    pub scramble_runs: [usize; 2],
    pub stages: Vec<StageInfo>,
    pub files: Vec<DemoFile>,
}

impl DemoReport {
    /// Every file came back from its SBX copy bit-exact.
    pub fn success(&self) -> bool {
        !self.files.is_empty() && self.files.iter().all(|f| f.sbx_recovered_identical)
    }

    /// The outcome in one plain sentence.
    pub fn summary(&self) -> String {
        let n = self.files.len();
        let carved = self.files.iter().filter(|f| f.carved_identical).count();
        let sbx = self
            .files
            .iter()
            .filter(|f| f.sbx_recovered_identical)
            .count();
        let files = if n == 1 { "file" } else { "files" };
        let sbx_words = if sbx == n {
            format!("SBX recovery got {sbx} of {n} back, bit-exact and hash-verified.")
        } else {
            format!(
                "SBX recovery got {sbx} of {n} back bit-exact; {} did not come back.",
                n - sbx
            )
        };
        format!("Carving got {carved} of {n} {files} back intact; {sbx_words}")
    }
}

/// A file to put on the floppy, before anything is written.
struct Planned {
    name: String,
    size: u64,
    content: Content,
}

enum Content {
    Generated(Vec<u8>),
    User(PathBuf),
}

/// A file in `originals/`, with its SBX copy.
struct Original {
    name: String,
    path: PathBuf,
    data: Vec<u8>,
    uid: Uid,
    sbx: Vec<u8>,
}

/// Build the three stages, carve, recover and compare. Checks the inputs and the output
/// folder before writing anything; a cancelled run keeps the stages already finished
/// (every file in the folder is complete) and returns `Error::Cancelled`.
pub fn run(
    opts: &DemoOpts,
    cancel: &CancelFlag,
    progress: ProgressFn<'_>,
) -> Result<DemoReport, Error> {
    let planned = plan(opts)?;
    check_fits(&planned)?;
    let out = prepare_out_dir(&opts.out_dir)?;
    let img_len = Floppy::new("", 0).image().len() as u64;
    let bytes: u64 = planned.iter().map(|p| p.size).sum();
    // Work in bytes: encode and recover every file, write, scan and carve the images.
    let meter = Meter::new(progress, 2 * bytes + 7 * img_len);

    let originals = write_originals(&out, opts.seed, planned, cancel, &meter)?;
    let Laid {
        mut disk,
        fragments,
        kept,
    } = lay_out(&originals, opts.seed)?;
    let fragmented =
        fragments.iter().filter(|f| f.0 > 1).count() + fragments.iter().filter(|f| f.1 > 1).count();
    let n = originals.len();
    let s = |k: usize, word: &str| format!("{k} {word}{}", if k == 1 { "" } else { "s" });
    let mut stages = Vec::new();
    let mut stage = |name, image: &[u8], description: String| -> Result<(), Error> {
        cancel.check()?;
        let number = stages.len() + 1;
        let path = out.join(format!("{number}-{name}.img"));
        write_new(&path, image)?;
        meter.add(Stage::Imaging, img_len);
        let catalog = out.join(format!("{number}-{name}.sbxscan.sqlite"));
        let scan_opts = ScanOpts {
            sources: vec![path.clone()],
            catalog: catalog.clone(),
            ..Default::default()
        };
        let report = scan::run(&scan_opts, cancel, &meter.part(img_len))?;
        meter.finish_part(img_len);
        stages.push(StageInfo {
            name,
            image: path,
            catalog,
            description,
            sbx_blocks: report.sources.iter().map(|s| s.blocks).sum(),
        });
        Ok(())
    };
    stage(
        "before",
        disk.image(),
        format!(
            "The floppy with its FAT12 file system: {} and their SBX copies among {} that \
             were already there; earlier deletions left gaps, so {fragmented} of these {} \
             were stored in pieces.",
            s(n, "file"),
            s(kept, "other file"),
            2 * n
        ),
    )?;
    disk.wipe_system_area();
    stage(
        "wiped",
        disk.image(),
        "The boot sector, both FATs and the root directory zeroed (the first 33 sectors), as \
         the SeqBox demo does with a hex editor: nothing says any more where a file starts or \
         which sectors follow which."
            .into(),
    )?;
    let [min_run, max_run] = SCRAMBLE_RUNS;
    let (scrambled, _) = scramble_runs(disk.image(), opts.seed, min_run, max_run);
    stage(
        "scrambled",
        &scrambled,
        format!(
            "The sectors cut into runs of {min_run} to {max_run} sectors and shuffled: the order of \
             the pieces is lost too, as on a medium whose contents were moved around or \
             pieced together from a damaged copy."
        ),
    )?;

    cancel.check()?;
    let carved_dir = out.join("carved");
    std::fs::create_dir(&carved_dir).map_err(Error::write(&carved_dir))?;
    let mut carvings = Vec::new();
    for o in &originals {
        let c = carve(&scrambled, &o.data);
        let path = match &c.bytes {
            Some(b) => Some(write_new(&carved_dir.join(&o.name), b)?),
            None => None,
        };
        carvings.push((c, path));
    }
    meter.add(Stage::Carving, img_len);

    let recover_opts = RecoverOpts {
        catalog: stages[2].catalog.clone(),
        out_dir: out.join("recovered"),
        select: Selection::All,
        partial: false,
        password: None,
    };
    let recovered = recover::run(&recover_opts, cancel, &meter.part(bytes))?;
    meter.finish_part(bytes);

    let found = found::found(&scrambled, SECTOR);
    let mut files = Vec::new();
    for ((o, (c, carved_path)), (frag, sbx_frag)) in originals.iter().zip(carvings).zip(fragments) {
        let sha = Sha256::digest(&o.data);
        let result = recovered.results.iter().find(|r| r.uid == uid_hex(&o.uid));
        let output = result.and_then(|r| {
            let good = matches!(r.status, RecoverStatus::Complete | RecoverStatus::Repaired);
            r.output.clone().filter(|_| good && r.verified)
        });
        let identical = match &output {
            Some(p) => Sha256::digest(std::fs::read(p).map_err(Error::read(p))?) == sha,
            None => false,
        };
        files.push(DemoFile {
            name: o.name.clone(),
            size: o.data.len() as u64,
            sha256_hex: hex(&sha),
            original_path: o.path.clone(),
            uid: uid_hex(&o.uid),
            original_fragments: frag,
            sbx_fragments: sbx_frag,
            carved_found: c.found,
            carved_identical: c.prefix == o.data.len() as u64,
            carved_correct_prefix: c.prefix,
            carved_path,
            sbx_blocks_found: found.get(&o.uid).map_or(0, |f| f.blocks),
            sbx_pieces_found: found.get(&o.uid).map_or(0, |f| f.pieces),
            sbx_recovered_identical: identical,
            recovered_path: output,
        });
    }
    Ok(DemoReport {
        out_dir: out,
        seed: opts.seed,
        samples: opts.files.is_empty(),
        scramble_runs: SCRAMBLE_RUNS,
        stages,
        files,
    })
}

/// The files to use, checked (and sized) before anything is written.
fn plan(opts: &DemoOpts) -> Result<Vec<Planned>, Error> {
    if opts.files.is_empty() {
        return Ok(samples::samples(opts.seed)
            .into_iter()
            .map(|s| Planned {
                name: s.name.into(),
                size: s.data.len() as u64,
                content: Content::Generated(s.data),
            })
            .collect());
    }
    if opts.files.len() > MAX_FILES {
        return Err(Error::Invalid(format!(
            "{} files were given; the demo floppy takes at most {MAX_FILES}",
            opts.files.len()
        )));
    }
    let mut planned = Vec::new();
    for path in &opts.files {
        let info = std::fs::metadata(path).map_err(Error::read(path))?;
        let name = super::io::file_name_of(path);
        if !info.is_file() {
            return Err(Error::Invalid(format!(
                "{} is not a file; give the demo files",
                path.display()
            )));
        }
        if info.len() == 0 {
            return Err(Error::Invalid(format!(
                "{} is empty: there is nothing to lose and recover",
                path.display()
            )));
        }
        planned.push(Planned {
            name,
            size: info.len(),
            content: Content::User(path.clone()),
        });
    }
    Ok(planned)
}

/// Refuse, in plain words, files that with their SBX copies do not fit on the floppy.
fn check_fits(planned: &[Planned]) -> Result<(), Error> {
    let capacity = Floppy::new("", 0).free_bytes();
    let v1 = EncodeOpts {
        version: Version::V1,
        ..EncodeOpts::new("")
    };
    let mut needed = 0;
    for p in planned {
        let sbx = calc::run(p.size, &v1)
            .map_err(Error::Invalid)?
            .container_size;
        needed += on_disk(p.size) + on_disk(sbx);
    }
    if needed > capacity {
        let which = if planned.len() == 1 {
            planned[0].name.clone()
        } else {
            format!("these {} files", planned.len())
        };
        return Err(Error::Invalid(format!(
            "{which} and their SBX copies take {} on a floppy, but a 1.44 MB floppy holds \
             only {} of files; choose smaller files",
            calc::human(needed),
            calc::human(capacity)
        )));
    }
    Ok(())
}

/// Bytes a file takes on the floppy: whole 512-byte clusters.
fn on_disk(size: u64) -> u64 {
    size.div_ceil(SECTOR as u64) * SECTOR as u64
}

/// Create the output folder, or accept an existing empty one; refuse anything else so the
/// demo never mixes its files with others. Returns it as an absolute path, which is what
/// the catalogues record for their images.
fn prepare_out_dir(dir: &Path) -> Result<PathBuf, Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Invalid(format!(
                    "{} is not empty: the demo writes into a new or empty folder",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(Error::write(dir))?;
        }
        Err(_) if dir.exists() => {
            return Err(Error::Invalid(format!(
                "{} exists and is not a folder: the demo writes into a new or empty folder",
                dir.display()
            )));
        }
        Err(e) => {
            return Err(Error::Read {
                path: dir.into(),
                source: e,
            });
        }
    }
    std::fs::canonicalize(dir).map_err(Error::read(dir))
}

/// Write the files into `originals/` (user files copied with their dates, so their SBX
/// copies are the same every run) and encode an SBX copy (version 1) of each beside it.
fn write_originals(
    out: &Path,
    seed: u64,
    planned: Vec<Planned>,
    cancel: &CancelFlag,
    meter: &Meter,
) -> Result<Vec<Original>, Error> {
    let dir = out.join("originals");
    std::fs::create_dir(&dir).map_err(Error::write(&dir))?;
    let mut rng = SplitMix(seed ^ 0x51D5_0000_0000_0000);
    let mut uids = HashSet::new();
    let sbx_time = 1_600_000_000 + (seed % 100_000_000) as i64;
    let mut originals = Vec::new();
    for p in planned {
        cancel.check()?;
        let (data, mtime) = match p.content {
            Content::Generated(d) => (d, UNIX_EPOCH + Duration::from_secs(SAMPLE_MTIME)),
            Content::User(src) => {
                let data = std::fs::read(&src).map_err(Error::read(&src))?;
                let info = std::fs::metadata(&src).map_err(Error::read(&src))?;
                (data, info.modified().unwrap_or(UNIX_EPOCH))
            }
        };
        let mut f = AtomicFile::create_unique(&dir.join(&p.name))?;
        let path = f.target().to_path_buf();
        f.file()
            .write_all(&data)
            .and_then(|_| f.file().set_modified(mtime))
            .map_err(Error::write(&path))?;
        let path = f.commit(false)?;
        let uid = loop {
            let mut u = [0u8; 6];
            u.copy_from_slice(&rng.next().to_le_bytes()[..6]);
            if u != [0; 6] && uids.insert(u) {
                break u;
            }
        };
        let sbx_path = path.with_file_name(format!("{}.sbx", super::io::file_name_of(&path)));
        let enc = EncodeOpts {
            output: Target::File(sbx_path.clone()),
            version: Version::V1,
            uid: Some(uid),
            sbx_time: Some(sbx_time),
            ..EncodeOpts::new(&path)
        };
        let size = data.len() as u64;
        encode::run(&enc, cancel, &meter.part(size))?;
        meter.finish_part(size);
        let sbx = std::fs::read(&sbx_path).map_err(Error::read(&sbx_path))?;
        originals.push(Original {
            name: super::io::file_name_of(&path),
            path,
            data,
            uid,
            sbx,
        });
    }
    Ok(originals)
}

/// Write `bytes` to the new file `path` (never replacing one).
fn write_new(path: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
    let mut f = AtomicFile::create(path, false)?;
    f.file().write_all(bytes).map_err(Error::write(path))?;
    f.commit(false)
}

/// Progress of the whole demo in bytes of work, fed by its own steps and by the jobs it
/// runs (each job's fraction scaled into its share); never goes backwards.
struct Meter<'a> {
    progress: ProgressFn<'a>,
    total: u64,
    /// Work finished by completed steps.
    done: AtomicU64,
    /// The highest value reported.
    shown: AtomicU64,
}

impl<'a> Meter<'a> {
    fn new(progress: ProgressFn<'a>, total: u64) -> Meter<'a> {
        Meter {
            progress,
            total,
            done: AtomicU64::new(0),
            shown: AtomicU64::new(0),
        }
    }

    fn report(&self, stage: Stage, at: u64, items: u64) {
        let at = at.min(self.total);
        let shown = self.shown.fetch_max(at, Ordering::Relaxed).max(at);
        (self.progress)(Progress {
            stage,
            bytes_done: shown,
            bytes_total: self.total,
            items,
        });
    }

    /// A step of `weight` bytes of work finished.
    fn add(&self, stage: Stage, weight: u64) {
        let done = self.done.fetch_add(weight, Ordering::Relaxed) + weight;
        self.report(stage, done, 0);
    }

    /// The progress callback for a job worth `weight` bytes of the demo's work.
    fn part(&self, weight: u64) -> impl Fn(Progress) + Sync + '_ {
        let base = self.done.load(Ordering::Relaxed);
        move |p: Progress| {
            let part = match p.bytes_total {
                0 => weight,
                t => (u128::from(weight) * u128::from(p.bytes_done.min(t)) / u128::from(t)) as u64,
            };
            self.report(p.stage, base + part, p.items)
        }
    }

    /// The job given by [`Meter::part`] finished.
    fn finish_part(&self, weight: u64) {
        self.done.fetch_add(weight, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meter_scales_jobs_into_its_share_and_never_goes_back() {
        let seen = std::sync::Mutex::new(Vec::new());
        let f = |p: Progress| {
            seen.lock()
                .unwrap()
                .push((p.stage, p.bytes_done, p.bytes_total))
        };
        {
            let meter = Meter::new(&f, 1000);
            meter.add(Stage::Imaging, 100);
            let part = meter.part(400);
            for done in [0, 50, 25, 100] {
                part(Progress {
                    stage: Stage::Scanning,
                    bytes_done: done,
                    bytes_total: 100,
                    items: 0,
                });
            }
            meter.finish_part(400);
            meter.add(Stage::Carving, 500);
        }
        let seen = seen.into_inner().unwrap();
        let done: Vec<u64> = seen.iter().map(|s| s.1).collect();
        assert_eq!(done, [100, 100, 300, 300, 500, 1000]);
        assert!(seen.iter().all(|s| s.2 == 1000));
        assert_eq!(seen[2].0, Stage::Scanning);
    }
}
