//! The proxy mapping file: one `<id> <host>:<port>` line per live session.
//!
//! A reverse proxy in front of the sessions (Apache `RewriteMap txt:`, nginx map
//! generated from it, a small script) reads this file to route `…?sessionId=<id>` to
//! the session's server. It is rewritten whenever the set of sessions changes, and
//! **atomically**: the new content goes to a temporary file in the same folder which is
//! then renamed over the old one, so a reader sees either the old or the new list,
//! never a half-written one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes the mapping file (no file configured: nothing to do).
#[derive(Debug, Clone)]
pub struct ProxyFile {
    path: Option<PathBuf>,
}

impl ProxyFile {
    /// The file at `path`; an empty path disables it.
    pub fn new(path: &Path) -> ProxyFile {
        ProxyFile {
            path: (!path.as_os_str().is_empty()).then(|| path.to_owned()),
        }
    }

    /// The file, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Replaces the file's content with one line per `(id, host, port)`.
    pub fn write<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, &'a str, u16)>,
    ) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut text = String::new();
        for (id, host, port) in entries {
            text.push_str(&format!("{id} {host}:{port}\n"));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "proxy".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_whole_file() {
        let dir = std::env::temp_dir().join(format!("wslink-proxy-{}", std::process::id()));
        let path = dir.join("sub/proxy.txt");
        let file = ProxyFile::new(&path);
        file.write([("a", "127.0.0.1", 9100), ("b", "h", 9101)])
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "a 127.0.0.1:9100\nb h:9101\n"
        );
        file.write([]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        std::fs::remove_dir_all(dir).unwrap();
        ProxyFile::new(Path::new(""))
            .write([("x", "y", 1)])
            .unwrap();
    }
}
