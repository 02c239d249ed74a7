#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let context = tauri::generate_context!("../tauri.conf.json");
    // An installed app (.deb) brings the model and ONNX Runtime in its resource folder.
    let bundled = tauri::utils::platform::resource_dir(context.package_info(), &tauri::Env::default())
        .map(|d| d.join("assets"))
        .ok();
    let app = fanline_core::Config::load().and_then(|mut config| {
        if let Some(assets) = &bundled {
            config.use_bundled_assets(assets);
        }
        let app = fanline_core::Fanline::open(config)?;
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
    fanline_desktop::desktop(app).run(context).expect("the Fanline window could not be opened");
}
