//! What every resource works with once the provider is configured: the AWS
//! clients, the environment, the default tags, the backend and the
//! platforms found so far. `provider.rs` fills it; resources read it, and
//! never the provider itself.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

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
        }
    }

    /// This configuration for one refresh: its clients send each read once
    /// however many times the refresh asks for it (see
    /// [`crate::aws::read_memo`]).
    pub fn remembering_reads(&self) -> Configured {
        let mut configured = self.with_default_tags(self.default_tags.clone());
        configured.clients = configured.clients.remembering_reads();
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
#[derive(Default)]
pub struct FoundPlatforms {
    by_id: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<Option<PlatformContext>>>>>,
}

impl FoundPlatforms {
    /// The platform `id`, from `lookup` the first time it is found.
    pub async fn get_or_find<F, Fut>(&self, id: &str, lookup: F) -> Result<PlatformContext, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<PlatformContext, String>>,
    {
        let slot = {
            let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
            by_id.entry(id.to_string()).or_default().clone()
        };
        let mut found = slot.lock().await;
        if let Some(platform) = found.as_ref() {
            return Ok(platform.clone());
        }
        let platform = lookup().await?;
        *found = Some(platform.clone());
        Ok(platform)
    }

    /// What the platform's own read found: later lookups in this process
    /// need not ask AWS. Left alone while a lookup of it is under way.
    pub fn remember(&self, id: &str, platform: PlatformContext) {
        let slot = {
            let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
            by_id.entry(id.to_string()).or_default().clone()
        };
        let free = slot.try_lock();
        if let Ok(mut found) = free {
            *found = Some(platform);
        };
    }

    /// Look platform `id` up again next time (it was created, changed or
    /// deleted by this process).
    pub fn forget(&self, id: &str) {
        let mut by_id = self.by_id.lock().unwrap_or_else(|p| p.into_inner());
        by_id.remove(id);
    }
}
