//! The desktop app's switch "Take messages from the web on this computer": whether the
//! hub runs inside the app. Off until the creator turns it on; kept in the data
//! directory, so the app starts as the creator left it.

use crate::{Fanline, Result};
use serde::Serialize;

const SETTING: &str = "desktop.serve_web";

/// Where fans reach the hub this computer runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WebServing {
    /// Whether the creator turned it on.
    pub on: bool,
    /// The address it listens on (`[hub] listen`).
    pub listen: String,
    /// The chat page fans open (`[hub] public_url`, with the site's key).
    pub chat_url: String,
    /// The key the creator's own web page gives the widget.
    pub site_key: String,
}

impl Fanline {
    /// The switch, and where fans would reach this computer.
    pub fn web_serving(&self) -> Result<WebServing> {
        let on = self.store.setting(SETTING)?.as_deref() == Some("on");
        let site = self.hub_site(None)?;
        let hub = &self.config.hub;
        Ok(WebServing {
            on,
            listen: hub.listen.clone(),
            chat_url: format!("{}/chat?site={}", hub.public_url.trim_end_matches('/'), site.site_key),
            site_key: site.site_key,
        })
    }

    /// Turn the switch on or off (the app starts or stops the server).
    pub fn set_web_serving(&self, on: bool) -> Result<WebServing> {
        self.store.set_setting(SETTING, on.then_some("on"))?;
        self.web_serving()
    }
}
