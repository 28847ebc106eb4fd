// PLACEHOLDER: the adapter for this kind is written with the microservice work.
crate::aws::not_yet_implemented!(crate::spec::appmesh::VirtualNodeSpec);
