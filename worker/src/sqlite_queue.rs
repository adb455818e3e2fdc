//! A durable local queue in one SQLite file, for `paperchart watch`.
//!
//! Leases are timestamps: a message is visible when `visible_at <= now`. Every change is one
//! transaction in WAL mode, so a `kill -9` at any point leaves either the old or the new state;
//! a message whose worker died simply becomes visible again when its lease runs out. A message
//! received more than `max_receives` times goes to the dead letters, as an SQS redrive policy
//! would move it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use paperchart_core::queue::{JobQueue, Message, QueueError};

#[derive(Clone)]
pub struct SqliteQueue {
    conn: Arc<Mutex<Connection>>,
    max_receives: u32,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn storage(e: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable { op: "sqlite", detail: e.to_string() }
}

/// A dead letter: the message and why it could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadLetter {
    pub body: String,
    pub reason: String,
    pub receive_count: u32,
    pub failed_at_ms: i64,
}

impl SqliteQueue {
    pub fn open(path: &Path, max_receives: u32) -> Result<SqliteQueue, QueueError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(storage)?;
        }
        let conn = Connection::open(path).map_err(storage)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(storage)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS messages (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 dedup_key TEXT UNIQUE,
                 body TEXT NOT NULL,
                 visible_at INTEGER NOT NULL,
                 receive_count INTEGER NOT NULL DEFAULT 0,
                 receipt TEXT,
                 enqueued_at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS messages_visible ON messages (visible_at, id);
             CREATE TABLE IF NOT EXISTS dead_letters (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 body TEXT NOT NULL,
                 reason TEXT NOT NULL,
                 receive_count INTEGER NOT NULL,
                 failed_at INTEGER NOT NULL
             );",
        )
        .map_err(storage)?;
        Ok(SqliteQueue { conn: Arc::new(Mutex::new(conn)), max_receives })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| storage("queue lock poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(storage)?
    }

    /// Adds a message unless one with the same `dedup_key` was ever added (or is still queued).
    /// Returns whether it was added.
    pub async fn send_once(&self, body: &str, dedup_key: &str) -> Result<bool, QueueError> {
        let (body, key) = (body.to_string(), dedup_key.to_string());
        self.with(move |c| {
            let n = c
                .execute(
                    "INSERT OR IGNORE INTO messages (dedup_key, body, visible_at, enqueued_at) VALUES (?1, ?2, ?3, ?3)",
                    params![key, body, now_ms()],
                )
                .map_err(storage)?;
            Ok(n == 1)
        })
        .await
    }

    /// Forgets the finished messages whose `dedup_key` `keep` does not hold (a file version since
    /// replaced, a file gone from the folder): what was done stays remembered only while it can
    /// be sent again, so the queue does not grow with every file it ever saw. Returns how many
    /// were forgotten.
    pub async fn forget_done(&self, keep: impl Fn(&str) -> bool + Send + 'static) -> Result<usize, QueueError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(storage)?;
            let gone: Vec<i64> = {
                let mut st = tx
                    .prepare("SELECT id, dedup_key FROM messages WHERE visible_at = ?1 AND dedup_key IS NOT NULL")
                    .map_err(storage)?;
                let rows = st
                    .query_map(params![DONE], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                    .map_err(storage)?;
                let rows = rows.collect::<Result<Vec<_>, _>>().map_err(storage)?;
                rows.into_iter().filter(|(_, key)| !keep(key)).map(|(id, _)| id).collect()
            };
            for id in &gone {
                tx.execute("DELETE FROM messages WHERE id = ?1", params![id]).map_err(storage)?;
            }
            tx.commit().map_err(storage)?;
            Ok(gone.len())
        })
        .await
    }

    /// Messages waiting or in flight.
    pub async fn depth(&self) -> Result<usize, QueueError> {
        self.with(|c| {
            c.query_row("SELECT COUNT(*) FROM messages WHERE visible_at < ?1", params![DONE], |r| r.get::<_, i64>(0))
                .map(|n| n as usize)
                .map_err(storage)
        })
        .await
    }

    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, QueueError> {
        self.with(|c| {
            let mut st = c
                .prepare("SELECT body, reason, receive_count, failed_at FROM dead_letters ORDER BY id")
                .map_err(storage)?;
            let rows = st
                .query_map([], |r| {
                    Ok(DeadLetter {
                        body: r.get(0)?,
                        reason: r.get(1)?,
                        receive_count: r.get(2)?,
                        failed_at_ms: r.get(3)?,
                    })
                })
                .map_err(storage)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(storage)
        })
        .await
    }
}

/// Runs an update of the message held by `receipt`: exactly one row, or the lease is lost.
fn by_receipt(c: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<(), QueueError> {
    match c.execute(sql, params).map_err(storage)? {
        1 => Ok(()),
        _ => Err(QueueError::LeaseLost),
    }
}

/// Acknowledged messages keep their dedup key (an empty body, never visible) so the same file
/// version is not queued again; the row holds no document data.
const DONE: i64 = i64::MAX;

#[async_trait]
impl JobQueue for SqliteQueue {
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Message>, QueueError> {
        let max_receives = self.max_receives;
        self.with(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(storage)?;
            let now = now_ms();
            let rows: Vec<(i64, String, u32)> = {
                let mut st = tx
                    .prepare("SELECT id, body, receive_count FROM messages WHERE visible_at <= ?1 ORDER BY visible_at, id LIMIT ?2")
                    .map_err(storage)?;
                let rows = st.query_map(params![now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(storage)?;
                rows.collect::<Result<_, _>>().map_err(storage)?
            };
            let mut out = Vec::new();
            for (id, body, count) in rows {
                let count = count + 1;
                if count > max_receives {
                    tx.execute(
                        "INSERT INTO dead_letters (body, reason, receive_count, failed_at) VALUES (?1, ?2, ?3, ?4)",
                        params![body, format!("received {} times without success (worker.max_receives = {max_receives})", count - 1), count - 1, now],
                    )
                    .map_err(storage)?;
                    tx.execute("UPDATE messages SET visible_at = ?1, receipt = NULL, body = '' WHERE id = ?2", params![DONE, id]).map_err(storage)?;
                    continue;
                }
                let receipt = uuid::Uuid::new_v4().to_string();
                tx.execute(
                    "UPDATE messages SET receive_count = ?1, receipt = ?2, visible_at = ?3 WHERE id = ?4",
                    params![count, receipt, now + visibility.as_millis() as i64, id],
                )
                .map_err(storage)?;
                out.push(Message { id: id.to_string(), body, receipt, receive_count: count, attempts: 0 });
            }
            tx.commit().map_err(storage)?;
            Ok(out)
        })
        .await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        self.with(move |c| {
            // Only a lease still running can be extended: an expired one may be another worker's.
            let now = now_ms();
            by_receipt(
                c,
                "UPDATE messages SET visible_at = ?1 WHERE receipt = ?2 AND visible_at > ?3 AND visible_at < ?4",
                params![now + visibility.as_millis() as i64, receipt, now, DONE],
            )
        })
        .await
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        self.with(move |c| {
            by_receipt(
                c,
                "UPDATE messages SET visible_at = ?1, receipt = NULL, body = '' WHERE receipt = ?2",
                params![DONE, receipt],
            )
        })
        .await
    }

    async fn release(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let receipt = receipt.to_string();
        self.with(move |c| {
            by_receipt(
                c,
                "UPDATE messages SET visible_at = ?1, receipt = NULL WHERE receipt = ?2",
                params![now_ms() + delay.as_millis() as i64, receipt],
            )
        })
        .await
    }

    async fn send(&self, body: &str) -> Result<(), QueueError> {
        self.send_once(body, &uuid::Uuid::new_v4().to_string()).await.map(|_| ())
    }

    async fn dead_letter(&self, message: &Message, reason: &str) -> Result<(), QueueError> {
        let (receipt, reason) = (message.receipt.clone(), reason.to_string());
        self.with(move |c| {
            let tx = c.transaction().map_err(storage)?;
            let row: Option<(i64, String, u32)> = tx
                .query_row("SELECT id, body, receive_count FROM messages WHERE receipt = ?1", params![receipt], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(storage)?;
            let Some((id, body, count)) = row else { return Err(QueueError::LeaseLost) };
            tx.execute(
                "INSERT INTO dead_letters (body, reason, receive_count, failed_at) VALUES (?1, ?2, ?3, ?4)",
                params![body, reason, count, now_ms()],
            )
            .map_err(storage)?;
            tx.execute(
                "UPDATE messages SET visible_at = ?1, receipt = NULL, body = '' WHERE id = ?2",
                params![DONE, id],
            )
            .map_err(storage)?;
            tx.commit().map_err(storage)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn queue(max_receives: u32) -> (tempfile::TempDir, SqliteQueue) {
        let dir = tempfile::tempdir().unwrap();
        let q = SqliteQueue::open(&dir.path().join("q.sqlite"), max_receives).unwrap();
        (dir, q)
    }

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_leased_message_is_invisible_until_released() {
        let (_d, q) = queue(5).await;
        assert!(q.send_once("a", "k1").await.unwrap());
        assert!(!q.send_once("a", "k1").await.unwrap(), "same dedup key twice is one message");
        let got = q.receive(10, LONG).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].receive_count, 1);
        assert!(q.receive(10, LONG).await.unwrap().is_empty());
        q.release(&got[0].receipt, Duration::ZERO).await.unwrap();
        let again = q.receive(10, LONG).await.unwrap();
        assert_eq!(again[0].receive_count, 2);
        assert!(matches!(q.ack(&got[0].receipt).await, Err(QueueError::LeaseLost)), "old receipts are dead");
        q.ack(&again[0].receipt).await.unwrap();
        assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
        assert!(!q.send_once("a", "k1").await.unwrap(), "acknowledged keys are remembered");
    }

    #[tokio::test]
    async fn expired_leases_come_back_and_cannot_be_extended() {
        let (_d, q) = queue(5).await;
        q.send_once("a", "k").await.unwrap();
        let m = q.receive(1, Duration::from_millis(50)).await.unwrap().remove(0);
        q.extend(&m.receipt, Duration::from_millis(50)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(matches!(q.extend(&m.receipt, LONG).await, Err(QueueError::LeaseLost)));
        let m2 = q.receive(1, LONG).await.unwrap().remove(0);
        assert_eq!(m2.receive_count, 2);
    }

    #[tokio::test]
    async fn dead_letters_keep_the_reason() {
        let (_d, q) = queue(2).await;
        q.send_once("bad.pdf", "k1").await.unwrap();
        q.send_once("flaky.pdf", "k2").await.unwrap();
        let ms = q.receive(10, LONG).await.unwrap();
        q.dead_letter(&ms[0], "corrupt PDF").await.unwrap();
        // The flaky one fails twice; on the third delivery the redrive rule moves it.
        q.release(&ms[1].receipt, Duration::ZERO).await.unwrap();
        let m = q.receive(10, LONG).await.unwrap().remove(0);
        q.release(&m.receipt, Duration::ZERO).await.unwrap();
        assert!(q.receive(10, LONG).await.unwrap().is_empty());
        let dl = q.dead_letters().await.unwrap();
        assert_eq!(dl.len(), 2);
        assert_eq!((dl[0].body.as_str(), dl[0].reason.as_str()), ("bad.pdf", "corrupt PDF"));
        assert_eq!(dl[1].body, "flaky.pdf");
        assert!(dl[1].reason.contains("received 2 times"));
    }

    #[tokio::test]
    async fn finished_messages_are_forgotten_once_they_cannot_come_again() {
        let (_d, q) = queue(3).await;
        for key in ["a|1", "a|2", "b|1"] {
            assert!(q.send_once(key, key).await.unwrap());
        }
        for m in q.receive(3, Duration::from_secs(30)).await.unwrap() {
            if m.body != "b|1" {
                q.ack(&m.receipt).await.unwrap();
            }
        }
        // "a|1" was replaced by "a|2"; "b|1" is still in flight and stays whatever `keep` says.
        assert_eq!(q.forget_done(|k| k == "a|2").await.unwrap(), 1);
        assert!(!q.send_once("a|2", "a|2").await.unwrap(), "still remembered");
        assert!(q.send_once("a|1", "a|1").await.unwrap(), "forgotten: may be sent again");
        assert_eq!(q.forget_done(|_| false).await.unwrap(), 1);
        assert_eq!(q.depth().await.unwrap(), 2, "the waiting and the in-flight messages stay");
    }

    #[tokio::test]
    async fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.sqlite");
        {
            let q = SqliteQueue::open(&path, 5).unwrap();
            q.send_once("a", "k").await.unwrap();
            q.receive(1, Duration::from_millis(10)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let q = SqliteQueue::open(&path, 5).unwrap();
        let m = q.receive(1, LONG).await.unwrap();
        assert_eq!((m[0].body.as_str(), m[0].receive_count), ("a", 2));
    }
}
