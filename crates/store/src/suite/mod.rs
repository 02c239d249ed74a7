//! One test suite for every backend of the hub's store (feature `suite`): the SQLite
//! store's tests (`store/tests/suite.rs`) and the PostgreSQL store's
//! (`store-pg/tests/suite.rs`) run these same functions, so the two cannot drift.
//!
//! Each function takes the store through its interface and the ids of two agents the
//! caller created (agents are not yet part of the interface), on a store with no fans.

mod access;
mod conversations;
mod offers;

pub use access::access;
pub use conversations::conversations;
pub use offers::offers;

/// What the suite needs of a store: every area of the interface.
pub trait Store: crate::HubAccess + crate::Conversations + crate::Offers {}
impl<T: crate::HubAccess + crate::Conversations + crate::Offers + ?Sized> Store for T {}

use chrono::{DateTime, Utc};

/// A whole second, so every backend stores it exactly.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("a test time").with_timezone(&Utc)
}
