//! Idempotency-Keys, unique per agent and fan across every hub process: the first
//! request with a key claims it; a retry gets the stored response, or "still in flight";
//! the same key with another request is refused (the IETF idempotency draft's 409 and
//! 422); a claim left without a response past its lease is taken over by the retry.

use crate::{PgStore, Result};

/// What a request with an Idempotency-Key may do.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is new: this request is the one to run.
    New,
    /// The key's request was run: send its response again.
    Done(serde_json::Value),
    /// The key's request is still running (409).
    InFlight,
    /// The key came with another request (422).
    Mismatch,
}

impl PgStore {
    /// Claim `key` for a request whose content hashes to `request_hash`. A claim with
    /// no response after `lease` is taken over: the process running it died, and the
    /// fan's retry must not be told "in flight" forever.
    pub async fn claim_idempotency(
        &self,
        agent_id: i64,
        fan_id: i64,
        key: &str,
        request_hash: &str,
        lease: std::time::Duration,
    ) -> Result<Claim> {
        let client = self.client().await?;
        let lease_ms = lease.as_millis().min(i64::MAX as u128) as i64;
        let claimed = client
            .query_opt(
                "INSERT INTO idempotency (agent_id, fan_id, key, request_hash) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (agent_id, fan_id, key) DO UPDATE SET claimed_at = now()
                 WHERE idempotency.response IS NULL AND idempotency.request_hash = excluded.request_hash
                   AND idempotency.claimed_at <= now() - make_interval(secs => $5::bigint / 1000.0)
                 RETURNING key",
                &[&agent_id, &fan_id, &key, &request_hash, &lease_ms],
            )
            .await?;
        if claimed.is_some() {
            return Ok(Claim::New);
        }
        let row = client
            .query_one(
                "SELECT request_hash, response FROM idempotency WHERE agent_id = $1 AND fan_id = $2 AND key = $3",
                &[&agent_id, &fan_id, &key],
            )
            .await?;
        let (hash, response): (String, Option<serde_json::Value>) = (row.get(0), row.get(1));
        Ok(match response {
            _ if hash != request_hash => Claim::Mismatch,
            Some(r) => Claim::Done(r),
            None => Claim::InFlight,
        })
    }

    /// Store the response of a claimed key's request.
    pub async fn finish_idempotency(
        &self,
        agent_id: i64,
        fan_id: i64,
        key: &str,
        response: &serde_json::Value,
    ) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE idempotency SET response = $4 WHERE agent_id = $1 AND fan_id = $2 AND key = $3",
                &[&agent_id, &fan_id, &key, response],
            )
            .await?;
        Ok(())
    }
}
