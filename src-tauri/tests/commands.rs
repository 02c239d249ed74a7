//! The commands through tauri's mock runtime: the real IPC path, no display needed.

use fanline_core::{Config, Fanline};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;

fn invoke(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // On Linux the IPC origin must be tauri://localhost or the call is refused as remote.
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn commands_call_the_library_and_errors_are_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    let fanline = Fanline::open(cfg).unwrap();
    fanline.init(None).unwrap();
    let kb = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/creator-kb/public");
    fanline.import(None, &[kb], fanline_engine::Layer::Public, &mut |_| {}).unwrap();

    let app = fanline_desktop::setup(mock_builder(), fanline).build(mock_context(noop_assets())).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

    let hits =
        invoke(&webview, "search", json!({ "query": "what does the workshop cost", "layer": "public", "limit": 2 }))
            .unwrap();
    assert!(hits[0]["heading"].as_str().unwrap().contains("workshop cost"), "{hits}");

    let docs = invoke(&webview, "documents", json!({})).unwrap();
    assert_eq!(docs.as_array().unwrap().len(), 5);

    let err = invoke(&webview, "search", json!({ "query": "   ", "layer": "public" })).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("empty"));

    let report = invoke(&webview, "doctor", json!({})).unwrap();
    assert_eq!(report["ok"], true, "{report}");
}
