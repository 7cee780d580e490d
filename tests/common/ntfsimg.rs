//! Building small NTFS images at test time without root: `mkntfs` for the volume, `ntfscp`
//! for the files, `ntfscluster`/`ntfsinfo`/`ntfscat` (ntfs-3g) to read back where files live
//! and what they hold, independently of our reader. ntfs-3g's allocator keeps a file in one
//! or two runs, so [`fragment`] moves a file's clusters into several pieces by hand (mapping
//! pairs rewritten, fixups respected, `$Bitmap` updated) and [`delete`] frees a file's record
//! the way a deletion does. Panics with a clear message when ntfs-3g is missing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const CLUSTER: u64 = 4096;

/// Find an ntfs-3g tool on PATH or in the sbin folders.
pub fn tool(name: &str) -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    for d in dirs.split(':').chain(["/usr/sbin", "/sbin", "/usr/bin"]) {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} not found: these tests build NTFS images with ntfs-3g (apt-get install ntfs-3g)"
    );
}

pub fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh volume of `mib` MiB with 4 KiB clusters.
pub fn mkntfs(img: &Path, mib: u64, label: &str) {
    let f = std::fs::File::create(img).unwrap();
    f.set_len(mib << 20).unwrap();
    drop(f);
    run(
        Command::new(tool("mkntfs"))
            .args(["-F", "-Q", "-q", "-c", "4096", "-L", label])
            .arg(img),
        "mkntfs",
    );
}

/// Copy `content` into the volume as `dest` (an absolute path in the root directory).
pub fn put(img: &Path, dest: &str, content: &[u8]) {
    let src = img.with_extension(format!("src{}", content.len()));
    std::fs::write(&src, content).unwrap();
    run(
        Command::new(tool("ntfscp")).arg(img).arg(&src).arg(dest),
        "ntfscp",
    );
    std::fs::remove_file(src).unwrap();
}

/// The file's bytes as ntfs-3g reads them.
pub fn cat(img: &Path, path: &str) -> Vec<u8> {
    run(Command::new(tool("ntfscat")).arg(img).arg(path), "ntfscat")
}

/// A run as ntfs-3g prints it: (VCN, LCN, length); LCN -1 for a sparse run.
pub type Run3 = (u64, i64, u64);

/// The runs of every non-resident attribute in `ntfscluster -F path` / `-I n` output, by
/// attribute type (0x80 = $DATA).
fn runs_in(out: &str, ty: &str) -> Vec<Run3> {
    let mut runs = Vec::new();
    let mut inside = false;
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("0x") {
            inside = t.starts_with(&format!("{ty} - non-resident"));
            continue;
        }
        let cells: Vec<&str> = t.split_whitespace().collect();
        if inside && cells.len() == 3 {
            if let (Ok(v), Ok(l), Ok(n)) = (cells[0].parse(), cells[1].parse(), cells[2].parse()) {
                runs.push((v, l, n));
            }
        }
    }
    runs
}

/// `$DATA` runs of `path` by ntfscluster (empty when resident).
pub fn data_runs(img: &Path, path: &str) -> Vec<Run3> {
    let out = run(
        Command::new(tool("ntfscluster"))
            .arg("-F")
            .arg(path)
            .arg(img),
        "ntfscluster -F",
    );
    runs_in(&String::from_utf8_lossy(&out), "0x80")
}

/// Runs of attribute `ty` of MFT record `n` by ntfscluster.
pub fn record_runs(img: &Path, n: u64, ty: &str) -> Vec<Run3> {
    let out = run(
        Command::new(tool("ntfscluster"))
            .arg("-I")
            .arg(n.to_string())
            .arg(img),
        "ntfscluster -I",
    );
    runs_in(&String::from_utf8_lossy(&out), ty)
}

/// The MFT record number of `path` (from `ntfsinfo -F`).
pub fn record_of(img: &Path, path: &str) -> u64 {
    let out = run(
        Command::new(tool("ntfsinfo")).arg("-F").arg(path).arg(img),
        "ntfsinfo -F",
    );
    let text = String::from_utf8_lossy(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("Dumping Inode "))
        .expect("ntfsinfo names the inode");
    line["Dumping Inode ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

pub fn read_at(img: &Path, pos: u64, len: usize) -> Vec<u8> {
    let mut f = std::fs::File::open(img).unwrap();
    f.seek(SeekFrom::Start(pos)).unwrap();
    let mut b = vec![0u8; len];
    f.read_exact(&mut b).unwrap();
    b
}

/// Overwrite bytes of the image at `pos` (later writes by the file system, or damage).
pub fn scribble(img: &Path, pos: u64, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.seek(SeekFrom::Start(pos)).unwrap();
    f.write_all(data).unwrap();
}

/// Byte position of MFT record `n` (1 KiB records, 4 KiB clusters).
pub fn record_pos(img: &Path, n: u64) -> u64 {
    let off = n * 1024;
    for (vcn, lcn, len) in record_runs(img, 0, "0x80") {
        if (vcn * CLUSTER..(vcn + len) * CLUSTER).contains(&off) {
            return lcn as u64 * CLUSTER + off - vcn * CLUSTER;
        }
    }
    panic!("record {n} outside $MFT");
}

/// Set or clear `bit` of the bitmap stored in `runs`.
fn set_bit(img: &Path, runs: &[Run3], bit: u64, on: bool) {
    let byte = bit / 8;
    let (vcn, lcn, _) = runs
        .iter()
        .copied()
        .find(|&(v, _, n)| (v * CLUSTER..(v + n) * CLUSTER).contains(&byte))
        .expect("bit inside the bitmap");
    let pos = lcn as u64 * CLUSTER + byte - vcn * CLUSTER;
    let mut b = read_at(img, pos, 1);
    if on {
        b[0] |= 1 << (bit % 8);
    } else {
        b[0] &= !(1 << (bit % 8));
    }
    scribble(img, pos, &b);
}

fn cluster_bitmap(img: &Path) -> Vec<Run3> {
    record_runs(img, 6, "0x80")
}

pub fn cluster_used(img: &Path, lcn: u64) -> bool {
    used_in(img, &cluster_bitmap(img), lcn)
}

/// [`cluster_used`] with `$Bitmap`'s runs already known (no ntfs-3g call).
fn used_in(img: &Path, runs: &[Run3], lcn: u64) -> bool {
    let (vcn, l, _) = runs[0];
    let pos = l as u64 * CLUSTER + lcn / 8 - vcn * CLUSTER;
    read_at(img, pos, 1)[0] & (1 << (lcn % 8)) != 0
}

/// A record with its fixups undone (as parsed) and the way to write it back (fixups redone).
pub struct Record {
    pub pos: u64,
    pub b: Vec<u8>,
}

impl Record {
    pub fn read(img: &Path, n: u64) -> Record {
        let pos = record_pos(img, n);
        let mut b = read_at(img, pos, 1024);
        let usa = u16::from_le_bytes([b[4], b[5]]) as usize;
        for i in 1..3 {
            let end = i * 512 - 2;
            assert_eq!(b[end..end + 2], b[usa..usa + 2], "record {n}: torn already");
            b[end] = b[usa + 2 * i];
            b[end + 1] = b[usa + 2 * i + 1];
        }
        Record { pos, b }
    }

    pub fn write(mut self, img: &Path) {
        let usa = u16::from_le_bytes([self.b[4], self.b[5]]) as usize;
        for i in 1..3 {
            let end = i * 512 - 2;
            self.b.copy_within(end..end + 2, usa + 2 * i);
            let usn = [self.b[usa], self.b[usa + 1]];
            self.b[end..end + 2].copy_from_slice(&usn);
        }
        scribble(img, self.pos, &self.b);
    }

    /// Byte offset of the first attribute of type `ty`.
    pub fn attr(&self, ty: u32) -> usize {
        let mut off = u16::from_le_bytes([self.b[0x14], self.b[0x15]]) as usize;
        loop {
            let t = u32::from_le_bytes(self.b[off..off + 4].try_into().unwrap());
            assert_ne!(t, 0xFFFF_FFFF, "no attribute {ty:#x}");
            if t == ty {
                return off;
            }
            off += u32::from_le_bytes(self.b[off + 4..off + 8].try_into().unwrap()) as usize;
        }
    }

    /// Replace the mapping pairs of the non-resident `$DATA`; the attributes after it move.
    pub fn set_data_runs(&mut self, runs: &[Run3]) {
        let a = self.attr(0x80);
        let old_len = u32::from_le_bytes(self.b[a + 4..a + 8].try_into().unwrap()) as usize;
        let used = u32::from_le_bytes(self.b[0x18..0x1C].try_into().unwrap()) as usize;
        let tail = self.b[a + old_len..used].to_vec();
        let mp = u16::from_le_bytes([self.b[a + 0x20], self.b[a + 0x21]]) as usize;
        let pairs = encode_runs(runs);
        let len = (mp + pairs.len()).div_ceil(8) * 8;
        let new_used = used - old_len + len;
        assert!(new_used <= 1024 - 8, "runs do not fit the record");
        self.b[a + mp..a + len.max(old_len)].fill(0);
        self.b[a + mp..a + mp + pairs.len()].copy_from_slice(&pairs);
        self.b[a + 4..a + 8].copy_from_slice(&(len as u32).to_le_bytes());
        self.b[a + len..a + len + tail.len()].copy_from_slice(&tail);
        if new_used < used {
            self.b[new_used..used].fill(0);
        }
        self.b[0x18..0x1C].copy_from_slice(&(new_used as u32).to_le_bytes());
    }
}

/// Mapping pairs: a header byte (length bytes, offset bytes), the length, the signed LCN
/// delta; sparse runs have no offset; 0 ends the list.
pub fn encode_runs(runs: &[Run3]) -> Vec<u8> {
    fn unsigned(v: u64) -> Vec<u8> {
        let mut b = v.to_le_bytes().to_vec();
        while b.len() > 1 && b[b.len() - 1] == 0 {
            b.pop();
        }
        b
    }
    fn signed(v: i64) -> Vec<u8> {
        let mut b = v.to_le_bytes().to_vec();
        while b.len() > 1 {
            let (last, prev) = (b[b.len() - 1], b[b.len() - 2]);
            if (last == 0 && prev & 0x80 == 0) || (last == 0xFF && prev & 0x80 != 0) {
                b.pop();
            } else {
                break;
            }
        }
        b
    }
    let mut out = Vec::new();
    let mut prev = 0i64;
    for &(_, lcn, len) in runs {
        let l = unsigned(len);
        if lcn < 0 {
            out.push(l.len() as u8);
            out.extend_from_slice(&l);
            continue;
        }
        let o = signed(lcn - prev);
        prev = lcn;
        out.push(((o.len() as u8) << 4) | l.len() as u8);
        out.extend_from_slice(&l);
        out.extend_from_slice(&o);
    }
    out.push(0);
    out
}

/// Move the clusters of `path` (one run now) to the places in `plan` (VCN, LCN, length —
/// lengths summing to the file's clusters; LCNs free now): data copied, `$Bitmap` updated,
/// mapping pairs rewritten. Checked afterwards with ntfscluster and ntfscat.
pub fn fragment(img: &Path, path: &str, plan: &[Run3]) {
    let before = cat(img, path);
    let old = data_runs(img, path);
    assert_eq!(old.len(), 1, "{path} starts in one run: {old:?}");
    let (_, old_lcn, old_len) = old[0];
    assert_eq!(plan.iter().map(|r| r.2).sum::<u64>(), old_len);
    let bitmap = cluster_bitmap(img);
    for &(vcn, lcn, len) in plan {
        for i in 0..len {
            assert!(
                !cluster_used(img, lcn as u64 + i),
                "cluster {} is used",
                lcn as u64 + i
            );
            let data = read_at(img, (old_lcn as u64 + vcn + i) * CLUSTER, CLUSTER as usize);
            scribble(img, (lcn as u64 + i) * CLUSTER, &data);
            set_bit(img, &bitmap, lcn as u64 + i, true);
        }
    }
    for i in 0..old_len {
        let c = old_lcn as u64 + i;
        if !plan
            .iter()
            .any(|&(_, l, n)| (l as u64..l as u64 + n).contains(&c))
        {
            set_bit(img, &bitmap, c, false);
            scribble(img, c * CLUSTER, &vec![0xEE; CLUSTER as usize]);
        }
    }
    let n = record_of(img, path);
    let mut rec = Record::read(img, n);
    rec.set_data_runs(plan);
    rec.write(img);
    assert_eq!(data_runs(img, path), plan, "ntfs-3g reads the new runs");
    assert_eq!(cat(img, path), before, "ntfs-3g reads the same bytes");
}

/// Delete `path` as NTFS does, without a mount: its record's in-use flag (offset 22, not
/// at a stride end, so the fixups stay valid) and its bit in `$MFT`'s `$BITMAP` cleared, and
/// its clusters freed in `$Bitmap`. The record keeps its names and runs. Returns the record.
pub fn delete(img: &Path, path: &str) -> u64 {
    let n = record_of(img, path);
    let runs = data_runs(img, path);
    let bitmap = cluster_bitmap(img);
    for (_, lcn, len) in runs.into_iter().filter(|r| r.1 >= 0) {
        for c in lcn as u64..lcn as u64 + len {
            set_bit(img, &bitmap, c, false);
        }
    }
    set_bit(img, &record_runs(img, 0, "0xb0"), n, false);
    let pos = record_pos(img, n);
    let mut flags = read_at(img, pos + 22, 2);
    flags[0] &= !1;
    scribble(img, pos + 22, &flags);
    n
}

/// A built volume and what its files hold.
pub struct Built {
    pub img: PathBuf,
    pub files: BTreeMap<String, Vec<u8>>,
    /// Where the photo's clusters were moved: (VCN, LCN, length).
    pub plan: Vec<Run3>,
}

pub const PHOTO: &str = "/photo.jpg";

/// A 24 MiB volume: a resident file, an empty one, a non-ASCII name, and a 22-cluster photo
/// moved into six fragments (one of them before the previous one on the disk).
pub fn build(dir: &Path) -> Built {
    build_labelled(dir, "ntfs.img", "SEQBOXNTFS")
}

/// [`build`] under another file name and label (mkntfs picks a new serial each time).
pub fn build_labelled(dir: &Path, name: &str, label: &str) -> Built {
    let img = dir.join(name);
    mkntfs(&img, 24, label);
    let mut files = BTreeMap::new();
    for (i, (name, len)) in [
        ("/small.txt", 200),
        ("/a.bin", 20_000),
        (PHOTO, 90_000),
        ("/b.bin", 50_000),
        ("/héllo wörld.txt", 5_000),
        ("/empty", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let content = super::ext4img::payload(len, 40 + i as u64);
        put(&img, name, &content);
        files.insert(name.to_string(), content);
    }
    let end = files
        .keys()
        .flat_map(|p| data_runs(&img, p))
        .map(|(_, l, n)| l as u64 + n)
        .max()
        .unwrap() as i64;
    let plan = vec![
        (0, end + 30, 4),
        (4, end + 40, 3),
        (7, end + 20, 5),
        (12, end + 50, 2),
        (14, end + 60, 4),
        (18, end + 70, 4),
    ];
    fragment(&img, PHOTO, &plan);
    Built { img, files, plan }
}

/// Give the file at `path` another `$FILE_NAME` in the root directory (a hard link when
/// `namespace` is 0/1/3, a DOS alias when 2): a copy of its first name attribute with the new
/// name, inserted after it (the record's later attributes shift; fixups redone). The root
/// index is not updated: the walk reads names from the records.
pub fn add_name(img: &Path, path: &str, name: &str, namespace: u8) {
    let n = record_of(img, path);
    let mut rec = Record::read(img, n);
    let a = rec.attr(0x30);
    let len = u32::from_le_bytes(rec.b[a + 4..a + 8].try_into().unwrap()) as usize;
    let voff = u16::from_le_bytes([rec.b[a + 0x14], rec.b[a + 0x15]]) as usize;
    let units: Vec<u16> = name.encode_utf16().collect();
    let vlen = 0x42 + 2 * units.len();
    let new_len = (voff + vlen).div_ceil(8) * 8;
    let mut attr = vec![0u8; new_len];
    attr[..voff + 0x42].copy_from_slice(&rec.b[a..a + voff + 0x42]);
    attr[4..8].copy_from_slice(&(new_len as u32).to_le_bytes());
    attr[0x10..0x14].copy_from_slice(&(vlen as u32).to_le_bytes());
    let instance = u16::from_le_bytes([rec.b[0x28], rec.b[0x29]]);
    attr[0x0E..0x10].copy_from_slice(&instance.to_le_bytes());
    rec.b[0x28..0x2A].copy_from_slice(&(instance + 1).to_le_bytes());
    attr[voff + 0x40] = units.len() as u8;
    attr[voff + 0x41] = namespace;
    for (i, u) in units.iter().enumerate() {
        attr[voff + 0x42 + 2 * i..voff + 0x44 + 2 * i].copy_from_slice(&u.to_le_bytes());
    }
    let used = u32::from_le_bytes(rec.b[0x18..0x1C].try_into().unwrap()) as usize;
    assert!(used + new_len <= 1024, "no room for another name");
    let at = a + len;
    let tail = rec.b[at..used].to_vec();
    rec.b[at..at + new_len].copy_from_slice(&attr);
    rec.b[at + new_len..at + new_len + tail.len()].copy_from_slice(&tail);
    rec.b[0x18..0x1C].copy_from_slice(&((used + new_len) as u32).to_le_bytes());
    rec.write(img);
}

/// Move `$MFT`'s clusters from VCN `keep` on to `to_lcn` (free now): data copied, `$Bitmap`
/// updated, the old clusters scrambled, record 0's runs rewritten in `$MFT` and in
/// `$MFTMirr`. `$MFT` is then in two fragments; ntfs-3g must still read every file.
pub fn fragment_mft(img: &Path, keep: u64, to_lcn: u64) -> Vec<Run3> {
    let old = record_runs(img, 0, "0x80");
    assert_eq!(old.len(), 1, "$MFT starts in one run: {old:?}");
    let (_, lcn, len) = old[0];
    let lcn = lcn as u64;
    let bitmap = cluster_bitmap(img);
    let mirror = record_runs(img, 1, "0x80")[0].1 as u64 * CLUSTER;
    let mut rec = Record::read(img, 0);
    for i in keep..len {
        assert!(!used_in(img, &bitmap, to_lcn + i - keep));
        let data = read_at(img, (lcn + i) * CLUSTER, CLUSTER as usize);
        scribble(img, (to_lcn + i - keep) * CLUSTER, &data);
        set_bit(img, &bitmap, to_lcn + i - keep, true);
        set_bit(img, &bitmap, lcn + i, false);
        scribble(img, (lcn + i) * CLUSTER, &vec![0xEE; CLUSTER as usize]);
    }
    let runs = vec![(0, lcn as i64, keep), (keep, to_lcn as i64, len - keep)];
    rec.set_data_runs(&runs);
    rec.write(img);
    // The mirror's record 0 gets the same bytes (fixups included).
    let fixed = read_at(img, lcn * CLUSTER, 1024);
    scribble(img, mirror, &fixed);
    assert_eq!(
        record_runs(img, 0, "0x80"),
        runs,
        "ntfs-3g reads the new $MFT runs"
    );
    runs
}

/// Move the `$DATA` runs of `path` from run index `split` on into a new extension record
/// `ext` (a free slot inside `$MFT`'s data size), as NTFS does when a file's runs outgrow its record. The base
/// record keeps the first runs; no `$ATTRIBUTE_LIST` is written (ntfs-3g will not follow it —
/// our reader groups records by their base reference, so it must).
pub fn split_into_extension(img: &Path, path: &str, runs: &[Run3], split: usize, ext: u64) {
    let base = record_of(img, path);
    let mut rec = Record::read(img, base);
    let seq = u16::from_le_bytes([rec.b[16], rec.b[17]]);
    rec.set_data_runs(&runs[..split]);
    rec.write(img);
    let pos = record_pos(img, ext);
    let mut b = vec![0u8; 1024];
    b[..4].copy_from_slice(b"FILE");
    b[4..6].copy_from_slice(&0x30u16.to_le_bytes());
    b[6..8].copy_from_slice(&3u16.to_le_bytes());
    b[16..18].copy_from_slice(&1u16.to_le_bytes());
    b[0x14..0x16].copy_from_slice(&0x38u16.to_le_bytes());
    b[0x16..0x18].copy_from_slice(&1u16.to_le_bytes());
    b[0x1C..0x20].copy_from_slice(&1024u32.to_le_bytes());
    let reference = base | (u64::from(seq) << 48);
    b[0x20..0x28].copy_from_slice(&reference.to_le_bytes());
    b[0x28..0x2A].copy_from_slice(&1u16.to_le_bytes());
    // A non-resident, unnamed $DATA from the split's VCN; sizes only in the base's piece.
    let a = 0x38;
    let (first, _, _) = runs[split];
    let (lv, _, ln) = runs[runs.len() - 1];
    let pairs = encode_runs(&runs[split..]);
    let len = (0x40 + pairs.len()).div_ceil(8) * 8;
    b[a..a + 4].copy_from_slice(&0x80u32.to_le_bytes());
    b[a + 4..a + 8].copy_from_slice(&(len as u32).to_le_bytes());
    b[a + 8] = 1;
    b[a + 0x0A..a + 0x0C].copy_from_slice(&0x40u16.to_le_bytes());
    b[a + 0x10..a + 0x18].copy_from_slice(&first.to_le_bytes());
    b[a + 0x18..a + 0x20].copy_from_slice(&(lv + ln - 1).to_le_bytes());
    b[a + 0x20..a + 0x22].copy_from_slice(&0x40u16.to_le_bytes());
    b[a + 0x40..a + 0x40 + pairs.len()].copy_from_slice(&pairs);
    let end = a + len;
    b[end..end + 4].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    b[0x18..0x1C].copy_from_slice(&((end + 8) as u32).to_le_bytes());
    Record { pos, b }.write(img);
    set_bit(img, &record_runs(img, 0, "0xb0"), ext, true);
}
