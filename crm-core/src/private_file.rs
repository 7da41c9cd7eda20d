//! Files that hold personal data or keys (exports, subject exports, backups, the erasure
//! receipts written beside a backup, import error files): created readable and writable by
//! their owner only (mode `0600`, folders `0700`), whatever the umask, and never through a
//! symbolic link that someone placed at the path beforehand.
//!
//! [`create`] opens the path without following a final symbolic link (`O_NOFOLLOW`),
//! refuses anything but a regular file with one link (a hard link could point at someone
//! else's file), sets the mode on the open file and only then empties it. Folders in the
//! path are the caller's choice and are followed as usual.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use std::io::Write as _;
//! use std::os::unix::fs::PermissionsExt as _;
//! let dir = std::env::temp_dir().join(format!("crm-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("contacts.csv");
//! let mut f = crm_core::private_file::create(&path)?;
//! writeln!(f, "name")?;
//! assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::Path;

/// The mode of a file that holds personal data or keys.
pub const FILE_MODE: u32 = 0o600;
/// The mode of a folder made for such files.
pub const DIR_MODE: u32 = 0o700;

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("refusing to write {}: {why}", path.display()),
    )
}

/// Creates (or replaces the contents of) the file at `path` for writing, mode `0600`.
///
/// Fails with [`io::ErrorKind::PermissionDenied`] when `path` is a symbolic link, not a
/// regular file (a FIFO, a device) or a file with more than one hard link; nothing is
/// written or truncated then.
pub fn create(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(FILE_MODE)
        // Not followed: a link planted at the path would send the data elsewhere.
        // Non-blocking: opening a FIFO without a reader fails instead of hanging.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                refused(path, "it is a symbolic link")
            } else if e.raw_os_error() == Some(libc::ENXIO) {
                refused(path, "it is not a regular file")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(refused(path, "it is not a regular file"));
    }
    if meta.nlink() > 1 {
        return Err(refused(path, "it has other hard links"));
    }
    // A file that existed keeps its mode on open: narrow it before anything is written.
    if meta.permissions().mode() & 0o7777 != FILE_MODE {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    file.set_len(0)?;
    Ok(file)
}

/// Like [`create`], but fails with [`io::ErrorKind::AlreadyExists`] when anything (also a
/// dangling symbolic link) is at `path` already (`O_CREAT | O_EXCL`).
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Creates the folder `path` (and its missing parents) for files that hold personal data:
/// the folder itself gets mode `0700`. An existing folder is used as it is; a symbolic link
/// at `path` is refused.
pub fn create_dir(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(refused(path, "it is a symbolic link")),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a folder", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            DirBuilder::new().mode(DIR_MODE).create(path)?;
            // The umask may have narrowed it further; never wider than 0700.
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE))
        }
        Err(e) => Err(e),
    }
}

/// Writes `contents` to `path` through [`create`].
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    use io::Write as _;
    let mut f = create(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn tempdir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "crm-private-file-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_and_existing_files_end_up_0600_and_emptied() {
        let d = tempdir();
        let p = d.join("new.csv");
        create(&p)
            .unwrap()
            .write_all(b"first, longer content")
            .unwrap();
        assert_eq!(mode(&p), 0o600);
        // An existing world-readable file is narrowed before it is written, and replaced.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        create(&p).unwrap().write_all(b"second").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        write(&d.join("w.json"), b"{}").unwrap();
        assert_eq!(mode(&d.join("w.json")), 0o600);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_planted_symlink_is_refused_and_its_target_untouched() {
        let d = tempdir();
        let victim = d.join("victim");
        std::fs::write(&victim, b"keep me").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = d.join("export.csv");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = create(&link).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert_eq!(mode(&victim), 0o644);
        // A dangling link creates nothing at its target either.
        let dangling = d.join("dangling.csv");
        std::os::unix::fs::symlink(d.join("not-there"), &dangling).unwrap();
        assert!(create(&dangling).is_err());
        assert!(create_new(&dangling).is_err());
        assert!(!d.join("not-there").exists());
        // A hard link to someone else's file is refused without truncating it.
        let hard = d.join("hard.csv");
        std::fs::hard_link(&victim, &hard).unwrap();
        assert!(create(&hard).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        // A symlink in place of a folder is refused too.
        let dir_link = d.join("bundle");
        std::os::unix::fs::symlink(&d, &dir_link).unwrap();
        assert!(create_dir(&dir_link).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn folders_are_made_0700_and_new_files_refuse_to_replace() {
        let d = tempdir();
        let sub = d.join("a").join("bundle");
        create_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        create_dir(&sub).unwrap();
        let p = sub.join("x");
        create_new(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(
            create_new(&p).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
