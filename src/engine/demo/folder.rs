//! The demo's one folder, reused run after run: a new run may empty it only when everything
//! in it is something a demo run makes (stage images and catalogues, `originals/`,
//! `carved/`, `recovered/`); anything else is listed and left alone, so the person can be
//! asked. Never removes a file it does not recognise, never follows a symlink out.

use crate::engine::job::Error;
use std::path::Path;

/// What is in the demo folder before a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// It does not exist, is empty, or held only an earlier run's files (now removed).
    Ready,
    /// It holds things a demo run does not make (their names, up to a few): left untouched.
    Foreign(Vec<String>),
}

const SUBFOLDERS: [&str; 3] = ["originals", "carved", "recovered"];
/// The samples' names (`samples::samples`; a test keeps the two lists the same).
const SAMPLES: [&str; 4] = ["picture.bmp", "sound.wav", "report.txt", "archive.zip"];
const STAGES: [&str; 3] = ["before", "wiped", "scrambled"];

/// A name a demo run writes at the top of its folder (or a temporary `.part` of one).
fn ours(name: &str, is_dir: bool) -> bool {
    if is_dir {
        return SUBFOLDERS.contains(&name);
    }
    let name = match name.rsplit_once('.') {
        // AtomicFile's temporary names: `NAME.<random>.part`.
        Some((rest, "part")) => rest.rsplit_once('.').map_or(rest, |(n, _)| n),
        _ => name,
    };
    let Some((number, rest)) = name.split_once('-') else {
        return false;
    };
    let Some((stage, ext)) = rest.split_once('.') else {
        return false;
    };
    number.parse::<u8>().is_ok()
        && STAGES.contains(&stage)
        && matches!(
            ext,
            "img"
                | "sbxscan.sqlite"
                | "sbxscan.sqlite-wal"
                | "sbxscan.sqlite-shm"
                | "sbxscan.sqlite-journal"
        )
}

/// A file a demo run writes inside its subfolders: a sample (`picture.bmp`…), its SBX copy,
/// a numbered or incomplete copy of either, or the temporary `.part` of one.
fn our_file(name: &str) -> bool {
    let name = match name.rsplit_once('.') {
        Some((rest, "part")) => rest.rsplit_once('.').map_or(rest, |(n, _)| n),
        _ => name,
    };
    let name = name.strip_suffix(".sbx").unwrap_or(name);
    SAMPLES.iter().any(|s| {
        let (stem, ext) = s.rsplit_once('.').unwrap_or((s, ""));
        name.strip_prefix(stem)
            .and_then(|r| r.strip_suffix(ext))
            .and_then(|r| r.strip_suffix('.'))
            .is_some_and(|mid| {
                mid.is_empty()
                    || mid == " (incomplete)"
                    || mid
                        .strip_prefix(" (")
                        .and_then(|m| m.strip_suffix(')'))
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
    })
}

/// The entries of one of the demo's subfolders that a demo run does not make (a folder, a
/// link or any other name): they keep the whole folder from being cleared.
fn foreign_in(sub: &Path, name: &str) -> Result<Vec<String>, Error> {
    let mut foreign = Vec::new();
    for e in std::fs::read_dir(sub).map_err(Error::read(sub))? {
        let e = e.map_err(Error::read(sub))?;
        let kind = e.file_type().map_err(Error::read(sub))?;
        let inner = e.file_name().to_string_lossy().into_owned();
        if !kind.is_file() || !our_file(&inner) {
            foreign.push(format!("{name}/{inner}"));
        }
    }
    Ok(foreign)
}

/// Make `dir` ready for a new run: empty it when it holds only an earlier run's files.
pub fn reuse(dir: &Path) -> Result<Reuse, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Reuse::Ready),
        Err(e) => return Err(Error::read(dir)(e)),
    };
    let mut mine = Vec::new();
    let mut foreign = Vec::new();
    for e in entries {
        let e = e.map_err(Error::read(dir))?;
        let kind = e.file_type().map_err(Error::read(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !kind.is_symlink() && ours(&name, kind.is_dir()) {
            // A subfolder is cleared only when all it holds is the demo's own files.
            if kind.is_dir() {
                foreign.extend(foreign_in(&e.path(), &name)?);
            }
            mine.push((e.path(), kind.is_dir()));
        } else {
            foreign.push(name);
        }
    }
    if !foreign.is_empty() {
        foreign.sort();
        foreign.truncate(5);
        return Ok(Reuse::Foreign(foreign));
    }
    for (p, is_dir) in mine {
        let r = if is_dir {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(Error::write(&p))?;
    }
    Ok(Reuse::Ready)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_names_are_the_samples() {
        let names: Vec<_> = super::super::samples::samples(1)
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, SAMPLES);
    }

    #[test]
    fn only_a_demo_runs_own_files_are_cleared() {
        assert!(ours("3-scrambled.sbxscan.sqlite-wal", false));
        assert!(ours("1-before.img.x7Gq2.part", false));
        assert!(ours("recovered", true));
        assert!(!ours("recovered", false));
        assert!(!ours("holiday.jpg", false));
        assert!(!ours("1-holiday.img", false));

        let d = tempfile::tempdir().unwrap();
        let demo = d.path().join("seqbox-demo");
        assert_eq!(reuse(&demo).unwrap(), Reuse::Ready);
        std::fs::create_dir_all(demo.join("recovered")).unwrap();
        std::fs::write(demo.join("recovered/picture.bmp"), b"x").unwrap();
        std::fs::write(demo.join("recovered/sound (1).wav"), b"x").unwrap();
        std::fs::write(demo.join("recovered/report (incomplete).txt"), b"x").unwrap();
        std::fs::write(demo.join("recovered/archive.zip.sbx"), b"x").unwrap();
        std::fs::write(demo.join("2-wiped.img"), b"x").unwrap();
        std::fs::write(demo.join("notes.txt"), b"mine").unwrap();
        assert_eq!(
            reuse(&demo).unwrap(),
            Reuse::Foreign(vec!["notes.txt".into()])
        );
        assert!(demo.join("2-wiped.img").exists(), "nothing removed");
        std::fs::remove_file(demo.join("notes.txt")).unwrap();
        // A file of the person's own inside a demo subfolder keeps it all too.
        std::fs::write(demo.join("recovered/holiday.jpg"), b"mine").unwrap();
        assert_eq!(
            reuse(&demo).unwrap(),
            Reuse::Foreign(vec!["recovered/holiday.jpg".into()])
        );
        assert!(
            demo.join("recovered/picture.bmp").exists(),
            "nothing removed"
        );
        std::fs::remove_file(demo.join("recovered/holiday.jpg")).unwrap();
        assert_eq!(reuse(&demo).unwrap(), Reuse::Ready);
        assert_eq!(std::fs::read_dir(&demo).unwrap().count(), 0);
    }
}
