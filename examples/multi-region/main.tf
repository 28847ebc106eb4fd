# The same stack in two regions: one aliased provider per region, one
# matbakh_platform per region (inside modules/stack), on ECS Service Connect.
# CloudWatch dashboards are global to the account: each region's carry the
# region in their names, so the two stacks never share (or delete) one.
# The design's budget covers both regions: each region's platform gets a
# budget of its share (var.budget_shares) of var.monthly_budget, so the two
# limits add up to it and each region's plan guard judges its own share.
terraform {
  required_providers {
    matbakh = { source = "matbakh/matbakh" }
  }
}

provider "matbakh" {
  alias        = "frankfurt"
  region       = "eu-central-1"
  environment  = var.environment
  endpoint     = var.endpoint
  default_tags = { project = "matbakh", region = "eu-central-1" }
}

provider "matbakh" {
  alias        = "ireland"
  region       = "eu-west-1"
  environment  = var.environment
  endpoint     = var.endpoint
  default_tags = { project = "matbakh", region = "eu-west-1" }
}

module "frankfurt" {
  source    = "./modules/stack"
  providers = { matbakh = matbakh.frankfurt }

  subnet_ids         = var.eu_central_1.subnet_ids
  security_group_ids = var.eu_central_1.security_group_ids
  execution_role_arn = var.execution_role_arn
  image_registry     = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
  monthly_limit      = var.monthly_budget * var.budget_shares["eu-central-1"]
  alert_emails       = var.alert_emails
}

module "ireland" {
  source    = "./modules/stack"
  providers = { matbakh = matbakh.ireland }

  subnet_ids         = var.eu_west_1.subnet_ids
  security_group_ids = var.eu_west_1.security_group_ids
  execution_role_arn = var.execution_role_arn
  image_registry     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
  monthly_limit      = var.monthly_budget * var.budget_shares["eu-west-1"]
  alert_emails       = var.alert_emails
}

output "cluster_arns" {
  value = {
    "eu-central-1" = module.frankfurt.cluster_arn
    "eu-west-1"    = module.ireland.cluster_arn
  }
}

output "service_arns" {
  value = {
    "eu-central-1" = module.frankfurt.service_arns
    "eu-west-1"    = module.ireland.service_arns
  }
}

output "budget_names" {
  value = {
    "eu-central-1" = module.frankfurt.budget_name
    "eu-west-1"    = module.ireland.budget_name
  }
}

output "estimated_monthly_cost_total" {
  value = module.frankfurt.estimated_monthly_cost + module.ireland.estimated_monthly_cost
}
