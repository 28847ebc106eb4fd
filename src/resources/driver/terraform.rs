//! The one `tf_provider::Resource` implementation: each RPC's entry point,
//! where value normalisation, spans and the stop signal hook in.

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, Diagnostics, Resource};
use tracing::Instrument;

use super::graph_resource::GraphResource;
use super::logging::{span, span_id};
use super::Driver;
use crate::resources::lifecycle::{self};
use crate::tf::diagnostics::{error, report};
use crate::tf::value::Value;

#[async_trait]
impl<R: GraphResource> Resource for Driver<R> {
    type State<'a> = Value;
    type PrivateState<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(self.resource.schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        let config = self.normalized(config);
        match self.resource.validate(&config) {
            Ok(problems) => {
                report(diags, problems);
                report(diags, lifecycle::validate_timeouts(&config));
            }
            Err(e) => error(diags, format!("Invalid {} configuration", R::TYPE), e),
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let state = self.normalized(state);
        let span = span(R::TYPE, &span_id(&state), "read");
        self.do_read(diags, state, private).instrument(span).await
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Value,
        config: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let (proposed, config) = (self.normalized(proposed), self.normalized(config));
        let span = span(R::TYPE, &span_id(&proposed), "plan");
        self.do_plan_create(diags, proposed, config)
            .instrument(span)
            .await
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<(Value, Value, Vec<AttributePath>)> {
        let (prior, config) = (self.normalized(prior), self.normalized(config));
        let span = span(R::TYPE, &span_id(&prior), "plan");
        let mut proposed = self.normalized(proposed);
        self.defaults_where_unset(&mut proposed, &config);
        self.do_plan_update(diags, prior, proposed, config, prior_private)
            .instrument(span)
            .await
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Value,
        prior_private: Value,
        _meta: Value,
    ) -> Option<Value> {
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let planned = self.normalized(planned);
        let span = span(R::TYPE, &span_id(&planned), "create");
        self.do_create(diags, planned, private)
            .instrument(span)
            .await
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        planned: Value,
        _config: Value,
        private: Value,
        _meta: Value,
    ) -> Option<(Value, Value)> {
        let (prior, planned) = (self.normalized(prior), self.normalized(planned));
        let span = span(R::TYPE, &span_id(&prior), "update");
        self.do_update(diags, prior, planned, private)
            .instrument(span)
            .await
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Value,
        private: Value,
        _meta: Value,
    ) -> Option<()> {
        let prior = self.normalized(prior);
        let span = span(R::TYPE, &span_id(&prior), "delete");
        self.do_destroy(diags, prior, private)
            .instrument(span)
            .await
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(Value, Value)> {
        let span = span(R::TYPE, &id, "import");
        self.do_import(diags, id).instrument(span).await
    }
}
