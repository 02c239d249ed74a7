//! Embeds every `migrations/NNNN_name.sql` file of the workspace, in order, so a new
//! migration needs no code change and none can be forgotten.
use std::{env, fs, path::PathBuf};

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../migrations");
    let dir = dir.canonicalize().expect("the migrations/ folder at the workspace root");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(u32, String, PathBuf)> = Vec::new();
    for entry in fs::read_dir(&dir).expect("read migrations/") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".sql") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let version: u32 = name
            .split('_')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("migration {name} must be named NNNN_description.sql"));
        files.push((version, name, path));
    }
    files.sort();
    for (i, (v, name, _)) in files.iter().enumerate() {
        assert_eq!(*v as usize, i + 1, "migrations must be numbered 1, 2, 3… without gaps ({name})");
    }
    let mut out =
        String::from("/// Every migration of `migrations/`, in order.\npub static MIGRATIONS: &[Migration] = &[\n");
    for (v, name, path) in &files {
        out += &format!(
            "    Migration {{ version: {v}, name: {name:?}, sql: include_str!({:?}) }},\n",
            path.display().to_string()
        );
    }
    out += "];\n";
    fs::write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("migrations.rs"), out).unwrap();
}
