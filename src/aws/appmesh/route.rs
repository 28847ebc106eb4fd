//! App Mesh HTTP route. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::{client_token, duration, tags_of};
use super::object::{describe, find, mesh_api, MeshApi, MeshObject};
use super::route_read_back::fill_from;
use crate::aws::compare::json_differences;
use crate::aws::{AwsError, Clients, Found};
use crate::spec::appmesh::*;

impl RouteSpec {
    /// The SDK spec, routing to `targets` (this spec's own, or those a
    /// canary set).
    fn to_sdk_with(
        &self,
        call: &str,
        targets: &[WeightedTargetSpec],
    ) -> Result<mesh::RouteSpec, AwsError> {
        let b = |e| AwsError::build(call, e);
        let mut action = mesh::HttpRouteAction::builder();
        for t in targets {
            action = action.weighted_targets(
                mesh::WeightedTarget::builder()
                    .virtual_node(&t.virtual_node)
                    .weight(t.weight)
                    .build()
                    .map_err(b)?,
            );
        }
        let mut retry = mesh::HttpRetryPolicy::builder()
            .max_retries(self.retry.max_retries)
            .per_retry_timeout(duration(self.retry.per_try_timeout_ms));
        for e in &self.retry.http_events {
            retry = retry.http_retry_events(e);
        }
        for e in &self.retry.tcp_events {
            retry = retry.tcp_retry_events(mesh::TcpRetryPolicyEvent::from(e.as_str()));
        }
        let route = mesh::HttpRoute::builder()
            .r#match(mesh::HttpRouteMatch::builder().prefix(&self.prefix).build())
            .action(action.build().map_err(b)?)
            .retry_policy(retry.build().map_err(b)?)
            .timeout(
                mesh::HttpTimeout::builder()
                    .per_request(duration(self.timeout.per_request_ms))
                    .idle(duration(self.timeout.idle_ms))
                    .build(),
            )
            .build();
        Ok(mesh::RouteSpec::builder().http_route(route).build())
    }

    /// What AWS reports, in the spec's terms (tags left as wanted).
    fn as_reported(&self, data: &mesh::RouteData) -> RouteSpec {
        let mut reported = self.clone();
        fill_from(&mut reported, data);
        reported
    }

    /// The targets on AWS when a canary owns them: the route points at the
    /// shared (candidate) node and otherwise only at this spec's nodes.
    /// `None` when the weights are this spec's to set.
    fn canary_targets(&self, reported: &[WeightedTargetSpec]) -> Option<Vec<WeightedTargetSpec>> {
        let shared = self.shared_with.as_ref()?;
        let ours =
            |node: &String| node == shared || self.targets.iter().any(|t| &t.virtual_node == node);
        let has_shared = reported.iter().any(|t| &t.virtual_node == shared);
        (has_shared && reported.iter().all(|t| ours(&t.virtual_node))).then(|| reported.to_vec())
    }

    /// Read back the route of this name on this router. Its id is its ARN.
    /// What AWS does not hold (which node a canary may share the route with)
    /// is taken from `self`.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<RouteSpec>>, AwsError> {
        let Some((data, arn)) = find(self, aws).await? else {
            return Ok(None);
        };
        let mut spec = self.clone();
        fill_from(&mut spec, &data);
        spec.tags = tags_of(&aws.appmesh, &arn).await?;
        Ok(Some(Found::new(spec, arn)))
    }
}

#[async_trait]
impl MeshObject for RouteSpec {
    type Data = mesh::RouteData;
    type Sdk = mesh::RouteSpec;

    fn to_sdk(&self, call: &str) -> Result<mesh::RouteSpec, AwsError> {
        self.to_sdk_with(call, &self.targets)
    }

    /// Keeps a canary's weights: reads them just before writing.
    async fn update_spec(
        &self,
        aws: &Clients,
        names: &[String],
        call: &str,
    ) -> Result<mesh::RouteSpec, AwsError> {
        let current = describe::<Self>(aws, names).await?;
        let targets = current
            .map(|data| self.as_reported(&data).targets)
            .and_then(|reported| self.canary_targets(&reported))
            .unwrap_or_else(|| self.targets.clone());
        self.to_sdk_with(call, &targets)
    }

    fn differences(&self, data: &mesh::RouteData) -> Vec<String> {
        let mut reported = self.as_reported(data);
        if self.canary_targets(&reported.targets).is_some() {
            // The canary's weights, not drift.
            reported.targets = self.targets.clone();
        }
        let found = serde_json::to_value(reported).unwrap_or_default();
        let wanted = serde_json::to_value(self).unwrap_or_default();
        json_differences("route", &found, &wanted)
    }
}

mesh_api!(
    RouteSpec, mesh::RouteData, mesh::RouteStatusCode::Deleted, "route",
    names [mesh => mesh_name, router => virtual_router_name, name => route_name],
    sdk [create_route, describe_route, update_route, delete_route] => route,
    calls ["appmesh:CreateRoute", "appmesh:DescribeRoute", "appmesh:UpdateRoute", "appmesh:DeleteRoute"]
);

/// The weighted targets of a route, `None` when the route does not exist.
pub async fn route_targets(
    aws: &Clients,
    route: &RouteSpec,
) -> Result<Option<Vec<WeightedTargetSpec>>, AwsError> {
    Ok(describe::<RouteSpec>(aws, &route.own_names())
        .await?
        .map(|data| route.as_reported(&data).targets))
}

/// Point an existing route at `targets`, leaving the rest of its spec (retry
/// policy, timeouts: the microservice's) as it is on AWS. This is how a
/// canary moves traffic.
pub async fn set_route_targets(
    aws: &Clients,
    route: &RouteSpec,
    targets: &[WeightedTargetSpec],
) -> Result<(), AwsError> {
    const CALL: &str = "appmesh:UpdateRoute";
    let Some(data) = describe::<RouteSpec>(aws, &route.own_names()).await? else {
        return Err(AwsError {
            call: CALL.to_string(),
            code: Some("NotFoundException".to_string()),
            message: format!(
                "route {} of router {} does not exist",
                route.name, route.router
            ),
        });
    };
    let current = route.as_reported(&data);
    aws.appmesh
        .update_route()
        .mesh_name(&route.mesh)
        .virtual_router_name(&route.router)
        .route_name(&route.name)
        .spec(current.to_sdk_with(CALL, targets)?)
        .client_token(client_token())
        .send()
        .await
        .map_err(|e| AwsError::sdk(CALL, e))?;
    Ok(())
}
