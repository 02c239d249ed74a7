//! Fans: who writes to the creator, at which tier and layer.

use crate::{Error, Fanline, Result};
use fanline_engine::{Layer, Tier};
use fanline_store::Fan;
use fanline_store::HubAccess;

impl Fanline {
    /// Add a fan. A handle that exists is refused (`conflict`): changing what a fan
    /// may see is [`fan_set`](Self::fan_set), never a side effect of adding.
    pub fn fan_add(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        match self.store.insert_fan(handle, tier, layer) {
            Err(fanline_store::Error::Conflict { key, .. }) => Err(Error::Conflict(format!(
                "the fan {key:?} exists; change their tier or layer with `fanline fan set {key} --tier … --layer …`"
            ))),
            r => Ok(r?),
        }
    }

    /// Change an existing fan's tier and/or layer.
    pub fn fan_set(&self, handle: &str, tier: Option<Tier>, layer: Option<Layer>) -> Result<Fan> {
        if tier.is_none() && layer.is_none() {
            return Err(Error::InvalidInput("give --tier, --layer or both".into()));
        }
        Ok(self.store.update_fan(handle, tier, layer)?)
    }

    /// Every fan, by handle.
    pub fn fans(&self) -> Result<Vec<Fan>> {
        Ok(self.store.list_fans()?)
    }
}
