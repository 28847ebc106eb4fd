//! What every resource works with once the provider is configured: the AWS
//! clients, the environment, the default tags, the backend and the
//! platforms found so far. `provider.rs` fills it; resources read it, and
//! never the provider itself.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use tf_provider::Diagnostics;

use crate::aws::Clients;
use crate::environment::Environment;
use crate::resources::microservice::platform::PlatformContext;
use crate::service_mesh::ServiceMesh;
use crate::spec::Tags;

/// What resources need once the provider is configured.
pub struct Configured {
    pub clients: Clients,
    pub environment: Environment,
    pub default_tags: Tags,
    /// `service_mesh`: which backend every resource of this configuration
    /// builds on.
    pub service_mesh: ServiceMesh,
    /// The platforms found so far: looked up once per provider process.
    pub platforms: std::sync::Arc<FoundPlatforms>,
    /// Whether a platform found earlier in this process is confirmed in
    /// AWS before it is used (see [`FoundPlatforms::get_confirmed`]). An
    /// apply or destroy builds on it, so it does; a refresh or a plan
    /// ([`Configured::remembering_reads`], [`Configured::planning`]) takes
    /// what this process found or read, so a plan of many microservices
    /// costs no call per microservice for their platform: what it builds
    /// on is confirmed again by the apply that acts on it.
    pub confirm_platforms: bool,
}

impl Configured {
    /// This configuration with other `default_tags`: a read compares AWS
    /// with the tags the state was applied with, not the ones configured now.
    pub fn with_default_tags(&self, default_tags: Tags) -> Configured {
        Configured {
            clients: self.clients.clone(),
            environment: self.environment,
            default_tags,
            service_mesh: self.service_mesh,
            platforms: self.platforms.clone(),
            confirm_platforms: self.confirm_platforms,
        }
    }

    /// This configuration for one refresh: its clients send each read once
    /// however many times the refresh asks for it (see
    /// [`crate::aws::read_memo`]).
    pub fn remembering_reads(&self) -> Configured {
        let mut configured = self.planning();
        configured.clients = configured.clients.remembering_reads();
        configured
    }

    /// This configuration for a plan (or a refresh): platforms found
    /// earlier in this process are taken as found, not confirmed (see
    /// [`Configured::confirm_platforms`]).
    pub fn planning(&self) -> Configured {
        let mut configured = self.with_default_tags(self.default_tags.clone());
        configured.confirm_platforms = false;
        configured
    }
}

/// Shared between the provider and its resources: filled by ConfigureProvider.
#[derive(Clone, Default)]
pub struct ProviderContext {
    configured: Arc<RwLock<Option<Arc<Configured>>>>,
}

impl ProviderContext {
    /// The configured provider, or an error diagnostic when Terraform calls a
    /// resource before ConfigureProvider (it never should).
    pub fn get(&self, diags: &mut Diagnostics) -> Option<Arc<Configured>> {
        let configured = self.configured.read().ok().and_then(|c| c.clone());
        if configured.is_none() {
            diags.root_error_short("the matbakh provider is not configured yet");
        }
        configured
    }

    /// Filled once ConfigureProvider succeeded.
    pub fn set(&self, configured: Configured) {
        if let Ok(mut slot) = self.configured.write() {
            *slot = Some(Arc::new(configured));
        }
    }
}

/// The platforms found in this provider process, by id. Only what was found
/// is kept (a platform created later in the same run is looked up again);
/// concurrent lookups of one platform wait for the first instead of all
/// asking AWS.
///
/// A platform found earlier may since have been deleted or recreated behind
/// this process's back (by another state, by hand): a recreated platform
/// has a new namespace, and a microservice built on the old one would fail
/// half way through its apply (NamespaceNotFound). So a platform served
/// from here is confirmed first ([`FoundPlatforms::get_confirmed`]): one
/// cheap round, shared by every lookup that was waiting for it; when it is
/// gone or different it is forgotten and looked up again, once.
#[derive(Default)]
pub struct FoundPlatforms {
    by_id: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<Option<Entry>>>>>,
}

/// A platform found, and when AWS last confirmed it.
struct Entry {
    platform: PlatformContext,
    confirmed_at: Instant,
}

/// What confirming a platform found earlier says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// It is still there, as found.
    Same,
    /// Gone or not the one found (why, for the log and the error).
    Stale(String),
}

impl FoundPlatforms {
    fn slot(&self, id: &str) -> Arc<tokio::sync::Mutex<Option<Entry>>> {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id.entry(id.to_string()).or_default().clone()
    }

    /// The platform `id`, from `lookup` the first time it is found, never
    /// confirmed again (for callers that need no AWS call at all).
    pub async fn get_or_find<F, Fut>(&self, id: &str, lookup: F) -> Result<PlatformContext, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<PlatformContext, String>>,
    {
        self.get_confirmed(id, lookup, |_| async { Ok(Confirmation::Same) })
            .await
    }

    /// The platform `id`: from `lookup` the first time; afterwards what was
    /// found, once `confirm` says it is still the same. A confirmation that
    /// finished after this call arrived counts (concurrent lookups share one
    /// round). When it is stale the entry is forgotten and `lookup` asked
    /// once more: the platform recreated is found, a platform deleted is an
    /// error saying so. A confirmation that fails (AWS did not answer) serves
    /// what was found.
    pub async fn get_confirmed<F, Fut, C, CFut>(
        &self,
        id: &str,
        lookup: F,
        confirm: C,
    ) -> Result<PlatformContext, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<PlatformContext, String>>,
        C: FnOnce(PlatformContext) -> CFut,
        CFut: Future<Output = Result<Confirmation, String>>,
    {
        let arrived = Instant::now();
        let slot = self.slot(id);
        let mut found = slot.lock().await;
        let mut stale = None;
        if let Some(entry) = found.as_mut() {
            if entry.confirmed_at > arrived {
                return Ok(entry.platform.clone());
            }
            match confirm(entry.platform.clone()).await {
                Ok(Confirmation::Same) => {
                    entry.confirmed_at = Instant::now();
                    return Ok(entry.platform.clone());
                }
                // AWS did not answer (throttled past the retries, a
                // network fault): what was found stands; the operation's
                // own calls meet whatever is wrong with AWS.
                Err(why) => {
                    tracing::warn!(
                        platform = id,
                        "could not confirm the platform found earlier ({why}); using it as found"
                    );
                    return Ok(entry.platform.clone());
                }
                Ok(Confirmation::Stale(why)) => {
                    tracing::info!(
                        platform = id,
                        "the platform found earlier in this process is {why}: looking it up again"
                    );
                    *found = None;
                    stale = Some(why);
                }
            }
        }
        let platform = lookup().await.map_err(|e| match &stale {
            Some(why) => format!("the platform found earlier is {why}; looked up again: {e}"),
            None => e,
        })?;
        *found = Some(Entry {
            platform: platform.clone(),
            confirmed_at: Instant::now(),
        });
        Ok(platform)
    }

    /// What the platform's own read found: later lookups in this process
    /// need not ask AWS. Left alone while a lookup of it is under way.
    pub fn remember(&self, id: &str, platform: PlatformContext) {
        let slot = self.slot(id);
        let free = slot.try_lock();
        if let Ok(mut found) = free {
            *found = Some(Entry {
                platform,
                confirmed_at: Instant::now(),
            });
        };
    }

    /// Look platform `id` up again next time (it was created, changed or
    /// deleted by this process).
    pub fn forget(&self, id: &str) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id.remove(id);
    }
}
