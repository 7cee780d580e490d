//! The project's own GF(2^8) kernels and CRC-16, compiled as they are for another processor:
//! the same source files as the main crate, nothing copied.

#[path = "../../../src/format/gf256.rs"]
pub mod gf256;

#[path = "../../../src/format/crc16.rs"]
pub mod crc16;
