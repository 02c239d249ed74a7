//! The committed TypeScript bindings (`ui/src/bindings.ts`) must match the Rust types
//! and commands. `FANLINE_UPDATE_BINDINGS=1 cargo test -p fanline-desktop --test bindings`
//! rewrites them.

use std::path::Path;

#[test]
fn committed_bindings_are_current() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("bindings.ts");
    fanline_desktop::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    if std::env::var_os("FANLINE_UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &fresh).unwrap();
        return;
    }
    let old = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(
        old == fresh,
        "ui/src/bindings.ts is stale: the Rust commands or types changed. Regenerate it with\n  \
         FANLINE_UPDATE_BINDINGS=1 cargo test -p fanline-desktop --test bindings"
    );
}
