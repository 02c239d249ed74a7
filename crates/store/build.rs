//! Embeds every `migrations/NNNN_name.sql` file of the workspace, in order, so a new
//! migration needs no code change and none can be forgotten.
//!
//! The SQL is written into the generated file itself, and the paths cargo watches are
//! relative (cargo resolves them against this package's root), because build outputs
//! are shared by every checkout that uses the same target directory: absolute paths
//! would tie this build to whichever checkout ran the script last.
use std::{env, fs, path::PathBuf};

const DIR: &str = "../../migrations";

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join(DIR);
    println!("cargo:rerun-if-changed={DIR}");
    let mut files: Vec<(u32, String, String)> = Vec::new();
    for entry in fs::read_dir(&dir).expect("read the migrations/ folder at the workspace root") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".sql") {
            continue;
        }
        println!("cargo:rerun-if-changed={DIR}/{name}");
        let version: u32 = name
            .split('_')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("migration {name} must be named NNNN_description.sql"));
        let sql = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {name}: {e}"));
        files.push((version, name, sql));
    }
    files.sort();
    for (i, (v, name, _)) in files.iter().enumerate() {
        assert_eq!(*v as usize, i + 1, "migrations must be numbered 1, 2, 3… without gaps ({name})");
    }
    let mut out =
        String::from("/// Every migration of `migrations/`, in order.\npub static MIGRATIONS: &[Migration] = &[\n");
    for (v, name, sql) in &files {
        out += &format!("    Migration {{ version: {v}, name: {name:?}, sql: {sql:?} }},\n");
    }
    out += "];\n";
    fs::write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("migrations.rs"), out).unwrap();
}
