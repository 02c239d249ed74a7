//! `fanline export` and `fanline import-data` as typed.

mod common;

use common::{fanline, json};

#[test]
fn export_then_import_data_into_an_empty_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
    fanline(&from).args(["init"]).assert().success();
    json(&from, &["canonical", "add", "--question", "Do you have a literary agent?", "--answer", "Yes, Clara."]);
    let file = tmp.path().join("fanline.jsonl");
    let r = json(&from, &["export", file.to_str().unwrap()]);
    assert!(r["rows"].as_u64().unwrap() > 5, "{r}");
    let back = json(&to, &["import-data", file.to_str().unwrap()]);
    assert_eq!(back["rows"], r["rows"]);
    assert_eq!(json(&to, &["canonical", "list"]), json(&from, &["canonical", "list"]));
    // Not over data that is there.
    let err = common::json_err(&to, &["import-data", file.to_str().unwrap()]);
    assert_eq!(err["code"], "invalid_input", "{err}");
}
