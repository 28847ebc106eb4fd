# A service team's state: its own microservice on the platform team's
# platform (../platform), calling the platform team's auth-service. Both are
# read with data sources; nothing of the other state is changed.
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
  description = "Private subnets of the tasks."
  type        = set(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks."
  type        = set(string)
}

provider "matbakh" {
  region       = "eu-central-1"
  environment  = "production"
  endpoint     = var.endpoint
  default_tags = { project = "matbakh" }
}

data "matbakh_platform" "main" {
  name = "matbakh"
}

data "matbakh_microservice" "auth" {
  platform = data.matbakh_platform.main.id
  name     = "auth-service"
}

resource "matbakh_microservice" "persona" {
  platform           = data.matbakh_platform.main.id
  name               = "persona-service"
  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/persona:2.0.1"
  port               = 8080
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
  # No `backends` on Service Connect (the default): every service of the
  # platform's namespace may call every other.
  tags               = { team = "persona" }

  environment_variables = {
    AUTH_URL = "http://${data.matbakh_microservice.auth.dns_name}:${data.matbakh_microservice.auth.port}"
  }
}

output "auth_service_arn" {
  description = "The platform team's auth-service, as the data source reads it."
  value       = data.matbakh_microservice.auth.service_arn
}

output "cluster_arn" {
  value = data.matbakh_platform.main.cluster_arn
}
