//! An opened file system: the superblock, the group descriptors (32 and 64-bit, meta_bg),
//! blocks and inodes by number, and the bitmaps (is a block or an inode in use now?).
//! Never writes.

use super::image::Image;
use super::inode::Inode;
use super::superblock::{INCOMPAT_META_BG, Superblock};
use super::{Problem, le16, le32};
use crate::engine::job::Error;
use std::collections::HashMap;
use std::io;

/// Where a group's bitmaps and inode table are (`None` when its descriptor is damaged).
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub flags: u16,
}

pub const BG_INODE_UNINIT: u16 = 0x1;
pub const BG_BLOCK_UNINIT: u16 = 0x2;

#[derive(Debug)]
pub struct Fs {
    pub image: Image,
    pub sb: Superblock,
    groups: Vec<Option<Group>>,
    /// Problems met while opening (damaged group descriptors).
    pub problems: Vec<Problem>,
}

/// Root directory inode.
pub const ROOT_INO: u32 = 2;

impl Fs {
    /// Read the superblock and the group descriptors. A damaged descriptor is a problem
    /// (its group's inodes cannot be read), not an error.
    pub fn open(image: Image) -> Result<Fs, Error> {
        let mut raw = vec![0u8; 1024];
        image
            .read_exact_at(1024, &mut raw)
            .map_err(Error::read(image.path()))?;
        let sb = Superblock::parse(&raw)
            .map_err(|e| Error::Invalid(format!("{}: {e}", image.path().display())))?;
        let groups = sb.groups();
        // Descriptors must fit in the image: a hostile block count cannot make us allocate.
        if groups.saturating_mul(sb.desc_size) > image.len() {
            return Err(Error::Invalid(format!(
                "{}: the superblock claims {groups} block groups, more than the image can hold",
                image.path().display()
            )));
        }
        let mut fs = Fs {
            image,
            sb,
            groups: Vec::with_capacity(groups as usize),
            problems: Vec::new(),
        };
        let bs = fs.sb.block_size;
        let mut block = vec![0u8; bs as usize];
        let mut loaded = u64::MAX;
        for g in 0..groups {
            let pos = fs.descriptor_pos(g);
            let (blk, within) = (pos / bs, (pos % bs) as usize);
            if blk != loaded {
                if let Err(e) = fs.image.read_exact_at(blk * bs, &mut block) {
                    fs.problems.push(Problem::new(
                        0,
                        format!("group descriptor block unreadable: {e}"),
                        format!("block {blk}"),
                    ));
                    block.fill(0);
                }
                loaded = blk;
            }
            let d = &block[within..within + fs.sb.desc_size as usize];
            let group = fs.parse_descriptor(d);
            let ok = [group.block_bitmap, group.inode_bitmap, group.inode_table]
                .iter()
                .all(|&b| b > 0 && b < fs.sb.blocks_count);
            if !ok {
                fs.problems.push(Problem::new(
                    0,
                    "group descriptor points outside the file system; its inodes are skipped",
                    format!("group {g}"),
                ));
            }
            fs.groups.push(ok.then_some(group));
        }
        Ok(fs)
    }

    fn descriptor_pos(&self, g: u64) -> u64 {
        let bs = self.sb.block_size;
        let ds = self.sb.desc_size;
        let per_block = bs / ds;
        let table = 1024 / bs + 1;
        let meta = g / per_block;
        if self.sb.has(INCOMPAT_META_BG) && meta >= u64::from(self.sb.first_meta_bg) {
            let first = meta * per_block;
            let start = self.sb.first_data_block
                + first * self.sb.blocks_per_group
                + u64::from(self.sb.has_super(first));
            start * bs + (g % per_block) * ds
        } else {
            table * bs + g * ds
        }
    }

    fn parse_descriptor(&self, d: &[u8]) -> Group {
        let wide = self.sb.desc_size >= 64;
        let hi = |off: usize| {
            if wide {
                u64::from(le32(d, off)) << 32
            } else {
                0
            }
        };
        Group {
            block_bitmap: u64::from(le32(d, 0x00)) | hi(0x20),
            inode_bitmap: u64::from(le32(d, 0x04)) | hi(0x24),
            inode_table: u64::from(le32(d, 0x08)) | hi(0x28),
            flags: le16(d, 0x12),
        }
    }

    pub fn block_size(&self) -> u64 {
        self.sb.block_size
    }

    pub fn group(&self, g: u64) -> Option<Group> {
        self.groups.get(g as usize).copied().flatten()
    }

    /// Read `buf.len()` bytes starting at block `block` (which must lie inside the file
    /// system).
    pub fn read_blocks(&self, block: u64, buf: &mut [u8]) -> io::Result<()> {
        let bs = self.sb.block_size;
        let count = (buf.len() as u64).div_ceil(bs);
        if block
            .checked_add(count)
            .is_none_or(|end| end > self.sb.blocks_count)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("block {block} is outside the file system"),
            ));
        }
        self.image.read_exact_at(block * bs, buf)
    }

    /// The inode `ino`, whatever its state (in use, deleted or never used).
    pub fn inode(&self, ino: u32) -> Result<Inode, String> {
        if ino == 0 || ino > self.sb.inodes_count {
            return Err(format!("inode number {ino} is out of range"));
        }
        let ipg = u64::from(self.sb.inodes_per_group);
        let g = u64::from(ino - 1) / ipg;
        let idx = u64::from(ino - 1) % ipg;
        let group = self
            .group(g)
            .ok_or_else(|| format!("group {g} of inode {ino} has a damaged descriptor"))?;
        let isz = u64::from(self.sb.inode_size);
        let pos = group.inode_table * self.sb.block_size + idx * isz;
        if pos + isz > self.sb.blocks_count * self.sb.block_size {
            return Err(format!("inode {ino} lies outside the file system"));
        }
        let mut raw = vec![0u8; isz as usize];
        self.image
            .read_exact_at(pos, &mut raw)
            .map_err(|e| format!("inode {ino} unreadable: {e}"))?;
        Ok(Inode::parse(ino, &raw))
    }

    /// Whether inode `ino` is marked in use in its bitmap (`None` if that cannot be read).
    pub fn inode_in_use(&self, ino: u32, cache: &mut BitmapCache) -> Option<bool> {
        if ino == 0 || ino > self.sb.inodes_count {
            return None;
        }
        let ipg = u64::from(self.sb.inodes_per_group);
        let g = u64::from(ino - 1) / ipg;
        let group = self.group(g)?;
        if group.flags & BG_INODE_UNINIT != 0 {
            return Some(false);
        }
        let bit = u64::from(ino - 1) % ipg;
        cache.bit(self, group.inode_bitmap, bit)
    }

    /// Whether block `block` is allocated now, by the block bitmap (`None` if unknown).
    pub fn block_in_use(&self, block: u64, cache: &mut BitmapCache) -> Option<bool> {
        if block < self.sb.first_data_block || block >= self.sb.blocks_count {
            return None;
        }
        let rel = block - self.sb.first_data_block;
        let g = rel / self.sb.blocks_per_group;
        let group = self.group(g)?;
        if group.flags & BG_BLOCK_UNINIT != 0 {
            // Only the group's own metadata would be in use; data blocks are free.
            return Some(false);
        }
        let bit = (rel % self.sb.blocks_per_group) / self.sb.cluster_ratio;
        cache.bit(self, group.block_bitmap, bit)
    }
}

/// Bitmap blocks read so far (one block per group and kind), so lookups cost one read each.
#[derive(Default, Debug)]
pub struct BitmapCache {
    blocks: HashMap<u64, Option<Vec<u8>>>,
}

impl BitmapCache {
    fn bit(&mut self, fs: &Fs, block: u64, bit: u64) -> Option<bool> {
        let data = self.blocks.entry(block).or_insert_with(|| {
            let mut b = vec![0u8; fs.sb.block_size as usize];
            fs.read_blocks(block, &mut b).ok().map(|_| b)
        });
        let byte = data.as_ref()?.get((bit / 8) as usize)?;
        Some(byte & (1 << (bit % 8)) != 0)
    }
}
