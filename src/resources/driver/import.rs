//! Import: the resource's state recovered from what exists.

use tf_provider::Diagnostics;

use super::graph_resource::GraphResource;
use super::Driver;
use crate::resources::lifecycle::{self};
use crate::resources::ownership;
use crate::resources::tags;
use crate::spec::ownership::OwnerToken;
use crate::tf::diagnostics::error;
use crate::tf::value::Value;

impl<R: GraphResource> Driver<R> {
    pub(super) async fn do_import(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Value, Value)> {
        if let Some(why) = self.resource.import_not_supported() {
            error(
                diags,
                format!("Import is not supported for {}", R::TYPE),
                why,
            );
            return None;
        }
        if let Err(why) = self.resource.check_import_id(&id) {
            error(diags, "Invalid import id", why);
            return None;
        }
        let configured = self.context.get(diags)?;
        match self.resource.import(&configured, &id).await {
            Ok((mut state, token)) => {
                tags::set_tags_all(&mut state, &configured.default_tags);
                state.set("drift", lifecycle::no_drift());
                crate::tf::schema::complete_object(&mut state, &self.resource.schema().block);
                // All objects of one resource share one token: adopt
                // theirs. Objects from before ownership tokens get a new
                // one, written onto them by the next apply.
                let token = token.unwrap_or_else(OwnerToken::generate);
                Some((state, ownership::with_token(Value::Null, &token)))
            }
            Err(e) => {
                error(diags, format!("Cannot import {} {id}", R::TYPE), e);
                None
            }
        }
    }
}
