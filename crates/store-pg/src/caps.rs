//! Offers and their acceptance within the agent's caps, exact however many hub
//! processes accept at once.
//!
//! Each window (the creator's day, their ISO week; UTC instants from
//! `fanline_engine::caps::windows`) has a counter row. An acceptance raises the day's
//! row, then the week's, each with `UPDATE … SET used = used + 1 WHERE … AND used < cap`:
//! under READ COMMITTED a waiting UPDATE re-checks its WHERE on the row as the
//! committed transaction left it, so no two acceptances can both take the last place
//! (a count of accepted rows followed by an update can: 52 of 50 in the brief's run).
//! The rows are always raised in the same order (day, then week), so acceptances never
//! deadlock on them.

use crate::{Acceptance, CapCheck, Error, PgStore, Result};

impl PgStore {
    /// Offer an escalation to a fan (pending); returns its id.
    pub async fn offer_escalation(&self, agent_id: i64, fan_id: i64, question: &str) -> Result<i64> {
        let row = self
            .client()
            .await?
            .query_one(
                "INSERT INTO escalations (agent_id, fan_id, question) VALUES ($1, $2, $3) RETURNING id",
                &[&agent_id, &fan_id, &question],
            )
            .await?;
        Ok(row.get(0))
    }

    /// An escalation's status.
    pub async fn escalation_status(&self, id: i64) -> Result<String> {
        let row = self.client().await?.query_opt("SELECT status FROM escalations WHERE id = $1", &[&id]).await?;
        row.map(|r| r.get(0)).ok_or(Error::NotFound { what: "escalation", id })
    }

    /// The agent's pending offers, oldest first.
    pub async fn pending_offers(&self, agent_id: i64) -> Result<Vec<i64>> {
        let rows = self
            .client()
            .await?
            .query("SELECT id FROM escalations WHERE agent_id = $1 AND status = 'pending' ORDER BY id", &[&agent_id])
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// How many of the agent's offers were ever accepted.
    pub async fn accepted_count(&self, agent_id: i64) -> Result<u32> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM escalations WHERE agent_id = $1 AND accepted_at IS NOT NULL", &[&agent_id])
            .await?;
        Ok(row.get::<_, i64>(0) as u32)
    }

    /// Accept a pending offer if the agent's caps allow it. The check and the update
    /// are one transaction; however many acceptances race, from any number of
    /// processes, no more than the cap are accepted.
    pub async fn accept_escalation(&self, id: i64, cap: &CapCheck) -> Result<Acceptance> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt("SELECT agent_id, status FROM escalations WHERE id = $1 FOR UPDATE", &[&id])
            .await?
            .ok_or(Error::NotFound { what: "escalation", id })?;
        let (agent_id, status): (i64, String) = (row.get(0), row.get(1));
        if status != "pending" {
            return Err(Error::Invalid(format!("escalation {id} is {status}; only a pending offer can be accepted")));
        }
        let acceptance = take_place(&tx, agent_id, cap).await?;
        if !acceptance.accepted() {
            return Ok(acceptance);
        }
        tx.execute("UPDATE escalations SET status = 'accepted', accepted_at = $2 WHERE id = $1", &[&id, &cap.now])
            .await?;
        tx.commit().await?;
        Ok(acceptance)
    }
}

/// Take a place in the agent's day and week (inside the caller's transaction): the
/// counter rows raised, or, when a cap is reached, left as they were (a savepoint
/// undoes the day's raise when the week refuses) so the transaction may go on to
/// record the refusal.
pub(crate) async fn take_place(
    tx: &impl deadpool_postgres::GenericClient,
    agent_id: i64,
    cap: &CapCheck,
) -> Result<Acceptance> {
    tx.execute(
        "INSERT INTO cap_usage (agent_id, kind, window_start) VALUES ($1, 'day', $2), ($1, 'week', $3)
         ON CONFLICT DO NOTHING",
        &[&agent_id, &cap.day_start, &cap.week_start],
    )
    .await?;
    tx.batch_execute("SAVEPOINT cap_place").await?;
    let raise = "UPDATE cap_usage SET used = used + 1
                 WHERE agent_id = $1 AND kind = $2 AND window_start = $3 AND used < $4 RETURNING used";
    let used = "SELECT used FROM cap_usage WHERE agent_id = $1 AND kind = $2 AND window_start = $3";
    let (day_cap, week_cap) = (cap.max_per_day as i32, cap.max_per_week as i32);
    let Some(today) = tx.query_opt(raise, &[&agent_id, &"day", &cap.day_start, &day_cap]).await? else {
        let today: i32 = tx.query_one(used, &[&agent_id, &"day", &cap.day_start]).await?.get(0);
        tx.batch_execute("ROLLBACK TO SAVEPOINT cap_place").await?;
        return Ok(Acceptance::DailyCapReached { today: today as u32 });
    };
    let Some(week) = tx.query_opt(raise, &[&agent_id, &"week", &cap.week_start, &week_cap]).await? else {
        let this_week: i32 = tx.query_one(used, &[&agent_id, &"week", &cap.week_start]).await?.get(0);
        tx.batch_execute("ROLLBACK TO SAVEPOINT cap_place").await?;
        return Ok(Acceptance::WeeklyCapReached { this_week: this_week as u32 });
    };
    tx.batch_execute("RELEASE SAVEPOINT cap_place").await?;
    Ok(Acceptance::Accepted { today: today.get::<_, i32>(0) as u32, this_week: week.get::<_, i32>(0) as u32 })
}
