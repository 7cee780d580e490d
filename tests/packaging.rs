//! Packaging files agree with each other and with the app, and pass the freedesktop
//! validators (`desktop-file-validate` from desktop-file-utils, `appstreamcli` from appstream;
//! `.ci/run` installs both).

use std::path::{Path, PathBuf};
use std::process::Command;

const ID: &str = "io.github.seqbox.SeqBoxStudio";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str, package: &str) -> PathBuf {
    for d in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found: apt-get install {package} (the packaging tests run it)");
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn the_desktop_entry_is_valid_and_names_the_app_id_everywhere() {
    let file = root().join(format!("packaging/linux/{ID}.desktop"));
    let text = std::fs::read_to_string(&file).unwrap();
    let out = run_ok(Command::new(tool("desktop-file-validate", "desktop-file-utils")).arg(&file));
    assert!(!out.contains("error"), "{out}");
    for line in [
        format!("Icon={ID}"),
        format!("StartupWMClass={ID}"),
        "Exec=seqbox gui %F".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}");
    }
    // The running window uses the same id (WM_CLASS / Wayland app id).
    let gui = std::fs::read_to_string(root().join("src/gui/mod.rs")).unwrap();
    assert!(gui.contains(&format!("APP_ID: &str = \"{ID}\"")));
}

#[test]
fn the_appstream_metadata_is_valid() {
    let file = root().join(format!("packaging/linux/{ID}.metainfo.xml"));
    let out = run_ok(
        Command::new(tool("appstreamcli", "appstream"))
            .args(["validate", "--no-net"])
            .arg(&file),
    );
    assert!(out.contains("Validation was successful"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("<id>{ID}</id>")));
    assert!(text.contains(&format!(
        "<launchable type=\"desktop-id\">{ID}.desktop</launchable>"
    )));
}

#[test]
fn every_file_the_deb_installs_exists() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let deb = manifest
        .split("[package.metadata.deb]")
        .nth(1)
        .expect("cargo-deb metadata");
    let assets = deb
        .split("assets = [")
        .nth(1)
        .unwrap()
        .split("\n]")
        .next()
        .unwrap();
    let mut n = 0;
    for line in assets.lines().filter(|l| l.trim_start().starts_with("[\"")) {
        let src = line
            .trim()
            .trim_start_matches("[\"")
            .split('"')
            .next()
            .unwrap();
        n += 1;
        if src.starts_with("target/") {
            continue; // built by cargo deb
        }
        assert!(
            root().join(src).is_file(),
            "{src} is listed in the .deb but missing"
        );
        if src.contains("icon-") {
            let px = src
                .trim_start_matches("assets/icon-")
                .trim_end_matches(".png");
            assert!(line.contains(&format!("{px}x{px}/apps/{ID}.png")), "{line}");
        }
    }
    assert!(n >= 8, "binary, desktop entry, metainfo, icons: {n}");
}
