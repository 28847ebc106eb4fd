//! App Mesh HTTP route. Its id is its ARN.

use async_trait::async_trait;
use aws_sdk_appmesh::types as mesh;

use super::common::{
    adoptable, arn_names, client_token, duration, early_tags, put_tags, tag_refs, tags_for, tags_of,
};
use super::route_read_back::fill_from;
use crate::aws::compare::{absent_if_not_found, gone_is_ok, json_differences};
use crate::aws::{tags, Adapter, AwsError, Clients, Found};
use crate::engine::{Observation, Resolved};
use crate::spec::appmesh::*;

impl RouteSpec {
    /// The SDK spec, routing to `targets` (this spec's own, or those a
    /// canary set).
    fn to_sdk(
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

    fn names(&self, id: &str) -> (String, String, String) {
        match arn_names(id) {
            Some(n) if n.len() == 3 => (n[0].clone(), n[1].clone(), n[2].clone()),
            _ => (self.mesh.clone(), self.router.clone(), self.name.clone()),
        }
    }

    pub(super) async fn describe(
        &self,
        aws: &Clients,
        (mesh_name, router, name): &(String, String, String),
    ) -> Result<Option<mesh::RouteData>, AwsError> {
        let out = absent_if_not_found(
            aws.appmesh
                .describe_route()
                .mesh_name(mesh_name)
                .virtual_router_name(router)
                .route_name(name)
                .send()
                .await
                .map_err(|e| AwsError::sdk("appmesh:DescribeRoute", e)),
        )?;
        Ok(out.and_then(|o| o.route).filter(|r| {
            !matches!(
                r.status.as_ref().map(|s| &s.status),
                Some(mesh::RouteStatusCode::Deleted)
            )
        }))
    }
}

impl RouteSpec {
    /// Read back the route of this name on this router. Its id is its ARN.
    /// What AWS does not hold (which node a canary may share the route with)
    /// is taken from `self`.
    pub async fn read_back(&self, aws: &Clients) -> Result<Option<Found<RouteSpec>>, AwsError> {
        let names = (self.mesh.clone(), self.router.clone(), self.name.clone());
        let Some(data) = self.describe(aws, &names).await? else {
            return Ok(None);
        };
        let Some(arn) = arn_of(&data) else {
            return Ok(None);
        };
        let mut spec = self.clone();
        fill_from(&mut spec, &data);
        spec.tags = tags_of(&aws.appmesh, &arn).await?;
        Ok(Some(Found::new(spec, arn)))
    }
}

fn arn_of(data: &mesh::RouteData) -> Option<String> {
    data.metadata.as_ref().map(|m| m.arn.clone())
}

#[async_trait]
impl Adapter for RouteSpec {
    async fn observe(
        &self,
        aws: &Clients,
        id: &str,
        _: &Resolved,
    ) -> Result<Observation, AwsError> {
        let names = self.names(id);
        let (data, early) =
            futures::join!(self.describe(aws, &names), early_tags(&aws.appmesh, id));
        let Some(data) = data? else {
            return Ok(Observation::Missing);
        };
        let mut reported = self.as_reported(&data);
        if self.canary_targets(&reported.targets).is_some() {
            // The canary's weights, not drift.
            reported.targets = self.targets.clone();
        }
        let found = serde_json::to_value(reported).unwrap_or_default();
        let wanted = serde_json::to_value(self).unwrap_or_default();
        let mut diffs = json_differences("route", &found, &wanted);
        if let Some(arn) = arn_of(&data) {
            diffs.extend(tags::differences(
                &self.tags,
                &tags_for(&aws.appmesh, &arn, early).await?,
            ));
        }
        Ok(Observation::with_differences(diffs))
    }

    async fn create(&self, aws: &Clients, resolved: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "appmesh:CreateRoute";
        let created = aws
            .appmesh
            .create_route()
            .mesh_name(&self.mesh)
            .virtual_router_name(&self.router)
            .route_name(&self.name)
            .spec(self.to_sdk(CALL, &self.targets)?)
            .set_tags(Some(tag_refs(&self.tags, CALL)?))
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e));
        match created {
            Ok(out) => out
                .route
                .as_ref()
                .and_then(arn_of)
                .ok_or_else(|| AwsError::new(CALL, "AWS returned no route ARN")),
            Err(e) if e.code.as_deref() == Some("ConflictException") => {
                let names = (self.mesh.clone(), self.router.clone(), self.name.clone());
                let existing = self.describe(aws, &names).await?.as_ref().and_then(arn_of);
                let arn = adoptable(
                    &aws.appmesh,
                    e,
                    existing,
                    &self.tags,
                    CALL,
                    "route",
                    &self.name,
                )
                .await?;
                self.update(aws, &arn, resolved).await
            }
            Err(e) => Err(e),
        }
    }

    async fn update(&self, aws: &Clients, id: &str, _: &Resolved) -> Result<String, AwsError> {
        const CALL: &str = "appmesh:UpdateRoute";
        // Keep a canary's weights: read them just before writing.
        let current = self.describe(aws, &self.names(id)).await?;
        let targets = current
            .map(|data| self.as_reported(&data).targets)
            .and_then(|reported| self.canary_targets(&reported))
            .unwrap_or_else(|| self.targets.clone());
        let out = aws
            .appmesh
            .update_route()
            .mesh_name(&self.mesh)
            .virtual_router_name(&self.router)
            .route_name(&self.name)
            .spec(self.to_sdk(CALL, &targets)?)
            .client_token(client_token())
            .send()
            .await
            .map_err(|e| AwsError::sdk(CALL, e))?;
        let arn = out
            .route
            .as_ref()
            .and_then(arn_of)
            .unwrap_or_else(|| id.to_string());
        put_tags(&aws.appmesh, &arn, &self.tags).await?;
        Ok(arn)
    }

    async fn delete(&self, aws: &Clients, id: &str) -> Result<(), AwsError> {
        let (mesh_name, router, name) = self.names(id);
        gone_is_ok(
            aws.appmesh
                .delete_route()
                .mesh_name(mesh_name)
                .virtual_router_name(router)
                .route_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::sdk("appmesh:DeleteRoute", e)),
        )
    }
}

/// The weighted targets of a route, `None` when the route does not exist.
pub async fn route_targets(
    aws: &Clients,
    route: &RouteSpec,
) -> Result<Option<Vec<WeightedTargetSpec>>, AwsError> {
    let names = (route.mesh.clone(), route.router.clone(), route.name.clone());
    Ok(route
        .describe(aws, &names)
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
    let names = (route.mesh.clone(), route.router.clone(), route.name.clone());
    let Some(data) = route.describe(aws, &names).await? else {
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
        .spec(current.to_sdk(CALL, targets)?)
        .client_token(client_token())
        .send()
        .await
        .map_err(|e| AwsError::sdk(CALL, e))?;
    Ok(())
}
