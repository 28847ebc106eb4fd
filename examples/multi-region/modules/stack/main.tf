# One region's stack: a platform and two microservices. The caller passes the
# provider (an aliased `matbakh` for the region).
terraform {
  required_providers {
    matbakh = { source = "matbakh/matbakh" }
  }
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "execution_role_arn" {
  type = string
}

variable "monthly_limit" {
  description = "This region's share of the monthly budget, USD."
  type        = number
}

variable "alert_emails" {
  type = list(string)
}

variable "image_registry" {
  description = "ECR registry of the region, e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com."
  type        = string
}

resource "matbakh_platform" "main" {
  name = "matbakh"

  # One AWS Budgets budget per region's platform (named after both), alerts
  # at 80 % and 95 % of actual and forecasted cost; a microservice plan that
  # would take the platform past 95 % of its limit fails.
  budget {
    monthly_limit = var.monthly_limit
    alert_emails  = var.alert_emails
    plan_guard    = "enforce"
  }
}

resource "matbakh_microservice" "auth" {
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = "${var.image_registry}/auth:1.4.2"
  port               = 8080
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn
}

resource "matbakh_microservice" "persona" {
  platform           = matbakh_platform.main.id
  name               = "persona-service"
  image              = "${var.image_registry}/persona:2.0.1"
  port               = 8080
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn
}

output "cluster_arn" {
  value = matbakh_platform.main.cluster_arn
}

output "service_arns" {
  value = {
    auth    = matbakh_microservice.auth.service_arn
    persona = matbakh_microservice.persona.service_arn
  }
}

output "budget_name" {
  value = matbakh_platform.main.budget_name
}

output "estimated_monthly_cost" {
  value = matbakh_microservice.auth.estimated_monthly_cost + matbakh_microservice.persona.estimated_monthly_cost
}
