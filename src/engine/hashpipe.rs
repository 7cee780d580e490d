//! A hash computed on its own thread while the caller frames, checks and writes blocks on
//! another: the caller hands over filled buffers and gets them back, emptied, for reuse.
//!
//! This is what keeps encode and decode close to the speed of the hash alone.
//!
//! [`FramePipe`] is the encoder's variant: besides hashing the input, the worker seals the
//! framed blocks (CRC, then the password transform) before they come back to be written,
//! which balances the two threads (the caller reads, frames, computes parity and writes).

use crate::format::block::{SIGNATURE, seal};
use crate::format::{HashKind, Version, password};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Buffers in flight at most: one being hashed, one queued, one being filled.
const IN_FLIGHT: usize = 3;

pub struct HashPipe {
    to_hasher: Option<SyncSender<Vec<u8>>>,
    back: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<Option<Vec<u8>>>>,
    allocated: usize,
    capacity: usize,
}

impl HashPipe {
    /// Start a hasher of `kind` (or none: buffers just come back) for buffers of `capacity`.
    pub fn new(kind: Option<HashKind>, capacity: usize) -> HashPipe {
        let (tx, rx) = sync_channel::<Vec<u8>>(IN_FLIGHT);
        let (back_tx, back) = sync_channel::<Vec<u8>>(IN_FLIGHT);
        let worker = std::thread::spawn(move || {
            let mut hasher = kind.map(HashKind::hasher);
            for buf in rx {
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf);
                }
                // The caller may have stopped taking buffers back; that is fine.
                let _ = back_tx.try_send(buf);
            }
            hasher.map(|h| h.finalize())
        });
        HashPipe {
            to_hasher: Some(tx),
            back,
            worker: Some(worker),
            allocated: 0,
            capacity,
        }
    }

    /// A buffer to fill: a recycled one (its old contents still there, so a caller that
    /// overwrites it whole need not zero it again), or a new one while few are in flight.
    pub fn buffer(&mut self) -> Vec<u8> {
        if let Ok(b) = self.back.try_recv() {
            return b;
        }
        if self.allocated < IN_FLIGHT {
            self.allocated += 1;
            return Vec::with_capacity(self.capacity);
        }
        self.back
            .recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.capacity))
    }

    /// Hash the bytes of `buf` after those fed before.
    pub fn feed(&mut self, buf: Vec<u8>) {
        if let Some(tx) = &self.to_hasher {
            // The worker only stops when we drop the sender, so this cannot fail.
            let _ = tx.send(buf);
        }
    }

    /// Wait for the hasher and return the digest (`None` when created without a hash kind).
    pub fn finish(mut self) -> Option<Vec<u8>> {
        self.to_hasher.take();
        self.worker
            .take()
            .and_then(|w| w.join().expect("hash worker panicked"))
    }
}

impl Drop for HashPipe {
    fn drop(&mut self) {
        self.to_hasher.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// One batch of the encoder: the input bytes read, the blocks framed from them (headers
/// without CRCs; slots left empty are all zeros) and the byte offset they go to.
#[derive(Default)]
pub struct Batch {
    pub input: Vec<u8>,
    pub framed: Vec<u8>,
    pub at: u64,
}

/// The encoder's hash thread: hashes each batch's input and seals its blocks, returning the
/// batches in the order they were sent.
pub struct FramePipe {
    to_worker: Option<SyncSender<Batch>>,
    back: Receiver<Batch>,
    worker: Option<JoinHandle<Vec<u8>>>,
    in_flight: usize,
}

impl FramePipe {
    /// `keystream`: the password transform applied to every sealed block (versions 1–3).
    pub fn new(kind: HashKind, version: Version, keystream: Option<Vec<u8>>) -> FramePipe {
        let (tx, rx) = sync_channel::<Batch>(IN_FLIGHT);
        let (back_tx, back) = sync_channel::<Batch>(IN_FLIGHT);
        let worker = std::thread::spawn(move || {
            let mut hasher = kind.hasher();
            let bs = version.block_size();
            for mut batch in rx {
                hasher.update(&batch.input);
                for block in batch.framed.chunks_exact_mut(bs) {
                    // Empty slots (zeros) stay empty: only framed blocks carry the signature.
                    if block.starts_with(SIGNATURE) {
                        seal(block, version);
                        if let Some(ks) = &keystream {
                            password::apply(block, ks);
                        }
                    }
                }
                if back_tx.send(batch).is_err() {
                    break;
                }
            }
            hasher.finalize()
        });
        FramePipe {
            to_worker: Some(tx),
            back,
            worker: Some(worker),
            in_flight: 0,
        }
    }

    /// Batches sent and not yet taken back.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Hand a framed batch over for hashing and sealing.
    pub fn send(&mut self, batch: Batch) {
        if let Some(tx) = &self.to_worker
            && tx.send(batch).is_ok()
        {
            self.in_flight += 1;
        }
    }

    /// The oldest batch sent, sealed; `None` when none is in flight.
    pub fn recv(&mut self) -> Option<Batch> {
        if self.in_flight == 0 {
            return None;
        }
        let b = self.back.recv().ok()?;
        self.in_flight -= 1;
        Some(b)
    }

    /// Wait for the worker (every batch must have been taken back) and return the digest.
    pub fn finish(mut self) -> Vec<u8> {
        debug_assert_eq!(self.in_flight, 0, "batches left in the pipe");
        self.to_worker.take();
        self.worker
            .take()
            .map(|w| w.join().expect("hash worker panicked"))
            .unwrap_or_default()
    }
}

impl Drop for FramePipe {
    fn drop(&mut self) {
        self.to_worker.take();
        // Unblock a worker waiting to hand a batch back.
        while self.back.try_recv().is_ok() {}
        if let Some(w) = self.worker.take() {
            drop(std::mem::replace(&mut self.back, sync_channel(1).1));
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::hash::hex;

    #[test]
    fn digest_equals_one_shot_hash_whatever_the_chunking() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let mut pipe = HashPipe::new(Some(HashKind::Sha256), 4096);
        for piece in data.chunks(3001) {
            let mut b = pipe.buffer();
            b.clear();
            b.extend_from_slice(piece);
            pipe.feed(b);
        }
        let mut h = HashKind::Sha256.hasher();
        h.update(&data);
        assert_eq!(hex(&pipe.finish().unwrap()), hex(&h.finalize()));
    }
}
