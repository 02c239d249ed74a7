//! One test suite for every backend of the hub's store (feature `suite`): the SQLite
//! store's tests (`store/tests/suite.rs`) and the PostgreSQL store's
//! (`store-pg/tests/suite.rs`) run these same functions, so the two cannot drift.
//!
//! Each function takes a new, empty store through its interface (and, for the areas
//! that work on an agent's data, two agents from [`two_agents`]).

mod access;
mod agents;
mod conversations;
mod offers;

pub use access::access;
pub use agents::agents;
pub use conversations::conversations;
pub use offers::offers;

/// What the suite takes: the whole interface.
pub use crate::HubStore as Store;

/// Two new agents, for the areas that work on an agent's data.
pub fn two_agents(store: &dyn Store) -> [i64; 2] {
    [store.create_agent("zoe").unwrap().id, store.create_agent("max").unwrap().id]
}

use chrono::{DateTime, Utc};

/// A whole second, so every backend stores it exactly.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("a test time").with_timezone(&Utc)
}
