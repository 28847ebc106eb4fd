# The platform team's state: the platform and the service it runs itself.
# Service teams read both with data sources (../service) instead of sharing
# this state. Against the local AWS emulator set `endpoint`.
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

resource "matbakh_platform" "main" {
  name = "matbakh"
  tags = { team = "platform" }
}

resource "matbakh_microservice" "auth" {
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
  port               = 8080
  desired_count      = 2
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
  tags               = { team = "identity" }
}
