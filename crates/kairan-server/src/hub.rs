//! The Hub: which WebSocket connections on this node belong to which user. One task reads the
//! node's bus and hands each event only to its recipients' connections, so a node with many
//! idle connections does no work for events that are not theirs.
//!
//! A connection that cannot keep up (its queue is full) is dropped from the hub; its socket then
//! closes and the client resumes by sequence number, losing nothing. If the hub itself falls
//! behind the bus, every connection is dropped for the same reason.

use crate::realtime::Event;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Events queued per connection before it counts as too slow.
const QUEUE: usize = 1024;

/// One connection: its number on this node and its event queue.
type Conn = (u64, mpsc::Sender<Arc<Event>>);

#[derive(Default)]
pub struct Hub {
    users: Mutex<HashMap<String, Vec<Conn>>>,
    next: AtomicU64,
}

/// A connection's place in the hub; leaving it (drop) unregisters the connection.
pub struct Registration {
    hub: Arc<Hub>,
    user: String,
    id: u64,
    pub events: mpsc::Receiver<Arc<Event>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut users) = self.hub.users.lock()
            && let Some(list) = users.get_mut(&self.user)
        {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                users.remove(&self.user);
            }
        }
    }
}

impl Hub {
    /// Registers a connection of `user`. Call this before reading any backlog.
    pub fn register(self: &Arc<Self>, user: &str) -> Registration {
        let (tx, rx) = mpsc::channel(QUEUE);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut users) = self.users.lock() {
            users.entry(user.to_owned()).or_default().push((id, tx));
        }
        Registration {
            hub: self.clone(),
            user: user.to_owned(),
            id,
            events: rx,
        }
    }

    /// Connections open on this node.
    pub fn connections(&self) -> usize {
        self.users
            .lock()
            .map(|u| u.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// One shared copy of the event for all its connections: a message to a talk of 20 costs
    /// 20 reference counts, not 20 copies of its text.
    fn dispatch(&self, event: Arc<Event>) {
        let Ok(mut users) = self.users.lock() else {
            return;
        };
        for user in event.recipients.iter() {
            if let Some(list) = users.get_mut(user) {
                // A full or closed queue removes the connection: it will close and resume.
                list.retain(|(_, tx)| tx.try_send(event.clone()).is_ok());
            }
        }
    }

    /// Routes the bus's events until the bus closes.
    pub async fn run(self: Arc<Self>, mut bus: broadcast::Receiver<Event>) {
        loop {
            match bus.recv().await {
                Ok(event) => self.dispatch(Arc::new(event)),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "hub fell behind the bus; connections will resume"
                    );
                    if let Ok(mut users) = self.users.lock() {
                        users.clear();
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
