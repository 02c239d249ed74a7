//! Live events across hub processes: every change appended to the log is announced on
//! the `fanline_changes` channel (`pg_notify` in the writing transaction, delivered at
//! commit, in commit order) with its number. A process listening relays it to its own
//! SSE clients and desktops; a client that was away resumes from the last number it
//! saw with `changes_since`, so a notification lost with a dropped connection loses
//! nothing.

use crate::{Error, Result};
use futures::StreamExt;
use std::str::FromStr;
use tokio::sync::mpsc;

/// The channel changes are announced on.
pub const CHANNEL: &str = "fanline_changes";

/// A connection listening for changes.
pub struct Listener {
    rx: mpsc::UnboundedReceiver<i64>,
    _client: tokio_postgres::Client,
}

impl Listener {
    /// Listen on the database at `url` (its own connection, outside any pool).
    pub async fn connect(url: &str) -> Result<Listener> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| Error::Config(e.to_string()))?;
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if let Ok(seq) = n.payload().parse::<i64>() {
                            if tx.send(seq).is_err() {
                                return;
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("the listening connection failed: {e}");
                        return;
                    }
                }
            }
        });
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        Ok(Listener { rx, _client: client })
    }

    /// The next change's number; `None` once the connection is gone (resume with
    /// `changes_since` on a new one).
    pub async fn next(&mut self) -> Option<i64> {
        self.rx.recv().await
    }
}
