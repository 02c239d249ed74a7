use std::path::{Path, PathBuf};

/// Every file under the given paths (files as given, folders walked recursively,
/// hidden entries skipped), sorted and without duplicates. Paths that do not exist are
/// returned as errors so the caller can report them.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_file() {
            files.push(p.clone());
            continue;
        }
        if !p.exists() {
            errors.push((p.clone(), "no such file or folder".to_string()));
            continue;
        }
        if !p.is_dir() {
            errors.push((p.clone(), format!("{}: only regular files and folders are imported", kind(p))));
            continue;
        }
        let walker = walkdir::WalkDir::new(p).follow_links(false).sort_by_file_name().into_iter();
        for entry in walker.filter_entry(|e| e.depth() == 0 || !is_hidden(e.path())) {
            match entry {
                Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                Ok(e) if e.file_type().is_dir() => {}
                Ok(e) => errors.push((e.path().to_path_buf(), format!("{}: not imported", kind(e.path())))),
                Err(e) => errors.push((e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone()), e.to_string())),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

/// What a path that is neither a regular file nor a folder is.
fn kind(p: &Path) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let Ok(m) = std::fs::symlink_metadata(p) else { return "unreadable" };
    let t = m.file_type();
    if t.is_symlink() {
        if std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            return "a symbolic link (not followed inside a folder; import its target directly)";
        }
        return "a symbolic link to something that is not a regular file";
    }
    if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn is_hidden(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_skips_hidden_and_reports_missing() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("sub/.git")).unwrap();
        std::fs::write(d.path().join("a.md"), "x").unwrap();
        std::fs::write(d.path().join("sub/b.txt"), "x").unwrap();
        std::fs::write(d.path().join("sub/.git/c.txt"), "x").unwrap();
        std::fs::write(d.path().join(".hidden.md"), "x").unwrap();
        let (files, errors) = collect_files(&[d.path().to_path_buf(), d.path().join("a.md"), d.path().join("nope")]);
        let names: Vec<_> =
            files.iter().map(|f| f.strip_prefix(d.path()).unwrap().to_string_lossy().to_string()).collect();
        assert_eq!(names, vec!["a.md", "sub/b.txt"]);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn pipes_devices_and_links_to_them_are_skipped_with_a_reason() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe.md");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        std::os::unix::fs::symlink("/dev/zero", d.path().join("zero.md")).unwrap();
        std::fs::write(d.path().join("ok.md"), "x").unwrap();
        let (files, errors) = collect_files(&[fifo.clone(), d.path().join("zero.md"), d.path().to_path_buf()]);
        assert_eq!(files, vec![d.path().join("ok.md")]);
        let said: Vec<String> = errors.iter().map(|(p, why)| format!("{}: {why}", p.display())).collect();
        assert_eq!(said.len(), 4, "{said:?}");
        assert!(said.iter().filter(|s| s.contains("named pipe")).count() == 2, "{said:?}");
        assert!(
            said.iter().filter(|s| s.contains("device") || s.contains("not a regular file")).count() == 2,
            "{said:?}"
        );
    }
}
