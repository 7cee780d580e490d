//! Writing results safely: names from inside containers made harmless and short enough for
//! the file system, outputs written under a temporary `.part` name, flushed to the disk and
//! renamed only when complete, existing files never replaced unless the caller asked.

use super::job::Error;
use crate::format::metadata::shorten_name;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Name length assumed when the file system cannot be asked (Linux's NAME_MAX).
const DEFAULT_NAME_MAX: usize = 255;
/// Random characters in a temporary name, and what it adds to the name it is made from:
/// `NAME` + `.` + random + `.part`.
const TMP_RANDOM: usize = 6;
const TMP_EXTRA: usize = 1 + TMP_RANDOM + ".part".len();
/// Names tried after a race for a unique name before giving up.
const UNIQUE_TRIES: usize = 1000;

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

/// The longest file name (in bytes) the file system holding `dir` accepts.
pub fn name_max(dir: &Path) -> usize {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) {
            // SAFETY: `c` is a NUL-terminated path and `st` a plain struct statvfs fills in.
            let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
            if unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0 && st.f_namemax > 0 {
                return usize::try_from(st.f_namemax).map_or(DEFAULT_NAME_MAX, |n| n.min(4096));
            }
        }
    }
    let _ = dir;
    DEFAULT_NAME_MAX
}

/// `name` (already made safe) as it can be created in `dir`: unchanged when it fits the file
/// system's name length, else shortened at a character boundary keeping its extension; the
/// second value is a note saying so, for the job's report.
pub fn fit_name(dir: &Path, name: &str) -> (String, Option<String>) {
    let max = name_max(dir);
    if name.len() <= max {
        return (name.to_string(), None);
    }
    let short = shorten_name(name, max);
    let note = format!(
        "the name is {} bytes, longer than the {max} bytes this file system allows: written as \"{short}\"",
        name.len()
    );
    (short, Some(note))
}

/// The first `max` bytes of `name`, cut at a character boundary when it is UTF-8.
fn cut_os(name: &OsStr, max: usize) -> OsString {
    if let Some(s) = name.to_str() {
        let mut n = max.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        return OsString::from(&s[..n]);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let b = name.as_bytes();
        OsString::from_vec(b[..max.min(b.len())].to_vec())
    }
    #[cfg(not(unix))]
    {
        let lossy = name.to_string_lossy();
        cut_os(OsStr::new(lossy.as_ref()), max)
    }
}

/// `target`, or `stem (1).ext`, `stem (2).ext`, … beside it, whichever does not exist yet: a
/// new output never replaces a file that is there. The stem is shortened where the number
/// would make the name too long for the file system. Names need not be UTF-8.
pub fn unique_path(target: &Path) -> PathBuf {
    if target.symlink_metadata().is_err() {
        return target.to_path_buf();
    }
    let max = name_max(target.parent().unwrap_or(Path::new(".")));
    let stem = target.file_stem().unwrap_or_default().to_os_string();
    let ext = target.extension().map(|e| e.to_os_string());
    (1u64..)
        .map(|n| {
            let number = format!(" ({n})");
            let tail = ext.as_ref().map_or(0, |e| 1 + e.len());
            let mut name = cut_os(&stem, max.saturating_sub(number.len() + tail));
            name.push(number);
            if let Some(e) = &ext {
                name.push(".");
                name.push(e);
            }
            target.with_file_name(name)
        })
        .find(|p| p.symlink_metadata().is_err())
        .expect("a free name")
}

/// The name an incomplete file is saved under, so nobody takes it for the whole file:
/// `photo.jpg` → `photo (incomplete).jpg` (shortened to fit the file system's limit, keeping
/// the extension, like every output name).
pub fn incomplete_name(target: &Path) -> PathBuf {
    const MARK: &str = " (incomplete)";
    let max = name_max(target.parent().unwrap_or(Path::new(".")));
    let stem = target.file_stem().unwrap_or_default().to_os_string();
    let ext = target.extension().map(|e| e.to_os_string());
    let tail = ext.as_ref().map_or(0, |e| 1 + e.len());
    let mut name = cut_os(&stem, max.saturating_sub(MARK.len() + tail));
    name.push(MARK);
    if let Some(e) = &ext {
        name.push(".");
        name.push(e);
    }
    target.with_file_name(name)
}

/// A file being written under a temporary name beside its final path. Dropping it without
/// [`AtomicFile::commit`] removes the temporary file, so a failed or cancelled job leaves
/// nothing behind.
pub struct AtomicFile {
    tmp: NamedTempFile,
    target: PathBuf,
    /// Made by [`AtomicFile::create_unique`]: a name taken meanwhile means the next one.
    unique: bool,
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
        // The temporary name is longer than the target's: cut it so it fits the file system
        // even when the target's name takes all the room there is.
        let room = name_max(dir).saturating_sub(TMP_EXTRA);
        let mut prefix = cut_os(target.file_name().unwrap_or_default(), room);
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        // A finished output gets the usual permissions (umask applies), not a temp file's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let tmp = builder
            .prefix(&prefix)
            .rand_bytes(TMP_RANDOM)
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(Error::write(target))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            unique: false,
        })
    }

    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Create a file that will take `target`'s name, or the next free `name (n).ext` when it
    /// is taken: now, and again at commit, since another job (a second recovery into the
    /// same folder) may take the chosen name meanwhile.
    pub fn create_unique(target: &Path) -> Result<AtomicFile, Error> {
        let mut f = AtomicFile::create(&unique_path(target), true)?;
        f.unique = true;
        Ok(f)
    }

    /// Give the file another final name in the same folder (a decode kept incomplete is
    /// saved as `NAME (incomplete).ext`); with `unique` the next free `name (n).ext` is taken
    /// when that one exists, now and at commit.
    pub fn retarget(&mut self, target: &Path, unique: bool) {
        self.target = if unique {
            unique_path(target)
        } else {
            target.to_path_buf()
        };
        self.unique = unique;
    }

    /// Move the finished file to its final name, durably: the data is flushed to the disk
    /// before the rename and the folder after it, so a power cut never leaves the final name
    /// with partial content. Returns the final path. Without `overwrite` the rename never
    /// replaces a file: it fails with [`Error::OutputExists`] when one appeared meanwhile, or
    /// takes the next free name for a file made by [`AtomicFile::create_unique`].
    pub fn commit(self, overwrite: bool) -> Result<PathBuf, Error> {
        let AtomicFile {
            mut tmp,
            mut target,
            unique,
        } = self;
        tmp.as_file().sync_all().map_err(Error::write(&target))?;
        if overwrite {
            return match tmp.persist(&target) {
                Ok(_) => sync_parent(&target).map(|_| target),
                Err(e) => Err(Error::Write {
                    path: target,
                    source: e.error,
                }),
            };
        }
        for _ in 0..UNIQUE_TRIES {
            match tmp.persist_noclobber(&target) {
                Ok(_) => return sync_parent(&target).map(|_| target),
                Err(e) if e.error.kind() == ErrorKind::AlreadyExists && unique => {
                    tmp = e.file;
                    target = unique_path(&target);
                }
                Err(e) if e.error.kind() == ErrorKind::AlreadyExists => break,
                Err(e) => {
                    return Err(Error::Write {
                        path: target,
                        source: e.error,
                    });
                }
            }
        }
        Err(Error::OutputExists { path: target })
    }
}

/// Flush the folder holding `path`, so a rename into it survives a power cut. File systems
/// that cannot flush a folder say so with EINVAL; that is no reason to fail.
fn sync_parent(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        let synced = File::open(dir).and_then(|d| d.sync_all());
        match synced {
            Err(e) if e.kind() != ErrorKind::InvalidInput && e.kind() != ErrorKind::Unsupported => {
                return Err(Error::Write {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
            _ => {}
        }
    }
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incomplete_file_says_so_in_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            incomplete_name(&d.join("photo.jpg")),
            d.join("photo (incomplete).jpg")
        );
        assert_eq!(
            incomplete_name(&d.join("notes")),
            d.join("notes (incomplete)")
        );
        // A name that already takes all the room keeps its extension and fits.
        let long = format!("{}.jpeg", "é".repeat(125));
        let cut = incomplete_name(&d.join(&long));
        let name = cut.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= name_max(d), "{}", name.len());
        assert!(name.ends_with("é (incomplete).jpeg"), "{name}");
        // Taken names go on to the next free one at commit.
        std::fs::write(d.join("a (incomplete).bin"), b"old").unwrap();
        let mut f = AtomicFile::create_unique(&d.join("a.bin")).unwrap();
        std::io::Write::write_all(f.file(), b"new").unwrap();
        f.retarget(&incomplete_name(&d.join("a.bin")), true);
        let done = f.commit(false).unwrap();
        assert_eq!(done, d.join("a (incomplete) (1).bin"));
        assert_eq!(std::fs::read(d.join("a (incomplete).bin")).unwrap(), b"old");
        assert_eq!(std::fs::read(&done).unwrap(), b"new");
        assert!(!d.join("a.bin").exists());
    }

    #[test]
    fn unique_names_keep_the_extension() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("a.txt");
        assert_eq!(unique_path(&t), t);
        std::fs::write(&t, b"x").unwrap();
        assert_eq!(unique_path(&t), d.path().join("a (1).txt"));
        assert_eq!(incomplete_name(&t), d.path().join("a (incomplete).txt"));
        assert_eq!(
            incomplete_name(&d.path().join("notes")),
            d.path().join("notes (incomplete)")
        );
    }

    #[test]
    fn names_at_the_limit_get_temporary_and_numbered_names_that_fit() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(name_max(d.path()), 255, "tmpfs and ext4 take 255 bytes");
        let name = format!("{}.txt", "é".repeat(125)); // 254 bytes
        let t = d.path().join(&name);
        let mut f = AtomicFile::create(&t, false).unwrap();
        let tmp_name = f.tmp.path().file_name().unwrap().len();
        assert!(tmp_name <= 255, "temporary name of {tmp_name} bytes");
        std::io::Write::write_all(f.file(), b"one").unwrap();
        assert_eq!(f.commit(false).unwrap(), t);
        let next = unique_path(&t);
        let next_name = next.file_name().unwrap().to_str().unwrap();
        assert!(next_name.len() <= 255, "{next_name}");
        assert!(next_name.ends_with("é (1).txt"), "{next_name}");
        let (fitted, note) = fit_name(d.path(), &format!("{}.txt", "é".repeat(200)));
        assert_eq!(fitted, format!("{}.txt", "é".repeat(125)));
        assert!(note.unwrap().contains("404 bytes"));
        assert_eq!(fit_name(d.path(), &name), (name.clone(), None));
    }

    #[test]
    fn a_unique_commit_takes_the_next_name_when_another_job_took_this_one() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("x.bin");
        let mut a = AtomicFile::create_unique(&t).unwrap();
        let mut b = AtomicFile::create_unique(&t).unwrap();
        assert_eq!((a.target(), b.target()), (t.as_path(), t.as_path()));
        std::io::Write::write_all(a.file(), b"a").unwrap();
        std::io::Write::write_all(b.file(), b"b").unwrap();
        assert_eq!(a.commit(false).unwrap(), t);
        assert_eq!(b.commit(false).unwrap(), d.path().join("x (1).bin"));
        assert_eq!(std::fs::read(&t).unwrap(), b"a");
        assert_eq!(std::fs::read(d.path().join("x (1).bin")).unwrap(), b"b");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            2,
            "no .part left"
        );
        // A plain file still refuses to take a name that appeared meanwhile.
        let mut c = AtomicFile::create(&d.path().join("y"), false).unwrap();
        std::fs::write(d.path().join("y"), b"other").unwrap();
        std::io::Write::write_all(c.file(), b"c").unwrap();
        assert!(matches!(c.commit(false), Err(Error::OutputExists { .. })));
        assert_eq!(std::fs::read(d.path().join("y")).unwrap(), b"other");
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            3,
            "no .part left"
        );
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
