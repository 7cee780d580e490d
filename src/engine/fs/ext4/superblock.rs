//! The ext2/3/4 superblock: geometry, features, identity (UUID, label) and state, parsed and
//! sanity-checked so that nothing later sizes a buffer from an implausible field. Never writes.

use super::{le16, le32};

pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_DIR_INDEX: u32 = 0x20;
pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_RECOVER: u32 = 0x4;
pub const INCOMPAT_META_BG: u32 = 0x10;
pub const INCOMPAT_EXTENTS: u32 = 0x40;
pub const INCOMPAT_64BIT: u32 = 0x80;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
pub const INCOMPAT_INLINE_DATA: u32 = 0x8000;
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_BIGALLOC: u32 = 0x200;
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

const NAMES: &[(u8, u32, &str)] = &[
    (0, 0x1, "dir_prealloc"),
    (0, 0x4, "has_journal"),
    (0, 0x8, "ext_attr"),
    (0, 0x10, "resize_inode"),
    (0, 0x20, "dir_index"),
    (0, 0x200, "sparse_super2"),
    (1, 0x1, "compression"),
    (1, 0x2, "filetype"),
    (1, 0x4, "needs_recovery"),
    (1, 0x8, "journal_dev"),
    (1, 0x10, "meta_bg"),
    (1, 0x40, "extent"),
    (1, 0x80, "64bit"),
    (1, 0x100, "mmp"),
    (1, 0x200, "flex_bg"),
    (1, 0x400, "ea_inode"),
    (1, 0x1000, "dirdata"),
    (1, 0x2000, "metadata_csum_seed"),
    (1, 0x4000, "large_dir"),
    (1, 0x8000, "inline_data"),
    (1, 0x10000, "encrypt"),
    (1, 0x20000, "casefold"),
    (2, 0x1, "sparse_super"),
    (2, 0x2, "large_file"),
    (2, 0x8, "huge_file"),
    (2, 0x10, "uninit_bg"),
    (2, 0x20, "dir_nlink"),
    (2, 0x40, "extra_isize"),
    (2, 0x100, "quota"),
    (2, 0x200, "bigalloc"),
    (2, 0x400, "metadata_csum"),
    (2, 0x1000, "read-only"),
    (2, 0x2000, "project"),
    (2, 0x8000, "verity"),
];

#[derive(Clone, Debug)]
pub struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub block_size: u64,
    /// Blocks per allocation cluster (1 unless bigalloc).
    pub cluster_ratio: u64,
    pub blocks_per_group: u64,
    pub clusters_per_group: u64,
    pub inodes_per_group: u32,
    pub wtime: u32,
    pub state: u16,
    pub rev_level: u32,
    pub first_ino: u32,
    pub inode_size: u16,
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub uuid: [u8; 16],
    pub label: Vec<u8>,
    /// Bytes per group descriptor: 32, or `s_desc_size` with 64bit.
    pub desc_size: u64,
    pub first_meta_bg: u32,
}

impl Superblock {
    /// Parse the 1024 bytes at byte 1024 of the file system.
    pub fn parse(b: &[u8]) -> Result<Superblock, String> {
        if b.len() < 1024 {
            return Err("superblock is short".into());
        }
        if le16(b, 0x38) != 0xEF53 {
            return Err("no ext2/ext3/ext4 superblock (magic 0xEF53 missing)".into());
        }
        let log_bs = le32(b, 0x18);
        if log_bs > 6 {
            return Err(format!("block size 1024 << {log_bs} is not supported"));
        }
        let block_size = 1024u64 << log_bs;
        let incompat = le32(b, 0x60);
        let ro_compat = le32(b, 0x64);
        let is64 = incompat & INCOMPAT_64BIT != 0;
        let mut blocks_count = u64::from(le32(b, 0x04));
        if is64 {
            blocks_count |= u64::from(le32(b, 0x150)) << 32;
        }
        let log_cluster = le32(b, 0x1C);
        let cluster_ratio = if ro_compat & RO_COMPAT_BIGALLOC != 0 {
            if log_cluster < log_bs || log_cluster - log_bs > 16 {
                return Err(format!(
                    "bigalloc cluster size 1024 << {log_cluster} is implausible"
                ));
            }
            1u64 << (log_cluster - log_bs)
        } else {
            1
        };
        let blocks_per_group = u64::from(le32(b, 0x20));
        let clusters_per_group = if cluster_ratio > 1 {
            u64::from(le32(b, 0x24))
        } else {
            blocks_per_group
        };
        let inodes_per_group = le32(b, 0x28);
        let bits = block_size * 8;
        if clusters_per_group == 0 || clusters_per_group > bits {
            return Err(format!(
                "{clusters_per_group} blocks per group is implausible"
            ));
        }
        if blocks_per_group == 0 || blocks_per_group != clusters_per_group * cluster_ratio {
            return Err(format!(
                "{blocks_per_group} blocks per group is implausible"
            ));
        }
        if inodes_per_group == 0 || u64::from(inodes_per_group) > bits {
            return Err(format!(
                "{inodes_per_group} inodes per group is implausible"
            ));
        }
        let rev_level = le32(b, 0x4C);
        let (first_ino, inode_size) = if rev_level == 0 {
            (11, 128)
        } else {
            (le32(b, 0x54), le16(b, 0x58))
        };
        if inode_size < 128 || !inode_size.is_power_of_two() || u64::from(inode_size) > block_size {
            return Err(format!("inode size {inode_size} is implausible"));
        }
        let desc_size = if is64 { u64::from(le16(b, 0xFE)) } else { 32 };
        if is64 && (!(64..=1024).contains(&desc_size) || !desc_size.is_power_of_two()) {
            return Err(format!("group descriptor size {desc_size} is implausible"));
        }
        let first_data_block = u64::from(le32(b, 0x14));
        if blocks_count <= first_data_block {
            return Err(format!("{blocks_count} blocks is implausible"));
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&b[0x68..0x78]);
        let label: Vec<u8> = b[0x78..0x88]
            .iter()
            .copied()
            .take_while(|&c| c != 0)
            .collect();
        Ok(Superblock {
            inodes_count: le32(b, 0x00),
            blocks_count,
            first_data_block,
            block_size,
            cluster_ratio,
            blocks_per_group,
            clusters_per_group,
            inodes_per_group,
            wtime: le32(b, 0x30),
            state: le16(b, 0x3A),
            rev_level,
            first_ino,
            inode_size,
            compat: le32(b, 0x5C),
            incompat,
            ro_compat,
            uuid,
            label,
            desc_size,
            first_meta_bg: le32(b, 0x104),
        })
    }

    /// Number of block groups.
    pub fn groups(&self) -> u64 {
        (self.blocks_count - self.first_data_block).div_ceil(self.blocks_per_group)
    }

    pub fn uuid_string(&self) -> String {
        let h: String = self.uuid.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    pub fn label_string(&self) -> String {
        String::from_utf8_lossy(&self.label).into_owned()
    }

    /// Feature names, as `dumpe2fs` prints them (unknown bits as hex).
    pub fn features(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, word) in [self.compat, self.incompat, self.ro_compat]
            .into_iter()
            .enumerate()
        {
            for bit in 0..32 {
                let mask = 1u32 << bit;
                if word & mask == 0 {
                    continue;
                }
                match NAMES
                    .iter()
                    .find(|(w, m, _)| usize::from(*w) == i && *m == mask)
                {
                    Some((_, _, n)) => out.push((*n).to_string()),
                    None => out.push(format!(
                        "{}:{mask:#x}",
                        ["compat", "incompat", "ro_compat"][i]
                    )),
                }
            }
        }
        out
    }

    /// Cleanly unmounted and nothing waiting in the journal.
    pub fn clean(&self) -> bool {
        self.state & 1 != 0 && self.incompat & INCOMPAT_RECOVER == 0
    }

    pub fn has(&self, incompat: u32) -> bool {
        self.incompat & incompat != 0
    }

    pub fn has_ro(&self, ro: u32) -> bool {
        self.ro_compat & ro != 0
    }

    /// Whether group `g` carries a superblock backup (and so a descriptor table copy).
    pub fn has_super(&self, g: u64) -> bool {
        if !self.has_ro(RO_COMPAT_SPARSE_SUPER) || g <= 1 {
            return true;
        }
        [3u64, 5, 7].iter().any(|&base| {
            let mut p = base;
            while p < g {
                p *= base;
            }
            p == g
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Vec<u8> {
        let mut b = vec![0u8; 1024];
        b[0x38..0x3A].copy_from_slice(&0xEF53u16.to_le_bytes());
        b[0x04..0x08].copy_from_slice(&4096u32.to_le_bytes());
        b[0x18..0x1C].copy_from_slice(&2u32.to_le_bytes());
        b[0x20..0x24].copy_from_slice(&32768u32.to_le_bytes());
        b[0x28..0x2C].copy_from_slice(&1024u32.to_le_bytes());
        b[0x4C..0x50].copy_from_slice(&1u32.to_le_bytes());
        b[0x54..0x58].copy_from_slice(&11u32.to_le_bytes());
        b[0x58..0x5A].copy_from_slice(&256u16.to_le_bytes());
        b[0x68..0x78].copy_from_slice(&[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 1, 35, 69, 103, 137, 171, 205, 239,
        ]);
        b[0x78..0x7C].copy_from_slice(b"disk");
        b
    }

    #[test]
    fn parses_geometry_and_identity() {
        let sb = Superblock::parse(&raw()).unwrap();
        assert_eq!(sb.block_size, 4096);
        assert_eq!(sb.groups(), 1);
        assert_eq!(sb.uuid_string(), "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(sb.label_string(), "disk");
        assert_eq!(sb.desc_size, 32);
    }

    #[test]
    fn implausible_fields_are_refused() {
        for (off, val) in [
            (0x38usize, 0u32),
            (0x18, 7),
            (0x20, 0),
            (0x28, 0),
            (0x58, 100),
            (0x04, 0),
        ] {
            let mut b = raw();
            if off == 0x38 || off == 0x58 {
                b[off..off + 2].copy_from_slice(&(val as u16).to_le_bytes());
            } else {
                b[off..off + 4].copy_from_slice(&val.to_le_bytes());
            }
            assert!(Superblock::parse(&b).is_err(), "field {off:#x} = {val}");
        }
    }

    #[test]
    fn sparse_super_backup_groups() {
        let mut b = raw();
        b[0x64..0x68].copy_from_slice(&RO_COMPAT_SPARSE_SUPER.to_le_bytes());
        let sb = Superblock::parse(&b).unwrap();
        let with: Vec<u64> = (0..60).filter(|&g| sb.has_super(g)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49]);
    }
}
