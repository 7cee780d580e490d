//! Directory entries: linear dirent blocks (also the leaves of htree directories, whose index
//! blocks look like one unused entry spanning the block and so are skipped) and inline
//! directories. Names are raw bytes. Never writes.

use super::fs::Fs;
use super::inode::Inode;
use super::mapping;
use super::superblock::INCOMPAT_FILETYPE;
use super::{Problem, le16, le32};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u32,
    pub name: Vec<u8>,
    /// The entry's file-type byte (0 when the file system has no `filetype` feature).
    pub ftype: u8,
}

/// Decode a `rec_len` (64 KiB blocks store 65536 as 0 or 65535).
fn rec_len(raw: u16, block_len: usize) -> usize {
    if block_len >= 65536 && (raw == 0 || raw == 65535) {
        65536
    } else {
        usize::from(raw & 0xFFFC) | (usize::from(raw & 3) << 16)
    }
}

/// Parse the entries of one directory block (or inline region), skipping unused entries and
/// `.`/`..`. Stops at the first malformed entry and says what was wrong.
pub fn parse_block(b: &[u8], filetype: bool, out: &mut Vec<DirEntry>) -> Result<(), String> {
    let mut pos = 0;
    while pos + 8 <= b.len() {
        let ino = le32(b, pos);
        let len = rec_len(le16(b, pos + 4), b.len());
        let (name_len, ftype) = if filetype {
            (usize::from(b[pos + 6]), b[pos + 7])
        } else {
            (usize::from(le16(b, pos + 6)), 0)
        };
        if len < 8 || len % 4 != 0 || pos + len > b.len() {
            return Err(format!("entry at byte {pos} has a bad length {len}"));
        }
        if ino != 0 {
            if 8 + name_len > len {
                return Err(format!("entry at byte {pos} has a name longer than itself"));
            }
            let name = &b[pos + 8..pos + 8 + name_len];
            if name.is_empty() {
                return Err(format!("entry at byte {pos} has an empty name"));
            }
            if name != b"." && name != b".." {
                out.push(DirEntry {
                    ino,
                    name: name.to_vec(),
                    ftype,
                });
            }
        }
        pos += len;
    }
    Ok(())
}

/// Every entry of directory `dir`. Damaged blocks are reported and skipped.
pub fn read_dir(fs: &Fs, dir: &Inode, problems: &mut Vec<Problem>) -> Vec<DirEntry> {
    let filetype = fs.sb.has(INCOMPAT_FILETYPE);
    let mut out = Vec::new();
    let ino = u64::from(dir.ino);
    if dir.is_inline() {
        // i_block: the parent's inode number, then entries; the rest in system.data.
        let data = dir.inline_data();
        for (region, what) in [
            (&data[4..60.min(data.len())], "inline directory"),
            (
                data.get(60..).unwrap_or(&[]),
                "inline directory (system.data)",
            ),
        ] {
            if let Err(e) = parse_block(region, filetype, &mut out) {
                problems.push(Problem::new(ino, e, what));
            }
        }
        return out;
    }
    let m = mapping::map(fs, dir, problems);
    let bs = fs.block_size() as usize;
    let mut buf = vec![0u8; bs];
    for run in m.runs.iter().filter(|r| !r.unwritten) {
        for i in 0..run.len {
            let b = run.physical + i;
            if let Err(e) = fs.read_blocks(b, &mut buf) {
                problems.push(Problem::new(
                    ino,
                    format!("directory block unreadable: {e}"),
                    format!("block {b}"),
                ));
                continue;
            }
            if let Err(e) = parse_block(&buf, filetype, &mut out) {
                problems.push(Problem::new(
                    ino,
                    format!("directory block damaged: {e}"),
                    format!("block {b}"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ino: u32, len: u16, name: &[u8], ft: u8) -> Vec<u8> {
        let mut e = vec![0u8; usize::from(len).max(8 + name.len())];
        e[0..4].copy_from_slice(&ino.to_le_bytes());
        e[4..6].copy_from_slice(&len.to_le_bytes());
        e[6] = name.len() as u8;
        e[7] = ft;
        e[8..8 + name.len()].copy_from_slice(name);
        e
    }

    #[test]
    fn linear_block_with_dots_unused_entries_and_raw_names() {
        let mut b = entry(2, 12, b".", 2);
        b.extend(entry(2, 12, b"..", 2));
        b.extend(entry(0, 16, b"gone", 1));
        b.extend(entry(12, 16, b"caf\xe9", 1));
        b.extend(entry(13, 1024 - 56, b"sub", 2));
        let mut out = Vec::new();
        parse_block(&b, true, &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                DirEntry {
                    ino: 12,
                    name: b"caf\xe9".to_vec(),
                    ftype: 1
                },
                DirEntry {
                    ino: 13,
                    name: b"sub".to_vec(),
                    ftype: 2
                },
            ]
        );
    }

    #[test]
    fn htree_index_blocks_and_csum_tails_list_nothing() {
        // dx_root: "." (12) and ".." spanning the rest, index data inside.
        let mut root = entry(2, 12, b".", 2);
        root.extend(entry(2, 4096 - 12, b"..", 2));
        root[40..48].copy_from_slice(&[0xAA; 8]);
        let mut out = Vec::new();
        parse_block(&root, true, &mut out).unwrap();
        // dx_node: one unused entry spanning the block.
        let mut node = entry(0, 0, b"", 0);
        node.resize(4096, 0x55);
        node[4..6].copy_from_slice(&4096u16.to_le_bytes());
        parse_block(&node, true, &mut out).unwrap();
        // metadata_csum tail: inode 0, rec_len 12, type 0xDE.
        let mut leaf = entry(20, 4096 - 12, b"x", 1);
        leaf.extend(entry(0, 12, b"", 0xDE));
        parse_block(&leaf, true, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, b"x");
    }

    #[test]
    fn malformed_entries_stop_the_block_without_panic() {
        let mut out = Vec::new();
        let mut b = entry(12, 12, b"abcdefgh", 1);
        b[6] = 200; // name longer than the entry
        b.resize(1024, 0);
        assert!(parse_block(&b, true, &mut out).is_err());
        let mut z = vec![0u8; 1024];
        z[0] = 1; // rec_len 0
        assert!(parse_block(&z, true, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn rec_len_of_64k_blocks() {
        assert_eq!(rec_len(0, 65536), 65536);
        assert_eq!(rec_len(65535, 65536), 65536);
        assert_eq!(rec_len(12, 65536), 12);
        assert_eq!(rec_len(4096, 4096), 4096);
    }
}
