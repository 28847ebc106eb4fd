//! The tags a desired object carries and the keys the provider itself writes.

use std::collections::BTreeMap;

/// Tags every object carries: the provider's `default_tags` plus `matbakh:owner`.
pub type Tags = BTreeMap<String, String>;

/// Tag key naming the Terraform resource id that owns an AWS object.
pub const OWNER_TAG: &str = "matbakh:owner";
/// On a task definition revision a `matbakh_canary` registered on
/// service_connect (a revision of its microservice's own family): the
/// canary's id, `PLATFORM/NAME-canary`. While the service runs a revision
/// with this tag, the microservice leaves its task definition and
/// deployment settings to the canary (the two never fight); the canary
/// removes the tag when it hands a promoted revision over.
pub const CANARY_TAG: &str = "matbakh:canary";
