//! Where a command's password comes from: `--password` (seen by every user through the
//! process list), `--password-file FILE` (`-` is standard input) or the `SEQBOX_PASSWORD`
//! variable, in that order. Never prints a password.

use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The variable read when neither option is given.
pub const ENV: &str = "SEQBOX_PASSWORD";

/// The password options every command that takes one flattens in.
#[derive(Args, Debug, Default)]
pub struct PasswordArgs {
    /// Password of SeqBox v1–3 containers (SeqBox's XOR transform, not encryption). Other
    /// users can read it in the process list: prefer --password-file or SEQBOX_PASSWORD.
    #[arg(long, value_name = "PW", conflicts_with = "password_file")]
    pub password: Option<String>,
    /// Read the password from FILE (`-`: standard input); one trailing newline is dropped.
    /// Without either option, the SEQBOX_PASSWORD variable is used when set.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl PasswordArgs {
    /// The password to use, if any. Errors are usage errors: a password file that cannot
    /// be read, one that is not UTF-8, or an empty password given on purpose.
    pub fn resolve(&self) -> Result<Option<String>, String> {
        let env = std::env::var_os(ENV).filter(|v| !v.is_empty());
        let password = if let Some(p) = &self.password {
            Some(p.clone())
        } else if let Some(f) = &self.password_file {
            Some(read_file(f)?)
        } else if let Some(v) = env {
            Some(
                v.into_string()
                    .map_err(|_| format!("{ENV} is not valid UTF-8"))?,
            )
        } else {
            None
        };
        if password.as_deref() == Some("") {
            return Err("the password must not be empty".into());
        }
        Ok(password)
    }
}

impl PasswordArgs {
    /// The password comes from the environment only: it was set for some containers, so one
    /// stored without a password is opened without it rather than refused.
    pub fn only_from_env(&self) -> bool {
        self.password.is_none()
            && self.password_file.is_none()
            && std::env::var_os(ENV).is_some_and(|v| !v.is_empty())
    }
}

/// Run `job` with `password`; when the password came from `SEQBOX_PASSWORD` and the
/// container turns out to have none, run it again without.
pub fn env_fallback<R>(
    password: &Option<String>,
    from_env: bool,
    mut job: impl FnMut(Option<String>) -> Result<R, seqbox::engine::Error>,
) -> Result<R, seqbox::engine::Error> {
    match job(password.clone()) {
        Err(seqbox::engine::Error::NoPassword { .. }) if from_env => job(None),
        r => r,
    }
}

/// The password in `path` (or standard input for `-`) without one trailing newline.
fn read_file(path: &Path) -> Result<String, String> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| format!("the password file {} is not valid UTF-8", path.display()))?;
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        for (content, want) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw\n\n", "pw\n"),
            ("pw", "pw"),
            (" pw \n", " pw "),
        ] {
            let f = d.path().join("p");
            std::fs::write(&f, content).unwrap();
            assert_eq!(read_file(&f).unwrap(), want, "{content:?}");
        }
        assert!(read_file(&d.path().join("none")).is_err());
    }
}
