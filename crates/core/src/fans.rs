//! Fans: who writes to the creator, at which tier and layer.

use crate::{Fanline, Result};
use fanline_engine::{Layer, Tier};
use fanline_store::Fan;

impl Fanline {
    /// Add a fan, or change the tier and layer of an existing handle.
    pub fn fan_add(&self, handle: &str, tier: Tier, layer: Layer) -> Result<Fan> {
        Ok(self.store.upsert_fan(handle, tier, layer)?)
    }

    /// Every fan, by handle.
    pub fn fans(&self) -> Result<Vec<Fan>> {
        Ok(self.store.list_fans()?)
    }
}
