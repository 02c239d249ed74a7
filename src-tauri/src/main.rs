#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let app = fanline_core::Config::load().and_then(fanline_core::Fanline::open).and_then(|app| {
        app.init(None)?;
        Ok(app)
    });
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("fanline: {e}");
            std::process::exit(1);
        }
    };
    fanline_desktop::desktop(app)
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Fanline window could not be opened");
}
