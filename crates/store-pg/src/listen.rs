//! Live events across hub processes, on two channels (`pg_notify` in the writing
//! transaction, delivered at commit, in commit order):
//!
//! - [`CHANNEL`]: every change appended to the log, with its number, for desktops; a
//!   client that was away resumes from the last number it saw with `changes_since`;
//! - [`CONVERSATIONS`]: the conversation each added message belongs to (a trigger on
//!   `messages`, migration 0009), for fans' event streams, which then read from their
//!   cursor (`messages_after`).
//!
//! A process listening relays what it hears to its own clients; a notification lost
//! with a dropped connection loses nothing, since every reader resumes from a cursor.

use crate::{Error, Result};
use futures::StreamExt;
use std::str::FromStr;
use tokio::sync::mpsc;

/// The channel changes are announced on.
pub const CHANNEL: &str = "fanline_changes";

/// The channel conversations with a new message are announced on.
pub const CONVERSATIONS: &str = "fanline_conversations";

/// A connection listening for changes.
pub struct Listener {
    rx: mpsc::UnboundedReceiver<i64>,
    _client: tokio_postgres::Client,
}

impl Listener {
    /// Listen for changes on the database at `url` (its own connection, outside any pool).
    pub async fn connect(url: &str) -> Result<Listener> {
        Self::on(url, CHANNEL).await
    }

    /// Listen on `channel` ([`CHANNEL`] or [`CONVERSATIONS`]) of the database at `url`.
    pub async fn on(url: &str, channel: &str) -> Result<Listener> {
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
        if ![CHANNEL, CONVERSATIONS].contains(&channel) {
            return Err(Error::Invalid(format!("{channel:?} is not a channel Fanline announces on")));
        }
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        Ok(Listener { rx, _client: client })
    }

    /// The next number announced (a change's, or a conversation's); `None` once the
    /// connection is gone (resume from the cursor on a new one).
    pub async fn next(&mut self) -> Option<i64> {
        self.rx.recv().await
    }
}
