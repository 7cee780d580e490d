//! A read-only NTFS reader: the boot sector (also inside MBR/GPT partitions), every MFT file
//! record (fixups applied; extension records merged), paths from `$FILE_NAME` parents, sizes,
//! times, `$DATA` as cluster runs (resident bytes inline; sparse and compressed runs as kinds
//! of their own), deleted records with their last runs, the byte ranges of the file system's
//! own structures, and "is cluster N in use now" from `$Bitmap`.
//!
//! Parsing is the `ntfs` crate's (boot sector, attributes, data runs, `$FILE_NAME`); this
//! module checks each record's headers before the crate sees them. Everything here only ever
//! reads the image; damage is a [`Problem`], never a panic, an endless loop or an allocation
//! larger than the image.

pub mod attrs;
pub mod boot;
pub mod record;
pub mod runs;
pub mod shared;
pub mod volume;
pub mod walk;

pub use super::Problem;
pub use attrs::{Data, Times};
pub use boot::{Geometry, open_image};
pub use runs::{Run, RunKind};
pub use shared::NtfsVolume;
pub use volume::Volume;
pub use walk::{FileRec, Structure, Tree, walk};
