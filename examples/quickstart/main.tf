# The smallest useful matbakh setup: one platform (ECS cluster and the Cloud
# Map HTTP namespace of ECS Service Connect) and one microservice on it. `scripts/quickstart.sh` applies it against the local
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

variable "subnet_ids" {
  description = "Private subnets of the service's tasks."
  type        = list(string)
  default     = ["subnet-0123456789abcdef0"]
}

variable "security_group_ids" {
  description = "Security groups of the service's tasks."
  type        = list(string)
  default     = ["sg-0123456789abcdef0"]
}

provider "matbakh" {
  region       = "eu-central-1"
  environment  = "development"
  endpoint     = var.endpoint
  default_tags = { project = "matbakh-quickstart" }
}

resource "matbakh_platform" "main" {
  name = "matbakh"

  # Reachable from outside over HTTPS: one Application Load Balancer the
  # platform's services share (see examples/ingress). Needs real subnets
  # in two Availability Zones and an ACM certificate, so it is left out here.
  # ingress {
  #   subnet_ids      = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  #   certificate_arn = "arn:aws:acm:eu-central-1:123456789012:certificate/..."
  # }
}

resource "matbakh_microservice" "hello" {
  platform           = matbakh_platform.main.id
  name               = "hello-service"
  image              = "public.ecr.aws/nginx/nginx:1.27"
  port               = 8080
  desired_count      = 2
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  # No execution_role_arn: the provider makes hello-service's own execution
  # role (matbakh-hello-service-exec), allowed to write its log group only.
  environment_variables = {
    LOG_LEVEL = "info"
  }
}

output "hello_service" {
  value = {
    dns_name               = matbakh_microservice.hello.dns_name
    estimated_monthly_cost = matbakh_microservice.hello.estimated_monthly_cost
    components             = matbakh_microservice.hello.components
  }
}

output "platform" {
  value = {
    cluster_arn  = matbakh_platform.main.cluster_arn
    service_mesh = matbakh_platform.main.service_mesh
    namespace_id = matbakh_platform.main.namespace_id
  }
}
