//! Asking UDisks2 (the disk service of most Linux desktops, on the system bus) to open a disk
//! read-only for a user who may not read it: polkit asks for the password, as GNOME Disks
//! does, and UDisks2 hands over the open file. Only mode "r" is ever asked for, and the file
//! handed back is checked to be that device and read-only before it is used.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use zbus::blocking::{Connection, Proxy};
use zbus::zvariant::{OwnedFd, OwnedObjectPath, Value};

const SERVICE: &str = "org.freedesktop.UDisks2";
const MANAGER: &str = "/org/freedesktop/UDisks2/Manager";

/// Whether UDisks2 runs on the system bus, or would be started when asked.
pub fn available() -> bool {
    let Ok(conn) = Connection::system() else {
        return false;
    };
    let Ok(bus) = zbus::blocking::fdo::DBusProxy::new(&conn) else {
        return false;
    };
    let name = zbus::names::BusName::try_from(SERVICE).expect("a valid bus name");
    bus.name_has_owner(name).unwrap_or(false)
        || bus
            .list_activatable_names()
            .is_ok_and(|names| names.iter().any(|n| n.as_str() == SERVICE))
}

/// Open `device` read-only through UDisks2 on the system bus.
pub fn open_read_only_system(device: &Path) -> Result<File, String> {
    let conn = Connection::system()
        .map_err(|e| format!("The disk service UDisks2 cannot be reached: {e}."))?;
    open_read_only(&conn, device)
}

/// Open `device` read-only through UDisks2 on `conn`; the error is one plain sentence.
pub fn open_read_only(conn: &Connection, device: &Path) -> Result<File, String> {
    let dev = device.to_str().ok_or_else(|| {
        format!(
            "{} has a name UDisks2 cannot be asked about.",
            device.display()
        )
    })?;
    let said = |e: zbus::Error| words(e, dev);
    let manager =
        Proxy::new(conn, SERVICE, MANAGER, "org.freedesktop.UDisks2.Manager").map_err(said)?;
    let spec = HashMap::from([("path", Value::from(dev))]);
    let none: HashMap<&str, Value> = HashMap::new();
    let objects: Vec<OwnedObjectPath> = manager
        .call("ResolveDevice", &(spec, &none))
        .map_err(said)?;
    let object = objects
        .into_iter()
        .next()
        .ok_or_else(|| format!("UDisks2 does not know {dev}."))?;
    let block = Proxy::new(conn, SERVICE, object, "org.freedesktop.UDisks2.Block").map_err(said)?;
    let fd: OwnedFd = block.call("OpenDevice", &("r", &none)).map_err(said)?;
    let file = File::from(std::os::fd::OwnedFd::from(fd));
    if !is_that_device(&file, device) {
        return Err(format!(
            "UDisks2 handed over something other than {dev}; it was not used."
        ));
    }
    if writable(&file) {
        return Err(format!(
            "UDisks2 opened {dev} for writing, not read-only; it was not used."
        ));
    }
    Ok(file)
}

/// The file handed over is the device asked for (or, for a regular file, the same file).
fn is_that_device(file: &File, device: &Path) -> bool {
    let (Ok(got), Ok(want)) = (file.metadata(), std::fs::metadata(device)) else {
        return false;
    };
    if want.file_type().is_block_device() || want.file_type().is_char_device() {
        got.rdev() == want.rdev()
    } else {
        got.dev() == want.dev() && got.ino() == want.ino()
    }
}

/// Whether the descriptor was opened for writing.
fn writable(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETFL only reads the flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
    flags < 0 || flags & libc::O_ACCMODE != libc::O_RDONLY
}

/// A D-Bus error in one sentence.
fn words(e: zbus::Error, dev: &str) -> String {
    if let zbus::Error::MethodError(name, detail, _) = &e {
        let name = name.as_str();
        if name.starts_with("org.freedesktop.UDisks2.Error.NotAuthorized") {
            return format!(
                "The system did not allow opening {dev} (the password was not given or not \
                 accepted)."
            );
        }
        if name == "org.freedesktop.DBus.Error.ServiceUnknown" {
            return "The disk service UDisks2 is not running.".into();
        }
        if let Some(d) = detail {
            return format!("UDisks2 could not open {dev}: {d}.");
        }
    }
    format!("UDisks2 could not open {dev}: {e}.")
}
