//! Data sources: read a platform or a microservice that another Terraform
//! state manages (a platform team's state, each service team's state).
//! They find what exists the way import does, and never change anything.

pub mod deployer_policy;
pub mod microservice;
pub mod platform;
mod read_only;

use std::collections::HashMap;

use tf_provider::DynamicDataSource;

use read_only::Served;

use crate::resources::context::ProviderContext;

/// Every data source, by the name it is served under (`platform` is
/// `matbakh_platform`).
pub fn all(context: &ProviderContext) -> HashMap<String, Box<dyn DynamicDataSource>> {
    let mut sources: HashMap<String, Box<dyn DynamicDataSource>> = HashMap::new();
    sources.insert(
        "platform".into(),
        Box::new(Served::<platform::PlatformDataSource>::new(context.clone())),
    );
    sources.insert(
        "microservice".into(),
        Box::new(Served::<microservice::MicroserviceDataSource>::new(
            context.clone(),
        )),
    );
    sources.insert(
        "deployer_policy".into(),
        Box::new(Served::<deployer_policy::DeployerPolicyDataSource>::new(
            context.clone(),
        )),
    );
    sources
}
