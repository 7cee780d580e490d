//! Sources opened for us by someone else — UDisks2 hands over a disk it opened read-only after
//! asking for the password. Opening such a path again ourselves would be refused (or would
//! check the permissions anew through /proc/self/fd), so every source is opened through
//! `open`, which gives a duplicate of the handed-over file when there is one.
//! Only read-only files are ever kept here; this never opens anything for writing.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

static GRANTED: Mutex<Vec<(PathBuf, File)>> = Mutex::new(Vec::new());

/// The name a path is kept under: symlinks such as /dev/disk/by-id/… resolve to the device.
fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Keep `file` (opened read-only elsewhere) as what `path` opens to from now on.
pub fn grant(path: &Path, file: File) {
    let k = key(path);
    let mut g = GRANTED.lock().unwrap_or_else(|e| e.into_inner());
    g.retain(|(p, _)| *p != k);
    g.push((k, file));
}

/// Whether `path` was handed over.
pub fn is_granted(path: &Path) -> bool {
    let k = key(path);
    let g = GRANTED.lock().unwrap_or_else(|e| e.into_inner());
    g.iter().any(|(p, _)| *p == k)
}

/// Open `path` read-only: the handed-over file when there is one, else `File::open`.
/// Reads of sources are positioned (`read_at`), so the shared file offset of a duplicate
/// does not matter.
pub fn open(path: &Path) -> io::Result<File> {
    let k = key(path);
    {
        let g = GRANTED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, f)) = g.iter().find(|(p, _)| *p == k) {
            return f.try_clone();
        }
    }
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_granted_path_opens_to_the_handed_over_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, b"handed over").unwrap();
        let nowhere = dir.path().join("no-such-device");
        assert!(open(&nowhere).is_err());
        grant(&nowhere, File::open(&real).unwrap());
        assert!(is_granted(&nowhere));
        let mut s = String::new();
        open(&nowhere).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "handed over");
    }
}
