//! Positioned writes on a thread of their own: the caller hands over filled buffers with
//! their offsets and gets emptied ones back for reuse, so reading, checking and rebuilding
//! go on while the previous batch is copied into the page cache. Used by repair's copy,
//! whose three streams of work (check and rebuild, hash, write) would otherwise share two.
//!
//! A write error stops the thread; it is returned by the next call (or [`Writer::finish`]),
//! never lost. Writes only to the file it is given.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Buffers queued for the writer at most (one more is being written, one filled).
const QUEUED: usize = 2;

pub struct Writer {
    to_worker: Option<SyncSender<(Vec<u8>, u64)>>,
    back: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<io::Result<()>>>,
}

impl Writer {
    /// A writer to `file` (a second handle on it: the caller keeps its own).
    pub fn new(file: &File) -> io::Result<Writer> {
        let file = file.try_clone()?;
        let (tx, rx) = sync_channel::<(Vec<u8>, u64)>(QUEUED);
        let (back_tx, back) = sync_channel::<Vec<u8>>(QUEUED + 2);
        let worker = std::thread::spawn(move || {
            for (buf, at) in rx {
                file.write_all_at(&buf, at)?;
                // The caller may not want it back; that is fine.
                let _ = back_tx.try_send(buf);
            }
            Ok(())
        });
        Ok(Writer {
            to_worker: Some(tx),
            back,
            worker: Some(worker),
        })
    }

    /// Write a copy of `bytes` at byte `at` (later, in order with the other writes).
    pub fn write_at(&mut self, bytes: &[u8], at: u64) -> io::Result<()> {
        let mut buf = self.back.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        let sent = match &self.to_worker {
            Some(tx) => tx.send((buf, at)).is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { self.finish() }
    }

    /// Wait until everything handed over is written; the first write error, if any. The
    /// writer takes nothing more afterwards.
    pub fn finish(&mut self) -> io::Result<()> {
        self.to_worker.take();
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(io::Error::other("the writer thread panicked")),
            None => Err(io::Error::other("the writer was finished before")),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.to_worker.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_land_at_their_offsets_and_errors_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let f = File::create(&path).unwrap();
        let mut w = Writer::new(&f).unwrap();
        for i in (0..50u8).rev() {
            w.write_at(&[i; 1000], u64::from(i) * 1000).unwrap();
        }
        w.finish().unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), 50_000);
        assert!(
            got.chunks(1000)
                .enumerate()
                .all(|(i, c)| c.iter().all(|&b| b == i as u8))
        );
        // A read-only handle: the first write fails, and the error is not lost.
        let ro = File::open(&path).unwrap();
        let mut w = Writer::new(&ro).unwrap();
        let first = w.write_at(b"x", 0);
        let rest = w.write_at(b"y", 1).and_then(|_| w.finish());
        assert!(
            first.is_err() || rest.is_err(),
            "a failed write went unreported"
        );
    }
}
