# A canary release on Service Connect: ECS-native. Two ECS services cannot
# share one Service Connect endpoint, so the new version is not a second
# service beside the stable one (as matbakh_canary does on App Mesh, see
# ../main.tf) but an ECS CANARY deployment on the microservice's own service:
#
#   1. Release: change `image`. ECS starts the new revision beside the old one,
#      shifts `canary_percent` of the production traffic to it, bakes
#      `bake_time`, then shifts the rest and keeps the old revision another
#      `bake_time` for an instant rollback. The apply waits on that service
#      deployment and logs its stage, traffic share and task counts.
#   2. Rollback is automatic: the microservice's error-rate or latency alarm in
#      ALARM makes ECS roll back; the apply fails naming the alarm, the service
#      runs the old revision. The next plan shows `image = old -> new` with a
#      warning that `new` was rolled back (when, by which alarm); applying it
#      retries the release.
#      Ctrl-C or a timeout mid-deployment rolls it back too.
#   3. Promote: nothing to do; a successful deployment is the promotion.
#
# `strategy = "linear"` (with `step_percent`) and `"blue_green"` work the same
# way. See docs/resources/microservice.md#deployment for what maps to what.
#
# The same release as a matbakh_canary (the flow of ../main.tf, with its own
# steps and rollback thresholds): set `candidate_image`. The canary deploys it
# on the same service as an ECS deployment (`steps = [p, 100]` is CANARY,
# equal steps are LINEAR), rolled back by ECS on the canary's own alarms,
# including one that fires when the candidate gets no traffic. Promote by
# setting `image` to the candidate's and `candidate_image = null` in one
# apply: the revision that runs becomes the microservice's and nothing is
# deployed again. See docs/resources/canary.md#on-service_connect.
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

variable "image" {
  description = "The image to run; a new one is released as an ECS canary deployment."
  type        = string
  default     = "registry.example/auth:1.4.2"
}

variable "candidate_image" {
  description = "A candidate image to release with matbakh_canary; null for none."
  type        = string
  default     = null
}

variable "candidate_steps" {
  description = "The canary's traffic steps: [p, 100] (ECS CANARY) or equal steps (ECS LINEAR)."
  type        = list(number)
  default     = [10, 100]
}

variable "candidate_step_interval" {
  description = "The canary's bake time per step (whole minutes; at least 3m in production)."
  type        = string
  default     = "5m"
}

variable "canary_percent" {
  description = "Share of production traffic on the new revision first (0.1-100, steps of 0.1)."
  type        = number
  default     = 5
}

variable "bake_time" {
  description = "How long the canary share holds, and how long both revisions run after the full shift (whole minutes)."
  type        = string
  default     = "10m"
}

variable "dashboard" {
  description = "Create the CloudWatch dashboard."
  type        = bool
  default     = true
}

provider "matbakh" {
  region       = "eu-central-1"
  environment  = "production"
  endpoint     = var.endpoint
  service_mesh = "service_connect"
}

resource "matbakh_platform" "main" {
  name = "matbakh"
}

resource "matbakh_microservice" "auth" {
  platform           = matbakh_platform.main.id
  name               = "auth-service"
  image              = var.image
  port               = 8080
  desired_count      = 2
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  execution_role_arn = var.execution_role_arn
  dashboard          = var.dashboard

  alarms {
    error_rate_percent = 5
    p95_latency_ms     = 200
  }

  deployment {
    strategy           = "canary"
    canary_percent     = var.canary_percent
    bake_time          = var.bake_time
    rollback_on_alarms = true
  }

  timeouts {
    update = "60m" # at least the whole bake: 2 x bake_time, plus scaling
  }
}

resource "matbakh_canary" "auth" {
  count = var.candidate_image == null ? 0 : 1

  microservice  = matbakh_microservice.auth.id
  image         = var.candidate_image
  steps         = var.candidate_steps
  step_interval = var.candidate_step_interval
  rollback_on {
    error_rate_percent = 2
    p95_latency_ms     = 200
  }
}

output "canary" {
  value = var.candidate_image == null ? null : {
    status         = matbakh_canary.auth[0].status
    current_weight = matbakh_canary.auth[0].current_weight
  }
}

output "service_arn" {
  value = matbakh_microservice.auth.service_arn
}
