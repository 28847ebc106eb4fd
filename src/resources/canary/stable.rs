//! The microservice a canary runs beside, read from AWS: the canary's
//! context on the shared driver. The canary reads its microservice's
//! settings back from AWS (the candidate is the stable service with another
//! image), so it needs nothing but the microservice's id.

use super::app_mesh_walk::Canary as AppMeshWalk;
use super::config::CanarySettings;
use super::ecs_native::NativeCanary;
use super::expand::EXTERNAL;
use crate::engine::Resolved;
use crate::resources::context::Configured;
use crate::resources::microservice::config::{MicroserviceConfig, Settings};
use crate::resources::microservice::expand::keys::SERVICE;
use crate::resources::microservice::expand::PlatformContext;
use crate::resources::microservice::platform_context::find_platform;
use crate::resources::microservice::read_existing;
use crate::service_mesh::ServiceMesh;
use crate::spec::ownership::OwnerToken;

/// What the canary needs to know about the microservice it points at.
pub struct Stable {
    pub platform: PlatformContext,
    pub settings: Settings,
    /// Ids of the microservice's components the candidate refers to.
    pub external: Resolved,
    /// The microservice's ECS service ARN and ownership token.
    pub service_arn: Option<String>,
    pub owner_token: Option<OwnerToken>,
}

impl Stable {
    /// The microservice of `canary` as it exists; `None` when it does not
    /// (deleted, or never created).
    pub async fn find(
        configured: &Configured,
        canary: &CanarySettings,
    ) -> Result<Option<Stable>, String> {
        let id = canary.microservice_id();
        let mut platform = find_platform(configured, &canary.platform)
            .await
            .map_err(|e| format!("Cannot find the platform of {id}: {e}"))?;
        let existing = match read_existing(&configured.clients, &platform, &canary.service).await {
            Ok(Some(e)) => e,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("Cannot read the microservice {id}: {e}")),
        };
        let settings = MicroserviceConfig::from_value(&existing.arguments.to_json())
            .map(|c| {
                Settings::resolve_unchecked(&c, configured.environment).on(configured.service_mesh)
            })
            .map_err(|e| format!("Cannot read the microservice {id}: {e}"))?;
        // Behind the load balancer the canary's alarms read its target
        // groups, on the load balancer the platform context then names.
        if settings.ingress.is_some() && platform.service_mesh == ServiceMesh::ServiceConnect {
            platform.ingress = Some(
                crate::resources::microservice::platform_ingress::find(configured, &settings)
                    .await
                    .map_err(|e| format!("Cannot read the microservice {id}: {e}"))?,
            );
        }
        Ok(Some(Stable {
            platform,
            settings,
            service_arn: existing.components.get(SERVICE).cloned(),
            owner_token: existing.owner_token.clone(),
            external: existing
                .components
                .into_iter()
                .filter(|(k, _)| EXTERNAL.contains(&k.as_str()))
                .collect(),
        }))
    }

    /// Whether the canary is an ECS-native deployment (service_connect)
    /// rather than an App Mesh walk.
    pub fn is_native(&self) -> bool {
        self.platform.service_mesh == ServiceMesh::ServiceConnect
    }

    /// The canary of `settings` on service_connect.
    pub fn native<'a>(
        &'a self,
        configured: &'a Configured,
        settings: &'a CanarySettings,
        token: Option<OwnerToken>,
    ) -> NativeCanary<'a> {
        NativeCanary {
            clients: &configured.clients,
            stable: &self.settings,
            platform: &self.platform,
            settings,
            service_arn: self.service_arn.clone().unwrap_or_default(),
            microservice_token: self.owner_token.clone(),
            token,
            external: self.external.clone(),
        }
    }

    /// The canary of `settings` beside this stable service, on App Mesh.
    pub fn app_mesh<'a>(
        &'a self,
        configured: &'a Configured,
        settings: &'a CanarySettings,
        token: Option<OwnerToken>,
    ) -> AppMeshWalk<'a> {
        AppMeshWalk {
            clients: &configured.clients,
            stable: &self.settings,
            platform: &self.platform,
            settings,
            external: self.external.clone(),
            token,
        }
    }
}
