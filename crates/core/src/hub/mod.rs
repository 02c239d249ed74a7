//! The hub's use cases (`fanline serve`): fans reaching the creator over HTTP, and the
//! creator's devices reaching the admin API. The HTTP server (`crates/server`) is a
//! thin shell over these functions, as the CLI and the desktop app are over the rest.

mod devices;
mod fans;
pub(crate) mod keys;
mod ops;
mod web;

pub use devices::{DeviceAuth, DeviceToken, Pairing, Scope};
pub use fans::{
    FanAnswer, FanAuth, FanDecision, FanOffer, FanOfferState, FanPosted, FanRefusal, FanSource, FanView, Identity,
    InviteLink, PostStatus, Revoked, Session, SessionRequest,
};
pub use keys::user_hash;
pub use ops::{Capabilities, CriticInfo, ModelStatus, PathInfo, Status, StepInfo};
pub use web::WebServing;
