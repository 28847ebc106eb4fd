# The original design: three microservices on one App Mesh platform (Envoy
# sidecars, a private DNS namespace in a VPC, retry policies on the routes).
# AWS discontinued App Mesh on 2026-09-30: this cannot be deployed on AWS
# today. It is kept for that design and for existing App Mesh stacks; new
# stacks use examples/three-services (ECS Service Connect). Against the local
# AWS emulator set `endpoint`.
terraform {
  required_providers {
    matbakh = { source = "matbakh/matbakh" }
  }
}

provider "matbakh" {
  region       = var.region
  environment  = var.environment
  endpoint     = var.endpoint
  service_mesh = "app_mesh"
  default_tags = { project = "matbakh" }
}

resource "matbakh_platform" "main" {
  name   = "matbakh"
  vpc_id = var.vpc_id
}

resource "matbakh_microservice" "auth" {
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = var.auth_image
  port               = 8080
  cpu                = 512
  memory             = 1024
  desired_count      = 2
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn
  task_role_arn      = "arn:aws:iam::123456789012:role/auth-service"

  environment_variables = { LOG_LEVEL = "info" }
  secrets = {
    DB_PASSWORD = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:auth-db-password"
  }
  backends = ["persona-service", "vc-service"]

  health_check {
    path     = "/health"
    interval = "30s"
    timeout  = "5s"
  }

  retry {
    max_retries     = 3
    per_try_timeout = "2s"
  }

  autoscaling {
    min_count     = 2
    max_count     = 10
    cpu_target    = 70
    memory_target = 80
  }

  alarms {
    error_rate_percent = 5
    p95_latency_ms     = 200
    actions            = [var.alerts_topic_arn]
  }
}

resource "matbakh_microservice" "persona" {
  platform           = matbakh_platform.main.id
  name               = "persona-service"
  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/persona:2.0.1"
  port               = 8080
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn

  environment_variables = { LOG_LEVEL = "info" }
}

resource "matbakh_microservice" "vc" {
  platform           = matbakh_platform.main.id
  name               = "vc-service"
  image              = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/vc:0.9.7"
  port               = 9000
  cpu                = 256
  memory             = 512
  desired_count      = 1
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn

  tracing {
    enabled = false
  }
}

output "dns_names" {
  description = "Name each service is reached by inside the mesh."
  value = {
    auth    = matbakh_microservice.auth.dns_name
    persona = matbakh_microservice.persona.dns_name
    vc      = matbakh_microservice.vc.dns_name
  }
}

output "estimated_monthly_costs" {
  description = "Estimated USD per month, per service."
  value = {
    auth    = matbakh_microservice.auth.estimated_monthly_cost
    persona = matbakh_microservice.persona.estimated_monthly_cost
    vc      = matbakh_microservice.vc.estimated_monthly_cost
  }
}

output "estimated_monthly_cost_total" {
  description = "Estimated USD per month, all three services."
  value = (matbakh_microservice.auth.estimated_monthly_cost
    + matbakh_microservice.persona.estimated_monthly_cost
  + matbakh_microservice.vc.estimated_monthly_cost)
}
