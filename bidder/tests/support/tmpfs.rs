//! A small tmpfs mounted for one test: a file system that really fills up
//! (`ENOSPC`), for the tests of what the bidder does when its disk is full.
//! Mounting needs root, as the tests have here and in CI.

use std::path::Path;
use std::process::Command;

/// A mounted tmpfs in a temporary directory; unmounted on drop, so drop whatever
/// holds files open in it (the bidder) first.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size_kib` KiB. `Err` with the reason when the test
    /// process is not root (the test should print it and skip); as root, a failed
    /// mount panics with mount's own message: it is a broken test machine, not a
    /// reason to skip.
    pub fn mount(size_kib: u64) -> Result<Tmpfs, String> {
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        if uid != 0 {
            return Err(format!(
                "mounting a tmpfs needs root and this test runs as uid {uid}"
            ));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount(8)");
        assert!(
            output.status.success(),
            "mount -t tmpfs on {} failed as root ({}): {}",
            dir.path().display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(Tmpfs { dir })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes an unprivileged writer could still write.
    pub fn free_bytes(&self) -> u64 {
        let path = std::ffi::CString::new(self.path().as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: an all-zero statvfs is a valid value for statvfs(3) to fill in.
        let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is NUL-terminated and `stat` is a valid, writable statvfs.
        let rc = unsafe { libc::statvfs(path.as_ptr(), &mut stat) };
        assert_eq!(rc, 0, "statvfs {}", self.path().display());
        stat.f_bavail as u64 * stat.f_frsize as u64
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process holds a file in it): detach it now, the kernel
            // frees it when the last file closes.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}
