//! Who is asking: a fan's bearer token (the fan API) or a device's (the admin API).
//! Identity is never taken from a request's body.

use crate::error::{blocking, ApiError};
use crate::state::Hub;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use fanline_core::hub::{DeviceAuth, FanAuth};
use fanline_core::ErrorCode;

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn missing(what: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, format!("send Authorization: Bearer <{what}>"))
}

/// A fan, by their token.
pub struct Fan(pub FanAuth);

impl FromRequestParts<Hub> for Fan {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| missing("fan token"))?.to_string();
        let app = hub.app.clone();
        Ok(Fan(blocking(move || app.fan_auth(&token)).await?))
    }
}

/// One of the creator's devices, by its token.
pub struct Device(pub DeviceAuth);

impl FromRequestParts<Hub> for Device {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| missing("device token"))?.to_string();
        let app = hub.app.clone();
        Ok(Device(blocking(move || app.device_auth(&token)).await?))
    }
}
