//! Where a file's bytes are: extent trees of any depth (capped at 5, every header checked,
//! loops detected) and the old ext2/ext3 block maps (direct, single, double and triple
//! indirect), both turned into runs of logical → physical blocks. Gaps are holes; unwritten
//! extents read as zeros. Never writes.

use super::fs::Fs;
use super::inode::Inode;
use super::{Problem, le16, le32};
use std::collections::HashSet;

/// A run of a file's blocks: logical blocks `logical..logical+len` at physical
/// `physical..physical+len`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Run {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    /// Preallocated, never written: reads as zeros whatever the disk holds.
    pub unwritten: bool,
}

/// A file's runs (sorted by logical block, no overlaps, cut at the file's size) and the
/// blocks holding its mapping (extent index/leaf blocks, indirect blocks).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    pub runs: Vec<Run>,
    pub meta: Vec<u64>,
}

const EXTENT_MAGIC: u16 = 0xF30A;
const MAX_DEPTH: u16 = 5;
/// Longest written extent; longer `ee_len` values mark unwritten extents.
const MAX_INIT_LEN: u16 = 32768;

/// Map `inode`'s blocks. Damaged parts are reported in `problems` and left out (they read
/// as holes), never fatal.
pub fn map(fs: &Fs, inode: &Inode, problems: &mut Vec<Problem>) -> Mapping {
    let mut m = Mapping::default();
    if inode.is_inline() {
        return m;
    }
    let bs = fs.block_size();
    let nblocks = inode.size.div_ceil(bs);
    let mut w = Walker {
        fs,
        ino: inode.ino,
        nblocks,
        visited: HashSet::new(),
        m: &mut m,
        problems,
    };
    if inode.has_extents() {
        w.extent_node(&inode.block, None, MAX_DEPTH + 1, 0);
    } else {
        w.block_map(&inode.block);
    }
    finish(&mut m, inode.ino, problems);
    m
}

struct Walker<'a> {
    fs: &'a Fs,
    ino: u32,
    nblocks: u64,
    visited: HashSet<u64>,
    m: &'a mut Mapping,
    problems: &'a mut Vec<Problem>,
}

impl Walker<'_> {
    fn problem(&mut self, what: impl Into<String>, place: impl Into<String>) {
        self.problems
            .push(Problem::new(u64::from(self.ino), what, place));
    }

    /// A block number that may be read: inside the file system and not seen before.
    fn fresh_block(&mut self, b: u64, what: &str) -> bool {
        if b < self.fs.sb.first_data_block || b >= self.fs.sb.blocks_count {
            self.problem(
                format!("{what} points outside the file system"),
                format!("block {b}"),
            );
            return false;
        }
        if !self.visited.insert(b) {
            self.problem(
                format!("{what} is referenced twice (a loop)"),
                format!("block {b}"),
            );
            return false;
        }
        true
    }

    fn read(&mut self, b: u64, what: &str) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; self.fs.block_size() as usize];
        match self.fs.read_blocks(b, &mut buf) {
            Ok(()) => Some(buf),
            Err(e) => {
                self.problem(format!("{what} unreadable: {e}"), format!("block {b}"));
                None
            }
        }
    }

    fn push(&mut self, logical: u64, physical: u64, len: u64, unwritten: bool) {
        if len == 0 || logical >= self.nblocks {
            return; // past the end of the file (preallocated space), not file data
        }
        let len = len.min(self.nblocks - logical);
        let limit = self.fs.sb.blocks_count;
        if physical < self.fs.sb.first_data_block
            || physical.checked_add(len).is_none_or(|e| e > limit)
        {
            self.problem(
                "extent points outside the file system",
                format!("logical {logical}, physical {physical}, {len} blocks"),
            );
            return;
        }
        if let Some(last) = self.m.runs.last_mut()
            && last.unwritten == unwritten
            && last.logical + last.len == logical
            && last.physical + last.len == physical
        {
            last.len += len;
            return;
        }
        self.m.runs.push(Run {
            logical,
            physical,
            len,
            unwritten,
        });
    }

    /// One extent-tree node. `expect` is the depth its parent implies (`MAX_DEPTH + 1` for
    /// the root, whose own header is trusted up to the cap).
    fn extent_node(&mut self, node: &[u8], at: Option<u64>, expect: u16, level: u16) {
        let place = || {
            at.map_or("extent root in the inode".into(), |b| {
                format!("extent block {b}")
            })
        };
        if node.len() < 12 || le16(node, 0) != EXTENT_MAGIC {
            self.problem("extent header has a bad magic number", place());
            return;
        }
        let entries = usize::from(le16(node, 2));
        let max = usize::from(le16(node, 4));
        let depth = le16(node, 6);
        let capacity = (node.len() - 12) / 12;
        if max > capacity || entries > max {
            self.problem(
                format!("extent header claims {entries} of {max} entries (room for {capacity})"),
                place(),
            );
            return;
        }
        if depth > MAX_DEPTH || (expect <= MAX_DEPTH && depth != expect) || level > MAX_DEPTH {
            self.problem(format!("extent tree depth {depth} is implausible"), place());
            return;
        }
        for i in 0..entries {
            let e = &node[12 + 12 * i..24 + 12 * i];
            let first = u64::from(le32(e, 0));
            if depth == 0 {
                let raw_len = le16(e, 4);
                let (len, unwritten) = if raw_len > MAX_INIT_LEN {
                    (raw_len - MAX_INIT_LEN, true)
                } else {
                    (raw_len, false)
                };
                let phys = (u64::from(le16(e, 6)) << 32) | u64::from(le32(e, 8));
                self.push(first, phys, u64::from(len), unwritten);
            } else {
                if first >= self.nblocks {
                    continue; // an index beyond the file's size covers no file data
                }
                let child = u64::from(le32(e, 4)) | (u64::from(le16(e, 8)) << 32);
                if !self.fresh_block(child, "extent index") {
                    continue;
                }
                self.m.meta.push(child);
                if let Some(buf) = self.read(child, "extent block") {
                    self.extent_node(&buf, Some(child), depth - 1, level + 1);
                }
            }
        }
    }

    /// The 15 pointers of an ext2/ext3 block map.
    fn block_map(&mut self, i_block: &[u8; 60]) {
        let per = self.fs.block_size() / 4;
        for i in 0..12u64 {
            let b = u64::from(le32(i_block, 4 * i as usize));
            if b != 0 {
                self.push(i, b, 1, false);
            }
        }
        let mut start = 12u64;
        let mut span = 1u64;
        for (level, slot) in [(1u32, 12usize), (2, 13), (3, 14)] {
            span = span.saturating_mul(per);
            let b = u64::from(le32(i_block, 4 * slot));
            if b != 0 {
                self.indirect(b, level, start);
            }
            start = start.saturating_add(span);
        }
    }

    /// An indirect block at `level` (1 = its pointers are data blocks) whose first pointer
    /// maps logical block `start`. Zero pointers are holes: their positions are kept.
    fn indirect(&mut self, b: u64, level: u32, start: u64) {
        if start >= self.nblocks || !self.fresh_block(b, "indirect block") {
            return;
        }
        self.m.meta.push(b);
        let Some(buf) = self.read(b, "indirect block") else {
            return;
        };
        let per = self.fs.block_size() / 4;
        let span = per.saturating_pow(level - 1);
        for i in 0..per {
            let p = u64::from(le32(&buf, 4 * i as usize));
            let logical = start.saturating_add(i.saturating_mul(span));
            if logical >= self.nblocks {
                break;
            }
            if p == 0 {
                continue;
            }
            if level == 1 {
                self.push(logical, p, 1, false);
            } else {
                self.indirect(p, level - 1, logical);
            }
        }
    }
}

/// Sort runs by logical block and drop any that overlap an earlier one.
fn finish(m: &mut Mapping, ino: u32, problems: &mut Vec<Problem>) {
    m.runs.sort_by_key(|r| r.logical);
    let mut kept: Vec<Run> = Vec::with_capacity(m.runs.len());
    for r in m.runs.drain(..) {
        if let Some(last) = kept.last()
            && r.logical < last.logical + last.len
        {
            problems.push(Problem::new(
                u64::from(ino),
                "extents overlap; the later one is skipped",
                format!("logical block {}", r.logical),
            ));
            continue;
        }
        kept.push(r);
    }
    m.runs = kept;
}

/// The whole content of a regular file as the file system gives it now (holes and unwritten
/// runs as zeros, inline data included). For files up to `limit` bytes; used to check the
/// reader and to show small files.
pub fn read_file(
    fs: &Fs,
    inode: &Inode,
    limit: u64,
    problems: &mut Vec<Problem>,
) -> Result<Vec<u8>, String> {
    if inode.size > limit {
        return Err(format!(
            "{} bytes is more than the {limit} allowed",
            inode.size
        ));
    }
    let mut out = vec![0u8; inode.size as usize];
    if inode.is_inline() {
        let d = inode.inline_data();
        out[..d.len()].copy_from_slice(&d);
        return Ok(out);
    }
    let bs = fs.block_size();
    for r in map(fs, inode, problems)
        .runs
        .iter()
        .filter(|r| !r.unwritten)
    {
        let start = (r.logical * bs) as usize;
        let end = (((r.logical + r.len) * bs) as usize).min(out.len());
        let mut buf = vec![0u8; (r.len * bs) as usize];
        fs.read_blocks(r.physical, &mut buf)
            .map_err(|e| e.to_string())?;
        out[start..end].copy_from_slice(&buf[..end - start]);
    }
    Ok(out)
}
