//! How tt creates and opens its own files: privately, without following planted links, never half-written.
//!
//! Invariants:
//! * **Temporary files have random names and are created exclusively** (`O_EXCL`, through the `tempfile`
//!   crate) in the directory of the file they replace, then renamed over it ([`write_atomic`],
//!   [`temp_in`]). A predictable name (`<file>.tmp<PID>`) would let anyone who can write in that directory (a
//!   shared volume, a CI workspace, `/tmp`) plant a symlink there and make tt truncate any file the user can
//!   write.
//! * **Side files tt appends to** (`<log>.torn`, `<log>.tt-history.jsonl`, `<log>.tt-holds`, the enforce index)
//!   are opened with `O_NOFOLLOW` ([`open_side`]): a symlink at their name is refused with an error naming it,
//!   never written through. The usage log itself may be a symlink the user made (a log on another volume), so
//!   it is opened normally.
//! * **Private by default**: files tt creates are `0600` ([`PRIVATE_FILE`]) and directories it creates for
//!   them `0700` ([`PRIVATE_DIR`]) — usage records name users, hosts, branches and notes. A file that already
//!   exists keeps its mode, so a shared team log is an opt-in: create the log (or an export target) with the
//!   wider mode first (`install -m 0664 /dev/null /team/usage.jsonl`), and tt appends to it as it is.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};

/// The mode of every file tt creates (an existing file keeps its own).
pub const PRIVATE_FILE: u32 = 0o600;

/// The mode of every directory tt creates for its files.
pub const PRIVATE_DIR: u32 = 0o700;

/// Create `dir` and its missing parents, each new one `0700` (existing ones are left as they are).
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(PRIVATE_DIR).create(dir)
}

/// Options for a file tt may create: new files are `0600`.
pub fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(PRIVATE_FILE);
    o
}

/// Open one of tt's side files with `opts` (created `0600` if `opts` creates), refusing to follow a symlink at
/// `path` (`O_NOFOLLOW`): a link there was planted, not made by tt.
pub fn open_side(path: &Path, opts: &mut OpenOptions) -> Result<File> {
    opts.mode(PRIVATE_FILE).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    opts.open(path).map_err(|e| side_error(path, e))
}

/// Open a side file for appending, creating it `0600`, never through a symlink.
pub fn append_side(path: &Path) -> Result<File> {
    open_side(path, OpenOptions::new().append(true).create(true))
}

/// The error for opening a side file: a symlink in its place is named as such.
fn side_error(path: &Path, e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(libc::ELOOP) && is_symlink(path) {
        return Error::new(
            Kind::Io,
            format!(
                "{}: is a symbolic link; tt does not write its own files through links (remove it if you did not make it)",
                path.display()
            ),
        );
    }
    Error::io(path.display(), e)
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The directory a file is in (`.` for a bare name).
pub fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// A new private (`0600`) temporary file with a random name beginning `.<name>.` in `dir`, created with
/// `O_EXCL`; it is removed when dropped unless persisted.
pub fn temp_in(dir: &Path, name: &str) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)
}

/// Replace `path` with `bytes` atomically: a private temporary file in its directory, renamed over it. A
/// symlink at `path` is replaced by the file, never followed. The new file is `0600`, or keeps the mode of the
/// file it replaces. Not synced: it is for tt's caches (index, offsets, holds), which a crash may only leave
/// old, never partial.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "tt".into());
    let p = path.display().to_string();
    let mut tmp = temp_in(dir_of(path), &name).map_err(|e| Error::io(&p, e))?;
    if let Ok(m) = std::fs::symlink_metadata(path)
        && m.is_file()
    {
        let _ = tmp.as_file().set_permissions(m.permissions());
    }
    tmp.write_all(bytes).map_err(|e| Error::io(&p, e))?;
    tmp.persist(path).map_err(|e| Error::io(&p, e.error))?;
    Ok(())
}

/// Follow `path` through symlinks (up to 40, like the kernel) to the path that is not one; it may not exist.
pub fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p).map_err(|e| Error::io(p.display(), e))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(Error::usage(format!("{}: too many levels of symbolic links", path.display())))
}

/// `path` with its links followed and its directory made canonical (the file itself need not exist).
fn normal(path: &Path) -> Option<PathBuf> {
    let real = resolve_links(path).ok()?;
    if let Ok(c) = real.canonicalize() {
        return Some(c);
    }
    let name = real.file_name()?;
    let dir = dir_of(&real).canonicalize().ok()?;
    Some(dir.join(name))
}

/// True when `a` and `b` name the same file: the same device and inode (through links and hard links), or,
/// when either does not exist yet, the same path once links are followed and directories made canonical.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => matches!((normal(a), normal(b)), (Some(x), Some(y)) if x == y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_file_sees_links_and_missing_files() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("usage.jsonl");
        std::fs::write(&log, "x\n").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&log, &link).unwrap();
        let hard = d.path().join("hard");
        std::fs::hard_link(&log, &hard).unwrap();
        assert!(same_file(&link, &log));
        assert!(same_file(&hard, &log));
        let missing = d.path().join("usage.jsonl.torn");
        let dangling = d.path().join("dangling");
        std::os::unix::fs::symlink(&missing, &dangling).unwrap();
        assert!(same_file(&dangling, &missing));
        assert!(!same_file(&d.path().join("other"), &log));
    }

    #[test]
    fn side_files_are_not_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let side = d.path().join("usage.jsonl.torn");
        std::os::unix::fs::symlink(&victim, &side).unwrap();
        let e = append_side(&side).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        write_atomic(&side, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&side).unwrap(), "new");
    }
}
