//! Packaging files agree with each other and with the app, and pass the freedesktop
//! validators (`desktop-file-validate` from desktop-file-utils, `appstreamcli` from appstream);
//! the SBX file type is recognised by a real MIME database (`update-mime-database` from
//! shared-mime-info, `xdg-mime` from xdg-utils with `mimetype` from libfile-mimeinfo-perl);
//! completions load in bash and man pages render (`groff` from groff-base). `.ci/run` installs
//! every tool named here.

use std::path::{Path, PathBuf};
use std::process::Command;

const ID: &str = "io.github.seqbox.SeqBoxStudio";
const MIME: &str = "application/x-sbx";

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
        format!("MimeType={MIME};"),
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
    // Where each shell, man and the MIME database look.
    for dest in [
        format!("usr/share/mime/packages/{ID}.xml"),
        "usr/share/icons/hicolor/scalable/mimetypes/application-x-sbx.svg".to_string(),
        "usr/share/bash-completion/completions/seqbox".to_string(),
        "usr/share/zsh/vendor-completions/_seqbox".to_string(),
        "usr/share/fish/vendor_completions.d/seqbox.fish".to_string(),
        "usr/share/man/man1/".to_string(),
    ] {
        assert!(
            assets.contains(&format!("\"{dest}\"")),
            "the .deb lacks {dest}"
        );
    }
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

fn seqbox(args: &[&str]) -> String {
    run_ok(Command::new(env!("CARGO_BIN_EXE_seqbox")).args(args))
}

fn seqbox_in(dir: &Path, args: &[&str]) -> String {
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_seqbox"))
            .args(args)
            .current_dir(dir)
            .env_remove("SEQBOX_PASSWORD"),
    )
}

/// The asset sources `packaging/linux/build-extras.sh` makes, from the .deb's list.
fn extras_in_the_deb() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    manifest
        .split('"')
        .filter(|s| s.starts_with("target/extras/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_sbx_file_type_is_recognised_by_content_and_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A private MIME database holding only ours (plus the system's, as on a desktop).
    let data = d.join("data");
    std::fs::create_dir_all(data.join("mime/packages")).unwrap();
    std::fs::copy(
        root().join(format!("packaging/linux/{ID}.mime.xml")),
        data.join(format!("mime/packages/{ID}.xml")),
    )
    .unwrap();
    run_ok(
        Command::new(tool("update-mime-database", "shared-mime-info"))
            .arg(data.join("mime"))
            .env("XDG_DATA_HOME", &data),
    );
    tool("mimetype", "libfile-mimeinfo-perl"); // what xdg-mime asks outside GNOME and KDE
    let query = |file: &Path| {
        let out = run_ok(
            Command::new(tool("xdg-mime", "xdg-utils"))
                .args(["query", "filetype"])
                .arg(file)
                .env("XDG_DATA_HOME", &data)
                .env_remove("XDG_CURRENT_DESKTOP")
                .env_remove("DESKTOP_SESSION")
                .env_remove("KDE_FULL_SESSION")
                .env_remove("GNOME_DESKTOP_SESSION_ID"),
        );
        out.trim().to_string()
    };
    let words = d.join("notes");
    std::fs::write(&words, b"just some words, no container").unwrap();
    std::fs::write(d.join("letter.txt"), vec![7u8; 3000]).unwrap();
    for v in ["1", "2", "3", "17", "18", "19"] {
        let sbx = d.join(format!("v{v}.sbx"));
        let path = sbx.to_str().unwrap();
        seqbox_in(d, &["encode", "--sbx-version", v, "-o", path, "letter.txt"]);
        assert_eq!(query(&sbx), MIME, "by name and content, version {v}");
        // Renamed without its extension: only the first block's header tells.
        let bare = d.join(format!("v{v}-backup"));
        std::fs::rename(&sbx, &bare).unwrap();
        assert_eq!(query(&bare), MIME, "by content alone, version {v}");
    }
    // A password hides the header: the name still tells.
    let hidden = d.join("hidden.ecsbx");
    seqbox_in(
        d,
        &[
            "encode",
            "--sbx-version",
            "1",
            "--password",
            "pw",
            "-o",
            "hidden.ecsbx",
            "letter.txt",
        ],
    );
    assert_eq!(query(&hidden), MIME, "by name alone");
    assert_ne!(query(&words), MIME, "an ordinary file is not ours");
    // "SBx" and a byte that is no version: not ours either.
    let almost = d.join("almost");
    std::fs::write(&almost, [b"SBx\x04".as_slice(), &[0u8; 508]].concat()).unwrap();
    assert_ne!(query(&almost), MIME);
}

#[test]
fn the_file_type_names_the_icon_the_deb_installs() {
    let xml =
        std::fs::read_to_string(root().join(format!("packaging/linux/{ID}.mime.xml"))).unwrap();
    assert!(xml.contains(&format!("<mime-type type=\"{MIME}\">")));
    assert!(xml.contains("<icon name=\"application-x-sbx\"/>"));
    for glob in ["*.sbx", "*.ecsbx"] {
        assert!(
            xml.contains(&format!("<glob pattern=\"{glob}\"/>")),
            "{glob}"
        );
    }
    let svg =
        std::fs::read_to_string(root().join("packaging/linux/application-x-sbx.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let meta =
        std::fs::read_to_string(root().join(format!("packaging/linux/{ID}.metainfo.xml"))).unwrap();
    assert!(meta.contains(&format!("<mediatype>{MIME}</mediatype>")));
}

#[test]
fn completions_name_the_commands_and_load_in_bash() {
    for shell in ["bash", "zsh", "fish"] {
        let script = seqbox(&["completions", shell]);
        for word in ["encode", "scan", "recover", "snapshot", "sbx-version"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    // bash: the script registers itself and completes a command from its first letters.
    let bin = env!("CARGO_BIN_EXE_seqbox");
    let out = run_ok(Command::new(tool("bash", "bash")).arg("-c").arg(format!(
        "source <('{bin}' completions bash) && complete -p seqbox && \
         COMP_WORDS=(seqbox rec) COMP_CWORD=1 COMP_LINE='seqbox rec' COMP_POINT=10 && \
         _seqbox seqbox rec seqbox && echo \"got: ${{COMPREPLY[*]}}\""
    )));
    assert!(out.contains("-F _seqbox seqbox"), "{out}");
    assert!(out.contains("got: recover"), "{out}");
    assert!(seqbox(&["completions", "zsh"]).starts_with("#compdef seqbox"));
    assert!(seqbox(&["completions", "fish"]).contains("complete -c seqbox"));
}

#[test]
fn man_pages_cover_every_command_and_render() {
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    seqbox(&["manpages", man.to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(&man)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for cmd in [
        "",
        "-encode",
        "-decode",
        "-info",
        "-check",
        "-repair",
        "-calc",
        "-scan",
        "-recover",
        "-catalog",
        "-snapshot",
        "-demo",
        "-gui",
        "-completions",
        "-manpages",
    ] {
        let page = format!("seqbox{cmd}.1");
        assert!(names.contains(&page), "no {page} in {names:?}");
    }
    assert!(
        names.iter().any(|n| n.starts_with("seqbox-snapshot-")),
        "{names:?}"
    );
    let groff = tool("groff", "groff-base");
    for (page, says) in [
        (
            "seqbox.1",
            "make files survive the loss of their file system",
        ),
        ("seqbox-scan.1", "--catalog"),
        ("seqbox-completions.1", "bash-completion"),
    ] {
        let out = Command::new(&groff)
            // Plain text (no overstrike), lines long enough not to break words.
            .args(["-k", "-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=300n"])
            .arg(man.join(page))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.is_empty(),
            "{page}: {warnings}"
        );
        // groff justifies lines: compare with spaces squeezed.
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(says), "{page} lacks {says:?}:\n{text}");
    }
}

/// The documented step before `cargo deb` writes exactly the completions and man pages the
/// .deb lists.
#[test]
fn build_extras_writes_what_the_deb_installs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("extras");
    run_ok(
        Command::new(tool("sh", "dash"))
            .arg(root().join("packaging/linux/build-extras.sh"))
            .arg(&out)
            .env("SEQBOX", env!("CARGO_BIN_EXE_seqbox")),
    );
    let listed = extras_in_the_deb();
    assert!(listed.len() >= 4, "{listed:?}");
    for src in listed {
        let rel = src.trim_start_matches("target/extras/");
        if let Some(prefix) = rel.strip_suffix("*.1") {
            let n = std::fs::read_dir(out.join(prefix)).unwrap().count();
            assert!(n > 10, "{n} man pages in {prefix}");
        } else {
            let f = out.join(rel);
            assert!(std::fs::metadata(&f).is_ok_and(|m| m.len() > 100), "{f:?}");
        }
    }
}
