//! The SBX container format, pure: bytes in, bytes out, no I/O.
//!
//! Byte compatibility with the original SeqBox (versions 1–3) and blkar (17–19) lives here
//! and is tested against the vectors those tools made.

pub mod block;
pub mod crc16;
pub mod gf256;
pub mod hash;
pub mod metadata;
pub mod password;
pub mod rs;
mod rs_codec;
pub mod rs_matrix;
pub mod version;

pub use block::{BlockState, Header, Uid};
pub use hash::{HashKind, StoredHash};
pub use metadata::Metadata;
pub use version::Version;
