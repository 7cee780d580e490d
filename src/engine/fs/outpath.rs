//! Where recovered files go: snapshot paths (raw bytes) turned into paths inside the output
//! folder that cannot escape it, folders created without following symlinks, and no output
//! folder on the device being recovered.

use super::display_path;
use crate::engine::job::Error;
use serde::Serializer;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// The output path of snapshot path `p` inside `out_dir`: every component kept as its raw
/// bytes (Unix) but `.`/`..`/NUL made harmless, so nothing escapes the folder.
pub fn target_for(out_dir: &Path, p: &[u8]) -> Option<PathBuf> {
    let mut t = out_dir.to_path_buf();
    let mut any = false;
    for c in p.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        let mut c = c.to_vec();
        if c == b"." || c == b".." {
            c.insert(0, b'_');
        }
        for b in &mut c {
            if *b == 0 || (cfg!(windows) && b"\\:*?\"<>|".contains(b)) {
                *b = b'_';
            }
        }
        t.push(os_name(c));
        any = true;
    }
    let inside = t
        .strip_prefix(out_dir)
        .is_ok_and(|rel| rel.components().all(|c| matches!(c, Component::Normal(_))));
    (any && inside).then_some(t)
}

#[cfg(unix)]
fn os_name(c: Vec<u8>) -> OsString {
    std::os::unix::ffi::OsStringExt::from_vec(c)
}

#[cfg(not(unix))]
fn os_name(c: Vec<u8>) -> OsString {
    OsString::from(String::from_utf8_lossy(&c).into_owned())
}

/// Create the folders between `out_dir` and `target`, refusing to go through a symlink or a
/// file in the way.
pub(crate) fn make_parents(out_dir: &Path, target: &Path) -> Result<(), String> {
    let rel = target
        .parent()
        .and_then(|p| p.strip_prefix(out_dir).ok())
        .unwrap_or(Path::new(""));
    let mut d = out_dir.to_path_buf();
    for c in rel.components() {
        d.push(c);
        match d.symlink_metadata() {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("{} is in the way (not a folder)", d.display())),
            Err(_) => std::fs::create_dir(&d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?,
        }
    }
    Ok(())
}

/// Refuse an output folder on the very device being recovered (a block device image).
pub(crate) fn refuse_same_device(image: &Path, out_dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        if let (Ok(i), Ok(o)) = (std::fs::metadata(image), std::fs::metadata(out_dir))
            && i.file_type().is_block_device()
            && i.rdev() == o.dev()
        {
            return Err(Error::Invalid(format!(
                "{} is on the disk being recovered; choose a folder on another disk",
                out_dir.display()
            )));
        }
    }
    let _ = (image, out_dir);
    Ok(())
}

/// Output paths in JSON: UTF-8 where they are, `\xNN` for other bytes (Unix).
pub(crate) fn out_text<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&os_text(p)),
        None => s.serialize_none(),
    }
}

#[cfg(unix)]
fn os_text(p: &Path) -> String {
    display_path(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()))
}

#[cfg(not(unix))]
fn os_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_paths_stay_inside_the_output_folder() {
        let out = Path::new("/out");
        assert_eq!(
            target_for(out, b"/a/b.txt").unwrap(),
            Path::new("/out/a/b.txt")
        );
        assert_eq!(
            target_for(out, b"/../../etc/passwd").unwrap(),
            Path::new("/out/_../_../etc/passwd")
        );
        assert_eq!(target_for(out, b"a/./b").unwrap(), Path::new("/out/a/_./b"));
        assert_eq!(target_for(out, b"/n\0ul").unwrap(), Path::new("/out/n_ul"));
        assert!(target_for(out, b"/").is_none());
        assert!(target_for(out, b"").is_none());
    }
}
