//! Opening a disk the user may not read through UDisks2: the D-Bus calls UDisks2 answers
//! (Manager.ResolveDevice, then Block.OpenDevice with mode "r"), played here by a fake UDisks2
//! on a private peer-to-peer connection that hands over a real file descriptor; and a scan, a
//! recovery and a snapshot reader that read a handed-over disk through that descriptor, never
//! by opening its path again.
#![cfg(target_os = "linux")]

mod common;

use common::scenario::*;
use common::*;
use seqbox::engine::{granted, udisks};
use seqbox::format::Version;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use zbus::zvariant::{OwnedFd, OwnedObjectPath, OwnedValue};

const OBJECT: &str = "/org/freedesktop/UDisks2/block_devices/sdz";

struct Manager {
    device: PathBuf,
}

#[zbus::interface(name = "org.freedesktop.UDisks2.Manager")]
impl Manager {
    fn resolve_device(
        &self,
        devspec: HashMap<String, OwnedValue>,
        _options: HashMap<String, OwnedValue>,
    ) -> Vec<OwnedObjectPath> {
        let asked: Option<String> = devspec
            .get("path")
            .and_then(|v| String::try_from(v.try_clone().ok()?).ok());
        if asked.as_deref() == self.device.to_str() {
            vec![OwnedObjectPath::try_from(OBJECT).unwrap()]
        } else {
            vec![]
        }
    }
}

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.freedesktop.UDisks2.Error")]
enum UdisksError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NotAuthorizedCanObtain(String),
}

/// What the fake does when asked to open the device.
#[derive(Clone, Copy)]
enum Answer {
    /// Hand over the file opened read-only.
    ReadOnly,
    /// Hand over the file opened for writing (a misbehaving service).
    Writable,
    /// The user closed the password dialog.
    Refused,
}

struct Block {
    device: PathBuf,
    answer: Answer,
    modes: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.freedesktop.UDisks2.Block")]
impl Block {
    fn open_device(
        &self,
        mode: String,
        _options: HashMap<String, OwnedValue>,
    ) -> Result<OwnedFd, UdisksError> {
        self.modes.lock().unwrap().push(mode);
        let file = match self.answer {
            Answer::ReadOnly => std::fs::File::open(&self.device).unwrap(),
            Answer::Writable => std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.device)
                .unwrap(),
            Answer::Refused => {
                return Err(UdisksError::NotAuthorizedCanObtain(
                    "Not authorized to perform operation".into(),
                ));
            }
        };
        Ok(OwnedFd::from(std::os::fd::OwnedFd::from(file)))
    }
}

/// A client connection to a fake UDisks2 that knows `device`; and the modes it was asked for.
fn fake_udisks(
    device: PathBuf,
    answer: Answer,
) -> (zbus::blocking::Connection, Arc<Mutex<Vec<String>>>) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    let modes = Arc::new(Mutex::new(Vec::new()));
    let m = modes.clone();
    let server = std::thread::spawn(move || {
        zbus::blocking::connection::Builder::unix_stream(theirs)
            .server(zbus::Guid::generate())
            .unwrap()
            .p2p()
            .serve_at(
                "/org/freedesktop/UDisks2/Manager",
                Manager {
                    device: device.clone(),
                },
            )
            .unwrap()
            .serve_at(
                OBJECT,
                Block {
                    device,
                    answer,
                    modes: m,
                },
            )
            .unwrap()
            .build()
            .unwrap()
    });
    let client = zbus::blocking::connection::Builder::unix_stream(ours)
        .p2p()
        .build()
        .unwrap();
    // The server connection must live as long as the client uses it.
    std::mem::forget(server.join().unwrap());
    (client, modes)
}

#[test]
fn udisks_hands_over_the_disk_read_only_and_it_reads_as_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("sdz");
    std::fs::write(&disk, b"the bytes of the disk").unwrap();
    let (conn, modes) = fake_udisks(disk.clone(), Answer::ReadOnly);
    let mut f = udisks::open_read_only(&conn, &disk).unwrap();
    let mut got = String::new();
    f.read_to_string(&mut got).unwrap();
    assert_eq!(got, "the bytes of the disk");
    assert_eq!(*modes.lock().unwrap(), vec!["r".to_string()]);

    // A device UDisks2 does not know is said so, and nothing is opened.
    let other = dir.path().join("sdy");
    std::fs::write(&other, b"x").unwrap();
    let e = udisks::open_read_only(&conn, &other).unwrap_err();
    assert_eq!(e, format!("UDisks2 does not know {}.", other.display()));
    assert_eq!(modes.lock().unwrap().len(), 1);
}

#[test]
fn a_refused_password_and_a_writable_handle_are_said_and_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("sdz");
    std::fs::write(&disk, b"disk").unwrap();
    let (conn, _) = fake_udisks(disk.clone(), Answer::Refused);
    let e = udisks::open_read_only(&conn, &disk).unwrap_err();
    assert_eq!(
        e,
        format!(
            "The system did not allow opening {} (the password was not given or not accepted).",
            disk.display()
        )
    );
    let (conn, _) = fake_udisks(disk.clone(), Answer::Writable);
    let e = udisks::open_read_only(&conn, &disk).unwrap_err();
    assert!(e.contains("for writing, not read-only"), "{e}");
}

#[test]
fn a_handed_over_disk_is_scanned_and_recovered_through_its_descriptor() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (data, sbx) = noise_container(d, "photo.jpg", 120_000, Version::V17, "c0c0");
    let mut img = noise(2 << 20, 9);
    img[300_001..300_001 + sbx.len()].copy_from_slice(&sbx);
    let real = d.join("real.img");
    std::fs::write(&real, &img).unwrap();
    // The path the user picked does not open by itself (here: nothing is there at all); only
    // the descriptor UDisks2 handed over reads it.
    let device = d.join("dev-sdz");
    let (conn, _) = fake_udisks(real.clone(), Answer::ReadOnly);
    granted::grant(&device, udisks::open_read_only(&conn, &real).unwrap());
    assert!(granted::is_granted(&device));

    let cat = d.join("c.sqlite");
    let r = scan_into(&cat, std::slice::from_ref(&device));
    assert_eq!(r.containers, 1, "{r:#?}");
    assert_eq!(r.sources[0].scanned_to, img.len() as u64, "{r:#?}");
    let out = recover_all(&cat, &d.join("out"), None);
    assert!(out.success(), "{out:#?}");
    assert!(recovered(&out, "photo.jpg") == data);

    // The disk picker's check reads its size through the descriptor too.
    assert_eq!(
        seqbox::engine::disks::check(&device),
        seqbox::engine::disks::Checked::Readable {
            size: img.len() as u64,
            device: false
        }
    );
}
