//! A failing disk for tests: a minimal FUSE file system (the kernel protocol spoken directly
//! over /dev/fuse, no libfuse, no fusermount) that serves one image file read-only and
//! answers EIO to every read touching chosen byte ranges, as a disk with bad sectors does.
//! Files are opened with direct I/O, so every read reaches us and nothing is cached.
//!
//! Test-only. Mounting needs root and /dev/fuse: [`FailingDisk::mount`] returns `None`
//! (after printing why) when either is missing, so tests skip instead of failing.

use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ROOT: u64 = 1;
const FILE: u64 = 2;
const EIO: i32 = 5;
const ENOENT: i32 = 2;
const ENOSYS: i32 = 38;

// Opcodes (linux/fuse.h).
const LOOKUP: u32 = 1;
const FORGET: u32 = 2;
const GETATTR: u32 = 3;
const OPEN: u32 = 14;
const READ: u32 = 15;
const STATFS: u32 = 17;
const RELEASE: u32 = 18;
const FLUSH: u32 = 25;
const INIT: u32 = 26;
const OPENDIR: u32 = 27;
const RELEASEDIR: u32 = 29;
const INTERRUPT: u32 = 36;
const DESTROY: u32 = 38;
const BATCH_FORGET: u32 = 42;
/// fuse_open_out.open_flags: bypass the page cache.
const FOPEN_DIRECT_IO: u32 = 1;

/// A mounted failing disk: `dir/name` reads as the image, except the bad ranges.
pub struct FailingDisk {
    pub dir: PathBuf,
    /// The served file.
    pub path: PathBuf,
    /// Reads answered with EIO so far.
    pub errors: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    mounted: bool,
}

/// Why the suite cannot mount here, if it cannot (not root, no /dev/fuse).
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("no /dev/fuse".into());
    }
    None
}

impl FailingDisk {
    /// Mount a file system at `dir` (an empty folder) serving `image` as `dir/name`, with
    /// reads touching any of `bad` (byte ranges, end exclusive) failing with EIO.
    pub fn mount(
        image: &Path,
        name: &str,
        dir: &Path,
        bad: Vec<(u64, u64)>,
    ) -> Option<FailingDisk> {
        if let Some(why) = unavailable() {
            eprintln!("SKIPPED: the FUSE fault tests need root and /dev/fuse ({why})");
            return None;
        }
        let dev = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/fuse")
            .expect("open /dev/fuse");
        let opts = format!("fd={},rootmode=40000,user_id=0,group_id=0", dev.as_raw_fd());
        let c = |s: &[u8]| CString::new(s).expect("no NUL");
        let (src, target, fstype, data) = (
            c(b"seqboxtest"),
            c(dir.as_os_str().as_bytes()),
            c(b"fuse.seqboxtest"),
            c(opts.as_bytes()),
        );
        // SAFETY: every pointer is a valid NUL-terminated string that outlives the call.
        let r = unsafe {
            libc::mount(
                src.as_ptr(),
                target.as_ptr(),
                fstype.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                data.as_ptr().cast(),
            )
        };
        assert_eq!(
            r,
            0,
            "mount fuse at {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        );
        let server = Server {
            dev,
            image: File::open(image).expect("open the image"),
            size: std::fs::metadata(image).expect("image size").len(),
            name: name.as_bytes().to_vec(),
            bad,
            errors: Arc::new(AtomicU64::new(0)),
        };
        let errors = server.errors.clone();
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        std::thread::spawn(move || {
            server.serve();
            finished.store(true, Ordering::SeqCst);
        });
        Some(FailingDisk {
            dir: dir.to_path_buf(),
            path: dir.join(name),
            errors,
            done,
            mounted: true,
        })
    }
}

impl Drop for FailingDisk {
    fn drop(&mut self) {
        if !self.mounted {
            return;
        }
        let target = CString::new(self.dir.as_os_str().as_bytes()).expect("no NUL");
        // SAFETY: a valid NUL-terminated path. Lazy: the connection ends when the last
        // user lets go, which makes the server's next read fail with ENODEV.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        let until = Instant::now() + Duration::from_secs(5);
        while !self.done.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

struct Server {
    dev: File,
    image: File,
    size: u64,
    name: Vec<u8>,
    bad: Vec<(u64, u64)>,
    errors: Arc<AtomicU64>,
}

/// Little-endian field readers over a request.
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Server {
    fn serve(mut self) {
        let mut buf = vec![0u8; (1 << 20) + 4096];
        loop {
            let n = match self.dev.read(&mut buf) {
                Ok(n) => n,
                Err(e) => match e.raw_os_error() {
                    // Interrupted, or a request the kernel took back: go on.
                    Some(libc::EINTR) | Some(libc::ENOENT) | Some(libc::EAGAIN) => continue,
                    // Unmounted (ENODEV) or anything else: stop.
                    _ => return,
                },
            };
            if n < 40 {
                continue;
            }
            let req = &buf[..n];
            let (opcode, unique, node) = (u32_at(req, 4), u64_at(req, 8), u64_at(req, 16));
            let body = &req[40..];
            let reply = match opcode {
                INIT => Ok(init_out(body)),
                LOOKUP => {
                    let name = body.split(|&b| b == 0).next().unwrap_or(&[]);
                    if node == ROOT && name == self.name.as_slice() {
                        Ok(entry_out(FILE, self.size))
                    } else {
                        Err(ENOENT)
                    }
                }
                GETATTR => match node {
                    ROOT | FILE => Ok(attr_out(node, self.size)),
                    _ => Err(ENOENT),
                },
                OPEN => Ok(open_out(FOPEN_DIRECT_IO)),
                OPENDIR => Ok(open_out(0)),
                READ => self.read(u64_at(body, 8), u32_at(body, 16)),
                STATFS => Ok(vec![0u8; 80]),
                RELEASE | RELEASEDIR | FLUSH | DESTROY => Ok(Vec::new()),
                // No reply expected.
                FORGET | BATCH_FORGET | INTERRUPT => continue,
                _ => Err(ENOSYS),
            };
            let (error, payload) = match reply {
                Ok(p) => (0i32, p),
                Err(e) => (-e, Vec::new()),
            };
            let mut out = Vec::with_capacity(16 + payload.len());
            out.extend_from_slice(&(16 + payload.len() as u32).to_le_bytes());
            out.extend_from_slice(&error.to_le_bytes());
            out.extend_from_slice(&unique.to_le_bytes());
            out.extend_from_slice(&payload);
            // A reply to a request the kernel took back fails with ENOENT: nothing to do.
            let _ = self.dev.write(&out);
            if opcode == DESTROY {
                return;
            }
        }
    }

    /// READ: the bytes, or EIO when the range touches a bad one.
    fn read(&self, offset: u64, size: u32) -> Result<Vec<u8>, i32> {
        let end = (offset + u64::from(size)).min(self.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        if self.bad.iter().any(|&(s, e)| s < end && offset < e) {
            self.errors.fetch_add(1, Ordering::SeqCst);
            return Err(EIO);
        }
        let mut data = vec![0u8; (end - offset) as usize];
        self.image
            .read_exact_at(&mut data, offset)
            .map_err(|_| EIO)?;
        Ok(data)
    }
}

/// fuse_init_out: protocol 7.31, no optional features.
fn init_out(body: &[u8]) -> Vec<u8> {
    let max_readahead = if body.len() >= 12 { u32_at(body, 8) } else { 0 };
    let mut o = Vec::with_capacity(64);
    o.extend_from_slice(&7u32.to_le_bytes()); // major
    o.extend_from_slice(&31u32.to_le_bytes()); // minor
    o.extend_from_slice(&max_readahead.to_le_bytes());
    o.extend_from_slice(&0u32.to_le_bytes()); // flags
    o.extend_from_slice(&16u16.to_le_bytes()); // max_background
    o.extend_from_slice(&12u16.to_le_bytes()); // congestion_threshold
    o.extend_from_slice(&(128u32 << 10).to_le_bytes()); // max_write
    o.extend_from_slice(&1u32.to_le_bytes()); // time_gran
    o.resize(64, 0); // max_pages, map_alignment, flags2, unused
    o
}

/// fuse_attr (88 bytes) of the root folder or the image file.
fn attr(node: u64, size: u64) -> Vec<u8> {
    let (mode, nlink, size) = if node == ROOT {
        (libc::S_IFDIR | 0o555, 2u32, 0u64)
    } else {
        (libc::S_IFREG | 0o444, 1u32, size)
    };
    let mut a = Vec::with_capacity(88);
    for v in [node, size, size.div_ceil(512), 0, 0, 0] {
        a.extend_from_slice(&v.to_le_bytes()); // ino size blocks atime mtime ctime
    }
    for v in [0u32, 0, 0, mode, nlink, 0, 0, 0, 4096, 0] {
        a.extend_from_slice(&v.to_le_bytes()); // nsecs mode nlink uid gid rdev blksize flags
    }
    a
}

fn entry_out(node: u64, size: u64) -> Vec<u8> {
    let mut o = Vec::with_capacity(128);
    for v in [node, 0, 60, 60] {
        o.extend_from_slice(&v.to_le_bytes()); // nodeid generation entry_valid attr_valid
    }
    o.extend_from_slice(&[0u8; 8]); // nsecs
    o.extend_from_slice(&attr(node, size));
    o
}

fn attr_out(node: u64, size: u64) -> Vec<u8> {
    let mut o = Vec::with_capacity(104);
    o.extend_from_slice(&60u64.to_le_bytes());
    o.extend_from_slice(&[0u8; 8]);
    o.extend_from_slice(&attr(node, size));
    o
}

fn open_out(flags: u32) -> Vec<u8> {
    let mut o = vec![0u8; 16]; // fh = 0
    o[8..12].copy_from_slice(&flags.to_le_bytes());
    o
}
