//! Making a store's directory entries durable. A file or directory a backend creates is
//! durable only once its directory is synced (the power-loss model in the README); not every
//! backend syncs the directories it creates its files in, so the KV layer does, once, when it
//! opens a store.

use std::path::Path;

/// Syncs `dir` and every directory under it (not following symlinks), so that every name in
/// them survives a power loss. Returns the number of directories synced.
pub fn sync_tree(dir: &Path) -> std::io::Result<usize> {
    walk(dir, false)
}

/// [`sync_tree`], and every file under `dir` synced first (a tree written without syncs,
/// e.g. a copied store, made durable as a whole). Returns the number of directories synced.
pub fn sync_tree_and_files(dir: &Path) -> std::io::Result<usize> {
    walk(dir, true)
}

fn walk(dir: &Path, files: bool) -> std::io::Result<usize> {
    let mut todo = vec![dir.to_path_buf()];
    let mut synced = 0;
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                todo.push(entry.path());
            } else if files && kind.is_file() {
                std::fs::File::open(entry.path())?.sync_all()?;
            }
        }
        std::fs::File::open(&d)?.sync_all()?;
        synced += 1;
    }
    Ok(synced)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_directory_is_synced() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join("a/f"), b"x").unwrap();
        assert_eq!(super::sync_tree(d.path()).unwrap(), 3);
        assert!(super::sync_tree(&d.path().join("missing")).is_err());
        assert_eq!(super::sync_tree_and_files(d.path()).unwrap(), 3);
    }
}
