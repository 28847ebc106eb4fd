# The smallest useful matbakh setup: one platform (ECS cluster, App Mesh mesh,
# Cloud Map namespace). `scripts/quickstart.sh` applies it against the local
# AWS emulator; against real AWS, leave `endpoint` unset.
terraform {
  required_providers {
    matbakh = { source = "matbakh/matbakh" }
  }
}

variable "endpoint" {
  description = "One endpoint for every AWS API (the local emulator); null for real AWS."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC of the platform's private DNS namespace."
  type        = string
  default     = "vpc-0123456789abcdef0"
}

provider "matbakh" {
  region       = "eu-central-1"
  environment  = "development"
  endpoint     = var.endpoint
  default_tags = { project = "matbakh-quickstart" }
}

resource "matbakh_platform" "main" {
  name   = "matbakh"
  vpc_id = var.vpc_id
}

output "platform" {
  value = {
    cluster_arn  = matbakh_platform.main.cluster_arn
    mesh_name    = matbakh_platform.main.mesh_name
    namespace_id = matbakh_platform.main.namespace_id
  }
}
