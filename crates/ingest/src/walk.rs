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
        let walker = walkdir::WalkDir::new(p).follow_links(false).sort_by_file_name().into_iter();
        for entry in walker.filter_entry(|e| e.depth() == 0 || !is_hidden(e.path())) {
            match entry {
                Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
                Ok(_) => {}
                Err(e) => errors.push((e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone()), e.to_string())),
            }
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
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
}
