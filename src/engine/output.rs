//! Writing results safely: names from inside containers made harmless, outputs written under
//! a temporary `.part` name and renamed only when complete, existing files never replaced
//! unless the caller asked.

use super::job::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Turn an untrusted name (from a container's metadata) into a plain file name that stays
/// inside the folder it is joined to: path separators, NUL and control characters become
/// `_`; `.`/`..`/empty names are refused (`None`).
pub fn safe_file_name(untrusted: &str) -> Option<String> {
    let cleaned: String = untrusted
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || (cfg!(windows) && ":*?\"<>|".contains(c))
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '.') {
        return None;
    }
    Some(cleaned)
}

/// `target`, or `stem (1).ext`, `stem (2).ext`, … beside it, whichever does not exist yet: a
/// new output never replaces a file that is there. Names need not be UTF-8.
pub fn unique_path(target: &Path) -> PathBuf {
    if target.symlink_metadata().is_err() {
        return target.to_path_buf();
    }
    let stem = target.file_stem().unwrap_or_default().to_os_string();
    let ext = target.extension().map(|e| e.to_os_string());
    (1u64..)
        .map(|n| {
            let mut name = stem.clone();
            name.push(format!(" ({n})"));
            if let Some(e) = &ext {
                name.push(".");
                name.push(e);
            }
            target.with_file_name(name)
        })
        .find(|p| p.symlink_metadata().is_err())
        .expect("a free name")
}

/// A file being written under a temporary name beside its final path. Dropping it without
/// [`AtomicFile::commit`] removes the temporary file, so a failed or cancelled job leaves
/// nothing behind.
pub struct AtomicFile {
    tmp: NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Start writing `target`. Fails at once when `target` exists and `overwrite` is false,
    /// so no work is wasted on an output that could not be kept.
    pub fn create(target: &Path, overwrite: bool) -> Result<AtomicFile, Error> {
        if !overwrite && target.symlink_metadata().is_ok() {
            return Err(Error::OutputExists {
                path: target.to_path_buf(),
            });
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut builder = tempfile::Builder::new();
        // A finished output gets the usual permissions (umask applies), not a temp file's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder
            .prefix(&format!("{name}."))
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(Error::write(target))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Move the finished file to its final name. Without `overwrite` the rename refuses to
    /// replace a file that appeared meanwhile.
    pub fn commit(self, overwrite: bool) -> Result<PathBuf, Error> {
        let target = self.target;
        let result = if overwrite {
            self.tmp.persist(&target)
        } else {
            self.tmp.persist_noclobber(&target)
        };
        match result {
            Ok(_) => Ok(target),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::OutputExists { path: target })
            }
            Err(e) => Err(Error::Write {
                path: target,
                source: e.error,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_keep_the_extension() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("a.txt");
        assert_eq!(unique_path(&t), t);
        std::fs::write(&t, b"x").unwrap();
        assert_eq!(unique_path(&t), d.path().join("a (1).txt"));
    }

    #[test]
    fn hostile_names_stay_inside_the_folder() {
        assert_eq!(
            safe_file_name("../../etc/passwd").unwrap(),
            ".._.._etc_passwd"
        );
        assert_eq!(safe_file_name("/abs/x").unwrap(), "_abs_x");
        assert_eq!(safe_file_name("a\\b").unwrap(), "a_b");
        assert_eq!(safe_file_name("nul\0byte").unwrap(), "nul_byte");
        assert_eq!(safe_file_name(".."), None);
        assert_eq!(safe_file_name("."), None);
        assert_eq!(safe_file_name("  "), None);
        assert_eq!(safe_file_name("Grüße 日本.txt").unwrap(), "Grüße 日本.txt");
        for hostile in ["../x", "/x", "a/../../b", "..\\..\\x"] {
            let n = safe_file_name(hostile).unwrap();
            let joined = Path::new("/out").join(&n);
            assert_eq!(joined.parent(), Some(Path::new("/out")), "{hostile}");
        }
    }

    #[test]
    fn uncommitted_output_leaves_nothing_and_existing_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.bin");
        {
            let mut f = AtomicFile::create(&target, false).unwrap();
            std::io::Write::write_all(f.file(), b"half").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        std::fs::write(&target, b"precious").unwrap();
        assert!(matches!(
            AtomicFile::create(&target, false),
            Err(Error::OutputExists { .. })
        ));
        let mut f = AtomicFile::create(&target, true).unwrap();
        std::io::Write::write_all(f.file(), b"new").unwrap();
        f.commit(true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}
