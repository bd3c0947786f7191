//! Files only the portal's user may read: the keys it makes for itself.

use std::path::Path;

/// Writes `bytes` to a new file at `path` with mode 0600 (on Unix); fails if the file exists,
/// so a key is never overwritten.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}
