//! The disks attached to this computer, as a person would pick one: model, size, bus (USB,
//! SATA…), removable, partitions and where they are mounted — read from a sysfs tree and a
//! mountinfo file (parameters, so tests use fixtures) — and whether this user may read a
//! device, with the exact way to get read access when not.
//! Only ever reads /sys and /proc, and opens devices read-only without reading them: never
//! writes, never prints, never imports a GUI.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// How a disk is attached, from its device path in sysfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bus {
    Usb,
    Ata,
    Nvme,
    Virtio,
    Mmc,
    Scsi,
    /// Loop devices (an attached image) and other virtual ones.
    Virtual,
    Other,
}

impl Bus {
    /// The word people know it by.
    pub fn word(self) -> &'static str {
        match self {
            Bus::Usb => "USB",
            Bus::Ata => "SATA",
            Bus::Nvme => "NVMe",
            Bus::Virtio => "virtual disk",
            Bus::Mmc => "memory card",
            Bus::Scsi => "SCSI",
            Bus::Virtual => "image",
            Bus::Other => "disk",
        }
    }
}

/// A partition of a disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    /// `/dev/NAME`.
    pub path: PathBuf,
    pub size: u64,
    /// Where it is mounted (empty when not).
    pub mounts: Vec<PathBuf>,
}

/// A whole disk (`/sys/block/NAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    pub name: String,
    /// `/dev/NAME`.
    pub path: PathBuf,
    /// Vendor and model as the device says, trimmed ("" when it says nothing).
    pub model: String,
    pub size: u64,
    pub bus: Bus,
    pub removable: bool,
    pub read_only: bool,
    /// Where the whole disk is mounted (a disk without a partition table).
    pub mounts: Vec<PathBuf>,
    pub partitions: Vec<Partition>,
}

impl Disk {
    /// Whether it or any of its partitions is mounted.
    pub fn mounted(&self) -> bool {
        !self.mounts.is_empty() || self.partitions.iter().any(|p| !p.mounts.is_empty())
    }
}

/// The disks of this computer (`/sys`, `/proc/self/mountinfo`).
pub fn list() -> Vec<Disk> {
    list_in(Path::new("/sys"), Path::new("/proc/self/mountinfo"))
}

/// The disks described by the sysfs tree at `sys` and the mount table `mountinfo`, by name.
/// RAM disks, and devices with no medium (size 0), are left out.
pub fn list_in(sys: &Path, mountinfo: &Path) -> Vec<Disk> {
    let mounts = std::fs::read_to_string(mountinfo)
        .map(|t| parse_mountinfo(&t))
        .unwrap_or_default();
    let Ok(dir) = std::fs::read_dir(sys.join("block")) else {
        return Vec::new();
    };
    let root = sys.canonicalize().unwrap_or_else(|_| sys.to_path_buf());
    let mut disks: Vec<Disk> = dir
        .filter_map(Result::ok)
        .filter_map(|e| disk(&root, &e.path(), &e.file_name().to_string_lossy(), &mounts))
        .collect();
    disks.sort_by(|a, b| a.name.cmp(&b.name));
    disks
}

/// A mount: the device number and source it mounts, and where.
#[derive(Debug)]
struct Mount {
    dev: String,
    source: String,
    point: PathBuf,
}

fn disk(root: &Path, block: &Path, name: &str, mounts: &[Mount]) -> Option<Disk> {
    if name.starts_with("ram") || name.starts_with("zram") {
        return None;
    }
    let size = sectors(&block.join("size"))?;
    if size == 0 {
        return None;
    }
    let real = block.canonicalize().unwrap_or_else(|_| block.to_path_buf());
    let rel = real.strip_prefix(root).unwrap_or(&real);
    let model = [
        read(&block.join("device/vendor")),
        read(&block.join("device/model")),
    ]
    .into_iter()
    .flatten()
    // "ATA" and PCI vendor numbers ("0x1af4") say nothing to a person.
    .filter(|s| !s.is_empty() && s != "ATA" && !s.starts_with("0x"))
    .collect::<Vec<_>>()
    .join(" ");
    // Memory cards name themselves in `name`.
    let model = if model.is_empty() {
        read(&block.join("device/name")).unwrap_or_default()
    } else {
        model
    };
    let mut partitions: Vec<Partition> = std::fs::read_dir(block)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("partition").is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Some(Partition {
                path: dev_path(&name),
                size: sectors(&e.path().join("size"))?,
                mounts: mounted_at(mounts, &e.path(), &name),
                name,
            })
        })
        .collect();
    partitions.sort_by_cached_key(|p| natural(&p.name));
    Some(Disk {
        path: dev_path(name),
        model,
        size,
        bus: bus_of(&rel.to_string_lossy(), name),
        removable: read(&block.join("removable")).as_deref() == Some("1"),
        read_only: read(&block.join("ro")).as_deref() == Some("1"),
        mounts: mounted_at(mounts, block, name),
        partitions,
        name: name.to_string(),
    })
}

/// A name split into its text and trailing number, so sda2 sorts before sda10.
fn natural(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (text, num) = name.split_at(name.len() - digits);
    (text.to_string(), num.parse().unwrap_or(0))
}

fn dev_path(name: &str) -> PathBuf {
    // Names like "cciss!c0d0" stand for "cciss/c0d0".
    PathBuf::from("/dev").join(name.replace('!', "/"))
}

/// The bus from the device's path under /sys/devices (the nearest matters: a USB-SATA bridge
/// shows both, and the disk is USB to the person holding it).
fn bus_of(devpath: &str, name: &str) -> Bus {
    let parts: Vec<&str> = devpath.split('/').collect();
    let has = |p: &str| parts.iter().any(|c| c.starts_with(p));
    if has("usb") {
        Bus::Usb
    } else if has("mmc") || name.starts_with("mmcblk") {
        Bus::Mmc
    } else if has("nvme") || name.starts_with("nvme") {
        Bus::Nvme
    } else if has("ata") {
        Bus::Ata
    } else if has("virtio") {
        Bus::Virtio
    } else if parts.contains(&"virtual") || name.starts_with("loop") {
        Bus::Virtual
    } else if has("host") || has("target") {
        Bus::Scsi
    } else {
        Bus::Other
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// A sysfs `size` file (512-byte sectors whatever the device's sector size) in bytes.
fn sectors(path: &Path) -> Option<u64> {
    read(path)?.parse::<u64>().ok()?.checked_mul(512)
}

/// Mount points of the device whose sysfs directory is `dir`: by device number (`dev`), or by
/// `/dev/NAME` as the mount's source.
fn mounted_at(mounts: &[Mount], dir: &Path, name: &str) -> Vec<PathBuf> {
    let dev = read(&dir.join("dev")).unwrap_or_default();
    let source = dev_path(name).to_string_lossy().into_owned();
    mounts
        .iter()
        .filter(|m| (!dev.is_empty() && m.dev == dev) || m.source == source)
        .map(|m| m.point.clone())
        .collect()
}

/// `/proc/self/mountinfo`: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS…] - TYPE SOURCE SUPER".
fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|f| *f == "-")?;
            Some(Mount {
                dev: fields.get(2)?.to_string(),
                point: PathBuf::from(unescape(fields.get(4)?)),
                source: unescape(fields.get(dash + 2)?),
            })
        })
        .collect()
}

/// Mount table fields escape space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).and_then(|o| {
            let s = std::str::from_utf8(o).ok()?;
            u8::from_str_radix(s, 8).ok()
        });
        match (b[i], octal) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a typed or picked path is, once checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// It can be read: a regular file or a device, of this many bytes.
    Readable { size: u64, device: bool },
    /// It exists, but this user may not read it.
    Denied,
    /// Nothing is there.
    Missing,
    /// A folder, not a disk or an image.
    Folder,
    /// Something else went wrong, in words.
    Other(String),
}

/// Check `path` as a source: exists, may be read, its size. Opening a device reads nothing
/// from it, so this is quick even on a failing disk.
pub fn check(path: &Path) -> Checked {
    use std::io::{Seek, SeekFrom};
    // A disk handed over by UDisks2 is read through its descriptor, whatever the path says.
    if crate::engine::granted::is_granted(path)
        && let Ok(mut f) = crate::engine::granted::open(path)
    {
        let device = !f.metadata().is_ok_and(|m| m.is_file());
        let size = f.seek(SeekFrom::End(0)).unwrap_or(0);
        return Checked::Readable { size, device };
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Checked::Missing,
        Err(e) if e.kind() == ErrorKind::PermissionDenied => return Checked::Denied,
        Err(e) => return Checked::Other(e.to_string()),
    };
    if meta.is_dir() {
        return Checked::Folder;
    }
    match crate::engine::granted::open(path) {
        Ok(mut f) => {
            let device = !meta.is_file();
            // A device's size is where it ends; a file's is in its metadata.
            let size = if device {
                f.seek(SeekFrom::End(0)).unwrap_or(0)
            } else {
                meta.len()
            };
            Checked::Readable { size, device }
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => Checked::Denied,
        Err(e) if e.kind() == ErrorKind::NotFound => Checked::Missing,
        Err(e) => Checked::Other(e.to_string()),
    }
}

/// Whether UDisks2 runs on the system bus (it can hand out read-only access to a disk after
/// asking for the password, as GNOME Disks does).
pub fn udisks_running() -> bool {
    #[cfg(target_os = "linux")]
    return crate::engine::udisks::available();
    #[cfg(not(target_os = "linux"))]
    false
}

/// The exact commands that give this user read access to `device` (until it is unplugged), or
/// run the app with it as the administrator.
pub fn access_commands(device: &Path) -> Vec<String> {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty() && u.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)))
        .unwrap_or_else(|| "$USER".into());
    let dev = shell_quote(&device.to_string_lossy());
    vec![
        format!("sudo setfacl -m u:{user}:r {dev}"),
        format!("sudo seqbox gui {dev}"),
    ]
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.:+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_fields_and_escapes() {
        let m = parse_mountinfo(
            "36 25 8:17 / /media/me/My\\040Photos rw,nosuid shared:1 - vfat /dev/sdb1 rw\n\
             22 27 0:21 / /proc rw - proc proc rw\nbroken line\n",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].dev, "8:17");
        assert_eq!(m[0].source, "/dev/sdb1");
        assert_eq!(m[0].point, PathBuf::from("/media/me/My Photos"));
    }

    #[test]
    fn buses_from_device_paths() {
        let usb =
            "devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb";
        assert_eq!(bus_of(usb, "sdb"), Bus::Usb);
        let ata = "devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda";
        assert_eq!(bus_of(ata, "sda"), Bus::Ata);
        assert_eq!(
            bus_of("devices/pci0000:00/0000:00:02.0/virtio1/block/vda", "vda"),
            Bus::Virtio
        );
        assert_eq!(bus_of("devices/virtual/block/loop0", "loop0"), Bus::Virtual);
    }

    #[test]
    fn commands_are_quoted_for_the_shell() {
        let c = access_commands(Path::new("/dev/disk/by-label/My Photos"));
        assert!(
            c[1].ends_with("gui '/dev/disk/by-label/My Photos'"),
            "{c:?}"
        );
        assert_eq!(natural("sda10"), ("sda".into(), 10));
    }
}
