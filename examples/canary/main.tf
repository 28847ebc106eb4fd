# A canary release with matbakh: one platform, one microservice (the stable
# version) and a matbakh_canary running a candidate image beside it.
#
# The flow (see docs/resources/canary.md):
#   1. Release: set `candidate_image`. The apply deploys the candidate, then
#      walks its share of traffic through `steps`, holding each step for
#      `step_interval` while its alarms are watched. An alarm in ALARM rolls
#      back (all traffic to stable, candidate scaled to zero) and fails the
#      apply, naming the alarm.
#   2. Promote: set `stable_image` to the candidate's image and
#      `candidate_image = null`, in one apply. Terraform destroys the canary
#      first (traffic back to the still fully scaled stable service, then the
#      candidate removed) and then rolls the stable service onto the new
#      image, keeping 100 % of its tasks healthy throughout.
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
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks."
  type        = list(string)
}

variable "execution_role_arn" {
  description = "Role ECS uses to pull images and write logs."
  type        = string
  default     = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
}

variable "stable_image" {
  description = "The image the microservice runs."
  type        = string
  default     = "registry.example/auth:1.4.2"
}

variable "candidate_image" {
  description = "The image to release as a canary; null when no release is in flight."
  type        = string
  default     = "registry.example/auth:1.5.0"
}

variable "strategy" {
  description = "canary (walk through steps) or blue_green (one switch)."
  type        = string
  default     = "canary"
}

variable "steps" {
  description = "Traffic percentages for the candidate, in order."
  type        = list(number)
  default     = [5, 25, 50, 100]
}

variable "step_interval" {
  description = "How long each step holds while the alarms are watched."
  type        = string
  default     = "5m"
}

provider "matbakh" {
  region      = "eu-central-1"
  environment = "production"
  endpoint    = var.endpoint
  # Progressive delivery on Service Connect (ECS-native deployments) is a
  # later release: the canary walks App Mesh route weights.
  service_mesh = "app_mesh"
}

resource "matbakh_platform" "main" {
  name   = "matbakh"
  vpc_id = var.vpc_id
}

resource "matbakh_microservice" "auth" {
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = var.stable_image
  port               = 8080
  desired_count      = 2
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn
}

resource "matbakh_canary" "auth" {
  count = var.candidate_image == null ? 0 : 1

  microservice  = matbakh_microservice.auth.id
  image         = var.candidate_image
  strategy      = var.strategy
  steps         = var.steps
  step_interval = var.step_interval
  rollback_on {
    error_rate_percent = 5
    p95_latency_ms     = 200
  }
}

output "canary" {
  value = length(matbakh_canary.auth) == 0 ? null : {
    status         = matbakh_canary.auth[0].status
    current_weight = matbakh_canary.auth[0].current_weight
    components     = matbakh_canary.auth[0].components
  }
}
