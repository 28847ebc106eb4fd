//! What every data source shares: its schema and checks are served as they
//! are, and a read first needs the configured provider and a valid
//! configuration (Terraform does not validate again before reading). A data
//! source only says what it reads.

use std::marker::PhantomData;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{DataSource, Diagnostics};

use crate::resources::context::{Configured, ProviderContext};
use crate::tf::diagnostics::{error, report};
use crate::tf::value::Value;
use crate::validation::Problem;

/// One data source: its schema, its plan-time checks and its read.
#[async_trait]
pub trait ReadOnlySource: Send + Sync + 'static {
    fn schema() -> Schema;

    /// Every problem of `config`, each naming its attribute.
    fn validate(config: &Value) -> Vec<Problem>;

    /// The attributes for a valid `config`; on failure the error's summary
    /// and detail.
    async fn read(configured: &Configured, config: &Value) -> Result<Value, (String, String)>;
}

/// Data source `S` served to Terraform.
pub struct Served<S> {
    context: ProviderContext,
    source: PhantomData<fn() -> S>,
}

impl<S> Served<S> {
    pub fn new(context: ProviderContext) -> Self {
        Served {
            context,
            source: PhantomData,
        }
    }
}

#[async_trait]
impl<S: ReadOnlySource> DataSource for Served<S> {
    type State<'a> = Value;
    type ProviderMetaState<'a> = Value;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(S::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Value) -> Option<()> {
        report(diags, S::validate(&config));
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Value,
        _meta: Value,
    ) -> Option<Value> {
        let configured = self.context.get(diags)?;
        let problems = S::validate(&config);
        if !problems.is_empty() {
            report(diags, problems);
            return None;
        }
        match S::read(&configured, &config).await {
            Ok(state) => Some(state),
            Err((summary, detail)) => {
                error(diags, summary, detail);
                None
            }
        }
    }
}
