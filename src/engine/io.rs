//! Small file helpers shared by the jobs.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Read until `buf` is full or the end of the file; returns the bytes read.
pub fn read_full(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The name part of a path, as UTF-8 (lossy).
pub fn file_name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where SeqBox keeps what it writes about a device (nothing is ever written under /dev):
/// `$XDG_DATA_HOME/seqbox`, or `~/.local/share/seqbox`.
pub fn data_folder() -> PathBuf {
    let home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|h| h.is_absolute())
            .unwrap_or_else(|| PathBuf::from("/"))
    };
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| home().join(".local/share"))
        .join("seqbox")
}

/// Whether the file at `p` starts with an SBX block header (the signature and a version we
/// know): how a container is recognised without its `.sbx` name, as the desktop's MIME type
/// does. One 16-byte read. A password-protected container hides its header, so only its name
/// tells.
pub fn starts_with_sbx_block(p: &Path) -> bool {
    let mut head = [0u8; crate::format::version::HEADER_SIZE];
    File::open(p)
        .and_then(|mut f| read_full(&mut f, &mut head))
        .is_ok_and(|n| n == head.len() && crate::format::block::parse_header(&head).is_some())
}

/// Whether `p` names a device node (by its name alone: this does no I/O).
pub fn is_device_path(p: &Path) -> bool {
    p.starts_with("/dev")
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_snapshot_is_kept_in_the_data_folder_not_under_dev() {
        use crate::engine::ext4::owners::default_snapshot_path;
        assert_eq!(
            default_snapshot_path(Path::new("/dev/sdb1")),
            data_folder().join("snapshots/sdb1.snapshot.sqlite")
        );
        assert_eq!(
            default_snapshot_path(Path::new("/img/card.img")),
            Path::new("/img/card.img.snapshot.sqlite")
        );
        assert!(!data_folder().starts_with("/dev"));
    }
}
