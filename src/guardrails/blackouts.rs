//! The blackout snapshot: every stored blackout, swapped whole after each
//! change, so a blackout applies to the very next request and scoring reads
//! it without touching the store.

use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use tokio::sync::Mutex;

use crate::core::model::Blackout;
use crate::store::{Store, StoreError};

/// Every stored blackout, as an immutable snapshot swapped after each change.
pub struct Blackouts {
    store: Arc<dyn Store>,
    snapshot: RwLock<Arc<Vec<Blackout>>>,
    /// Serialises changes so snapshots are swapped in commit order.
    writes: Mutex<()>,
}

impl Blackouts {
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let all = store.all_blackouts().await?;
        Ok(Self {
            store,
            snapshot: RwLock::new(Arc::new(all)),
            writes: Mutex::new(()),
        })
    }

    /// All blackouts, newest first (expired ones included).
    pub fn all(&self) -> Arc<Vec<Blackout>> {
        match self.snapshot.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Blackouts in force at `now`.
    pub fn active_at(&self, now: Timestamp) -> Vec<Blackout> {
        self.all()
            .iter()
            .filter(|b| b.is_active_at(now))
            .cloned()
            .collect()
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        let all = Arc::new(self.store.all_blackouts().await?);
        match self.snapshot.write() {
            Ok(mut g) => *g = all,
            Err(poisoned) => *poisoned.into_inner() = all,
        }
        Ok(())
    }

    /// Reloads the snapshot after another replica changed blackouts. On
    /// failure the last known snapshot stays in force.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _w = self.writes.lock().await;
        self.refresh().await
    }

    /// Stores a blackout; it applies to every request that starts after
    /// this returns.
    pub async fn create(&self, b: &Blackout) -> Result<(), StoreError> {
        let _w = self.writes.lock().await;
        self.store.insert_blackout(b).await?;
        self.refresh().await
    }

    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let _w = self.writes.lock().await;
        let deleted = self.store.delete_blackout(id).await?;
        self.refresh().await?;
        Ok(deleted)
    }
}
