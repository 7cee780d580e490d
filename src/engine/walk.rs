//! Walking a folder for the encoder: every regular file under it (following links, each
//! folder walked once so a link back up cannot loop), with its size, the count and the total.
//! Containers (`.sbx`) found in the folder are left out: encoding a folder again must not
//! wrap the containers of the last run. Never writes, never opens a file's content.

use super::job::{CancelFlag, Error, Progress, ProgressFn, Stage, Throttle};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One file found under the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkedFile {
    pub path: PathBuf,
    /// The path below the root (`sub/photo.jpg`).
    pub rel: PathBuf,
    pub size: u64,
}

/// What a walk found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walked {
    pub root: PathBuf,
    /// Folder by folder, as [`walk`] orders them.
    pub files: Vec<WalkedFile>,
    pub total_bytes: u64,
    /// Containers (`.sbx`) left out.
    pub containers_skipped: u64,
    /// Links back to a folder already walked (loops), left out.
    pub loops_skipped: u64,
    /// Entries that could not be read, with the reason (capped at [`NOTES_MAX`]; all counted
    /// in `unreadable`).
    pub notes: Vec<String>,
    pub unreadable: u64,
}

/// Reasons kept per walk; the rest are counted.
pub const NOTES_MAX: usize = 20;

/// A folder's identity, so a folder reached twice (through a link) is walked once.
fn folder_id(meta: &std::fs::Metadata, path: &Path) -> (u64, u64, PathBuf) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        (meta.dev(), meta.ino(), PathBuf::new())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (
            0,
            0,
            path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
        )
    }
}

fn is_container(p: &Path) -> bool {
    p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sbx") || e.eq_ignore_ascii_case("ecsbx"))
}

impl Walked {
    fn unreadable(&mut self, path: &Path, e: &std::io::Error) {
        self.unreadable += 1;
        if self.notes.len() < NOTES_MAX {
            self.notes
                .push(format!("cannot read {}: {e}", path.display()));
        }
    }
}

/// Every regular file under `root` (a folder): a folder's files in name order, then its
/// subfolders' in name order, depth first. Progress: `items`
/// files found, `bytes_done` their total size. A cancelled walk returns `Error::Cancelled`.
pub fn walk(root: &Path, cancel: &CancelFlag, progress: ProgressFn<'_>) -> Result<Walked, Error> {
    let meta = std::fs::metadata(root).map_err(Error::read(root))?;
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let mut out = Walked {
        root: root.to_path_buf(),
        ..Walked::default()
    };
    let mut seen = HashSet::new();
    seen.insert(folder_id(&meta, root));
    let mut throttle = Throttle::default();
    // Folders still to walk, last first so the walk goes in name order.
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        cancel.check()?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                out.unreadable(&dir, &e);
                continue;
            }
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => paths.push(e.path()),
                Err(e) => out.unreadable(&dir, &e),
            }
        }
        paths.sort();
        let mut subdirs = Vec::new();
        for path in paths {
            // `metadata` follows links: a link to a file is that file, to a folder that folder.
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    out.unreadable(&path, &e);
                    continue;
                }
            };
            if meta.is_dir() {
                if seen.insert(folder_id(&meta, &path)) {
                    subdirs.push(path);
                } else {
                    out.loops_skipped += 1;
                }
            } else if meta.is_file() {
                if is_container(&path) {
                    out.containers_skipped += 1;
                    continue;
                }
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.total_bytes += meta.len();
                out.files.push(WalkedFile {
                    path,
                    rel,
                    size: meta.len(),
                });
                throttle.report(
                    progress,
                    Progress {
                        stage: Stage::Encoding,
                        bytes_done: out.total_bytes,
                        bytes_total: 0,
                        items: out.files.len() as u64,
                    },
                );
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    progress(Progress {
        stage: Stage::Encoding,
        bytes_done: out.total_bytes,
        bytes_total: 0,
        items: out.files.len() as u64,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_and_bytes_skips_containers_and_link_loops() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("one.txt"), b"12345").unwrap();
        std::fs::write(d.join("a/two.bin"), vec![7u8; 1000]).unwrap();
        std::fs::write(d.join("a/b/three"), b"").unwrap();
        std::fs::write(d.join("a/two.bin.sbx"), b"old container").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d, d.join("a/b/up")).unwrap();
        let w = walk(d, &CancelFlag::new(), &|_| {}).unwrap();
        let rels: Vec<_> = w.files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(
            rels,
            vec![
                PathBuf::from("one.txt"),
                PathBuf::from("a/two.bin"),
                PathBuf::from("a/b/three")
            ]
        );
        assert_eq!(w.total_bytes, 1005);
        assert_eq!(w.containers_skipped, 1);
        #[cfg(unix)]
        assert_eq!(w.loops_skipped, 1);

        let cancel = CancelFlag::new();
        cancel.cancel();
        assert!(matches!(walk(d, &cancel, &|_| {}), Err(Error::Cancelled)));
        assert!(matches!(
            walk(&d.join("one.txt"), &CancelFlag::new(), &|_| {}),
            Err(Error::Invalid(_))
        ));
    }
}
