//! The slots of a microservice: its stable copy and a canary's candidate.

use super::config::Settings;
use super::{keys, names};

/// One deployable copy of the service: the stable one or a canary's
/// candidate. The task definition, ECS service and virtual node exist once
/// per slot, under the slot's name and component keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Slot {
    /// `NAME` or `NAME-canary`.
    pub name: String,
    pub image: String,
    pub task_definition_key: String,
    pub virtual_node_key: String,
    pub service_key: String,
}

impl Slot {
    pub fn stable(settings: &Settings) -> Slot {
        Slot {
            name: names::stable_slot(&settings.name),
            image: settings.image.clone(),
            task_definition_key: keys::TASK_DEFINITION.into(),
            virtual_node_key: keys::VIRTUAL_NODE.into(),
            service_key: keys::SERVICE.into(),
        }
    }

    /// A canary's candidate running `image`; its keys start with `candidate_`.
    pub fn canary(settings: &Settings, image: &str) -> Slot {
        Slot {
            name: names::canary_slot(&settings.name),
            image: image.to_string(),
            task_definition_key: format!("candidate_{}", keys::TASK_DEFINITION),
            virtual_node_key: format!("candidate_{}", keys::VIRTUAL_NODE),
            service_key: format!("candidate_{}", keys::SERVICE),
        }
    }
}
