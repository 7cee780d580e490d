//! Building small ext2/3/4 images at test time without root: `mke2fs` for the file system,
//! `debugfs -w -f` scripts for the files (first-fit allocation into freed gaps fragments them),
//! fixed UUID, hash seed and clock so the images come out the same every run. Expected file
//! contents are kept beside each image. Panics with a clear message when e2fsprogs is missing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";
pub const OTHER_UUID: &str = "fedcba98-7654-3210-fedc-ba9876543210";
pub const FAKE_TIME: &str = "1700000000";

/// Find an e2fsprogs tool on PATH or in the sbin folders.
pub fn tool(name: &str) -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    for d in dirs
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
    {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} not found: these tests build ext4 images with e2fsprogs (apt-get install e2fsprogs)"
    );
}

fn run(cmd: &mut Command, what: &str, ok_codes: &[i32]) -> String {
    let out = cmd
        .env("E2FSPROGS_FAKE_TIME", FAKE_TIME)
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code().unwrap_or(-1);
    assert!(ok_codes.contains(&code), "{what} exited {code}:\n{text}");
    text
}

/// A file system variant: a name and the mke2fs arguments that make it.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub block_size: u64,
    pub extents: bool,
    pub inline: bool,
}

pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "e4_4k",
        args: &["-t", "ext4", "-b", "4096"],
        block_size: 4096,
        extents: true,
        inline: false,
    },
    Variant {
        name: "e4_1k",
        args: &["-t", "ext4", "-b", "1024"],
        block_size: 1024,
        extents: true,
        inline: false,
    },
    Variant {
        name: "e4_noextent",
        args: &["-t", "ext4", "-b", "4096", "-O", "^extent,^64bit"],
        block_size: 4096,
        extents: false,
        inline: false,
    },
    Variant {
        name: "e4_no64",
        args: &["-t", "ext4", "-b", "4096", "-O", "^64bit"],
        block_size: 4096,
        extents: true,
        inline: false,
    },
    Variant {
        name: "e4_nocsum",
        args: &["-t", "ext4", "-b", "1024", "-O", "^metadata_csum"],
        block_size: 1024,
        extents: true,
        inline: false,
    },
    Variant {
        name: "e4_inline",
        args: &["-t", "ext4", "-b", "4096", "-O", "inline_data"],
        block_size: 4096,
        extents: true,
        inline: true,
    },
    Variant {
        name: "e3_1k",
        args: &["-t", "ext3", "-b", "1024"],
        block_size: 1024,
        extents: false,
        inline: false,
    },
    Variant {
        name: "e2_1k",
        args: &["-t", "ext2", "-b", "1024"],
        block_size: 1024,
        extents: false,
        inline: false,
    },
];

pub fn variant(name: &str) -> Variant {
    *VARIANTS
        .iter()
        .find(|v| v.name == name)
        .expect("known variant")
}

/// Deterministic pseudo-random bytes (xorshift).
pub fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = vec![0u8; len];
    for c in v.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
    }
    v
}

/// An image and what its regular files must contain.
pub struct Built {
    pub img: PathBuf,
    pub variant: Variant,
    /// Every regular file: path → content.
    pub files: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Paths holding unwritten (preallocated) extents over stale data.
    pub unwritten: Vec<Vec<u8>>,
    /// The fragmented file deleted in the recovery tests.
    pub victim: Vec<u8>,
}

pub fn mkfs(img: &Path, args: &[&str], uuid: &str, size: &str) {
    let mut cmd = Command::new(tool("mke2fs"));
    cmd.args(["-q", "-F", "-U", uuid, "-E", &format!("hash_seed={uuid}")])
        .args(args)
        .arg(img)
        .arg(size);
    run(&mut cmd, "mke2fs", &[0]);
}

/// Run a debugfs script (one command a line) on `img`, writable.
pub fn debugfs(img: &Path, script: &[u8]) -> String {
    let cmds = img.with_extension("cmds");
    let mut all = b"set_current_time 20231114221320\n".to_vec();
    all.extend_from_slice(script);
    std::fs::write(&cmds, all).unwrap();
    let mut cmd = Command::new(tool("debugfs"));
    cmd.arg("-w").arg("-f").arg(&cmds).arg(img);
    run(&mut cmd, "debugfs", &[0])
}

/// One read-only debugfs request.
pub fn debugfs_ro(img: &Path, request: &str) -> String {
    let mut cmd = Command::new(tool("debugfs"));
    cmd.arg("-R").arg(request).arg(img);
    run(&mut cmd, "debugfs -R", &[0])
}

/// `e2fsck -fn`: the image must be clean.
pub fn fsck_clean(img: &Path) {
    let mut cmd = Command::new(tool("e2fsck"));
    cmd.arg("-fn").arg(img);
    run(&mut cmd, "e2fsck -fn", &[0]);
}

/// Build variant `v` in `dir` with the standard set of shapes: fragmented files (extent
/// trees of depth ≥ 1), a sparse file, unwritten extents over stale data (extent variants),
/// a hard link, a symlink, a non-UTF-8 name, a deep path, a directory large enough for an
/// htree after `e2fsck -D`, small files.
pub fn build(dir: &Path, v: Variant) -> Built {
    build_with(dir, v, UUID, "16M")
}

pub fn build_with(dir: &Path, v: Variant, uuid: &str, size: &str) -> Built {
    let img = dir.join(format!("{}.img", v.name));
    mkfs(&img, v.args, uuid, size);
    let src = dir.join(format!("{}-src", v.name));
    std::fs::create_dir_all(&src).unwrap();
    let mut files: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut script: Vec<u8> = Vec::new();
    let put = |script: &mut Vec<u8>, name: &str, data: &[u8], path: &[u8]| {
        let f = src.join(name);
        std::fs::write(&f, data).unwrap();
        script.extend_from_slice(format!("write {} ", f.display()).as_bytes());
        script.extend_from_slice(path);
        script.push(b'\n');
    };
    let pad = 16 * 1024;
    script.extend_from_slice(b"mkdir /pad\n");
    for i in 0..40 {
        put(
            &mut script,
            &format!("pad_{i:02}"),
            &payload(pad, 100 + i),
            format!("/pad/pad_{i:02}").as_bytes(),
        );
    }
    for i in (0..40).step_by(2) {
        script.extend_from_slice(format!("rm /pad/pad_{i:02}\n").as_bytes());
    }
    for i in (1..40).step_by(2) {
        files.insert(
            format!("/pad/pad_{i:02}").into_bytes(),
            payload(pad, 100 + i),
        );
    }
    script.extend_from_slice(b"mkdir /test\nmkdir /test/dir\n");
    // 240 KiB into 16 KiB gaps: 15+ extents, so the tree needs an index block.
    let big = payload(240 * 1024 + 123, 7);
    put(&mut script, "big", &big, b"/test/dir/big.bin");
    files.insert(b"/test/dir/big.bin".to_vec(), big);
    // Stale data, freed, then preallocated over: must read as zeros.
    let mut unwritten = Vec::new();
    if v.extents {
        put(&mut script, "stale", &payload(40960, 8), b"/stale.bin");
        script.extend_from_slice(b"rm /stale.bin\nwrite /dev/null /prealloc.bin\nfallocate /prealloc.bin 0 9\nsif /prealloc.bin size 40960\n");
        files.insert(b"/prealloc.bin".to_vec(), vec![0u8; 40960]);
        unwritten.push(b"/prealloc.bin".to_vec());
    }
    // Sparse: data, a 64 KiB hole, data, and a trailing hole up to the size.
    let mut sparse = payload(8192, 9);
    sparse.extend(vec![0u8; 65536]);
    sparse.extend(payload(5000, 10));
    put(&mut script, "sparse", &sparse, b"/sparse.bin");
    sparse.resize(200_000, 0);
    script.extend_from_slice(b"sif /sparse.bin size 200000\n");
    files.insert(b"/sparse.bin".to_vec(), sparse);
    // A hard link (two paths, one inode) and a symlink.
    script.extend_from_slice(b"mkdir /docs\n");
    let a = payload(20000, 11);
    put(&mut script, "a", &a, b"/docs/a.bin");
    script.extend_from_slice(b"ln /docs/a.bin /docs/a-link.bin\nsif /docs/a.bin links_count 2\n");
    files.insert(b"/docs/a.bin".to_vec(), a.clone());
    files.insert(b"/docs/a-link.bin".to_vec(), a);
    script.extend_from_slice(b"symlink /docs/link /test/dir/big.bin\n");
    put(&mut script, "small", b"hello\n", b"/docs/small.txt");
    files.insert(b"/docs/small.txt".to_vec(), b"hello\n".to_vec());
    put(&mut script, "empty", b"", b"/docs/empty.txt");
    files.insert(b"/docs/empty.txt".to_vec(), Vec::new());
    // A name that is not UTF-8 (Latin-1 "café").
    let cafe = payload(3000, 12);
    put(&mut script, "cafe", &cafe, b"/docs/caf\xe9.bin");
    files.insert(b"/docs/caf\xe9.bin".to_vec(), cafe);
    // A deep path.
    let mut deep = String::new();
    for i in 0..12 {
        deep.push_str(&format!("/d{i}"));
        script.extend_from_slice(format!("mkdir {deep}\n").as_bytes());
    }
    put(
        &mut script,
        "deep",
        b"deep file\n",
        format!("{deep}/deep.txt").as_bytes(),
    );
    files.insert(
        format!("{deep}/deep.txt").into_bytes(),
        b"deep file\n".to_vec(),
    );
    // Enough names for several directory blocks (an htree after e2fsck -D).
    script.extend_from_slice(b"mkdir /many\n");
    for i in 0..120 {
        let name = format!("/many/file-with-a-longish-name-{i:04}.txt");
        let data = format!("file {i}\n").into_bytes();
        put(&mut script, &format!("m{i}"), &data, name.as_bytes());
        files.insert(name.into_bytes(), data);
    }
    debugfs(&img, &script);
    // Rebuild directories as htrees where the file system indexes them.
    let mut cmd = Command::new(tool("e2fsck"));
    cmd.arg("-fyD").arg(&img);
    run(&mut cmd, "e2fsck -fyD", &[0, 1]);
    fsck_clean(&img);
    Built {
        img,
        variant: v,
        files,
        unwritten,
        victim: b"/test/dir/big.bin".to_vec(),
    }
}

/// Delete `path` the way the kernel does: free its blocks, empty its extent tree and size,
/// then unlink it.
pub fn delete_like_kernel(img: &Path, path: &[u8]) {
    let mut s = Vec::new();
    for cmd in [&b"punch "[..], b"sif ", b"rm "] {
        s.extend_from_slice(cmd);
        s.extend_from_slice(path);
        match cmd {
            b"punch " => s.extend_from_slice(b" 0\n"),
            b"sif " => s.extend_from_slice(b" size 0\n"),
            _ => s.push(b'\n'),
        }
    }
    debugfs(img, &s);
    fsck_clean(img);
}

/// Overwrite bytes of the image at `offset` (simulates later writes by the file system).
pub fn scribble(img: &Path, offset: u64, data: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(data).unwrap();
}
