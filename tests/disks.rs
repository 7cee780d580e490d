//! The attached disks as the disk picker lists them (issue 12, item 3), read from a fixture sysfs
//! tree (tests/data/sys, described in its README.md) and mount table (tests/data/sys.mountinfo);
//! and what checking a typed path says.

use seqbox::engine::disks::{self, Bus, Checked, Disk};
use std::path::{Path, PathBuf};

fn fixture() -> Vec<Disk> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    disks::list_in(&data.join("sys"), &data.join("sys.mountinfo"))
}

fn find<'a>(all: &'a [Disk], name: &str) -> &'a Disk {
    all.iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no {name} in {all:#?}"))
}

#[test]
fn every_disk_with_a_medium_is_listed_by_name() {
    let all = fixture();
    let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    // loop0 and the DVD drive are empty (size 0); zram0 is memory, not a disk.
    assert_eq!(names, ["loop1", "mmcblk0", "nvme0n1", "sda", "sdb"]);
}

#[test]
fn a_usb_stick_with_its_model_size_and_mounts() {
    let all = fixture();
    let sdb = find(&all, "sdb");
    assert_eq!(sdb.path, PathBuf::from("/dev/sdb"));
    assert_eq!(sdb.model, "SanDisk Cruzer Blade");
    assert_eq!(sdb.size, 15_633_408 * 512);
    assert_eq!(sdb.bus, Bus::Usb);
    assert_eq!(sdb.bus.word(), "USB");
    assert!(sdb.removable && !sdb.read_only);
    assert!(sdb.mounts.is_empty(), "the disk itself is not mounted");
    assert!(sdb.mounted());
    assert_eq!(sdb.partitions.len(), 1);
    let p = &sdb.partitions[0];
    assert_eq!(
        (p.name.as_str(), p.path.as_path(), p.size),
        ("sdb1", Path::new("/dev/sdb1"), 15_631_360 * 512)
    );
    assert_eq!(
        p.mounts,
        [
            PathBuf::from("/media/me/My Photos"),
            PathBuf::from("/mnt/again")
        ]
    );
}

#[test]
fn sata_nvme_card_and_image_buses_models_and_partitions() {
    let all = fixture();
    let sda = find(&all, "sda");
    assert_eq!(
        (sda.bus, sda.model.as_str()),
        (Bus::Ata, "WDC WD10EZEX-08W"),
        "the 'ATA' vendor says nothing and is left out"
    );
    assert!(!sda.removable && !sda.mounted());
    let parts: Vec<(&str, u64)> = sda
        .partitions
        .iter()
        .map(|p| (p.name.as_str(), p.size))
        .collect();
    assert_eq!(
        parts,
        [("sda1", 1_048_576 * 512), ("sda2", 1_952_474_112 * 512)]
    );

    let nvme = find(&all, "nvme0n1");
    assert_eq!(nvme.bus, Bus::Nvme);
    assert_eq!(nvme.model, "Samsung SSD 970 EVO Plus 500GB");
    let names: Vec<&str> = nvme.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["nvme0n1p1", "nvme0n1p2", "nvme0n1p10"]);
    assert_eq!(nvme.partitions[1].mounts, [PathBuf::from("/")]);
    assert_eq!(nvme.partitions[0].mounts, [PathBuf::from("/boot/efi")]);

    let card = find(&all, "mmcblk0");
    assert_eq!((card.bus, card.model.as_str()), (Bus::Mmc, "SD64G"));
    assert!(card.read_only);
    assert_eq!(
        card.partitions[0].mounts,
        [PathBuf::from("/media/me/card")],
        "matched by its /dev name when the device numbers differ"
    );

    let image = find(&all, "loop1");
    assert_eq!((image.bus, image.size), (Bus::Virtual, 2048 * 512));
    assert!(image.read_only && image.partitions.is_empty());
}

#[test]
fn missing_sys_or_mountinfo_gives_what_can_be_known() {
    let none = disks::list_in(Path::new("/nonexistent/sys"), Path::new("/nonexistent/m"));
    assert!(none.is_empty());
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let all = disks::list_in(&data.join("sys"), Path::new("/nonexistent/m"));
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|d| !d.mounted()));
}

#[test]
fn checking_a_typed_path() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    std::fs::write(&img, vec![0u8; 5000]).unwrap();
    assert_eq!(
        disks::check(&img),
        Checked::Readable {
            size: 5000,
            device: false
        }
    );
    assert_eq!(disks::check(&dir.path().join("nope")), Checked::Missing);
    assert_eq!(disks::check(dir.path()), Checked::Folder);
    // A device's size is where it ends (/dev/zero has none; /dev/null is empty).
    assert_eq!(
        disks::check(Path::new("/dev/null")),
        Checked::Readable {
            size: 0,
            device: true
        }
    );
    let secret = dir.path().join("secret.img");
    std::fs::write(&secret, b"x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&secret).is_ok() {
        eprintln!("skipped the unreadable case: running as root, every file can be read");
    } else {
        assert_eq!(disks::check(&secret), Checked::Denied);
    }
}

#[test]
fn the_exact_commands_for_read_access() {
    let c = disks::access_commands(Path::new("/dev/sdb"));
    assert_eq!(c.len(), 2);
    assert!(
        c[0].starts_with("sudo setfacl -m u:") && c[0].ends_with(":r /dev/sdb"),
        "{c:?}"
    );
    assert_eq!(c[1], "sudo seqbox gui /dev/sdb");
}
