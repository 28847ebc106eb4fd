variable "endpoint" {
  description = "One endpoint for every AWS API (a local emulator); null for real AWS. Both regions use it."
  type        = string
  default     = null
}

variable "environment" {
  type    = string
  default = "production"
}

variable "execution_role_arn" {
  type    = string
  default = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
}

variable "eu_central_1" {
  description = "Network of the eu-central-1 stack."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "eu_west_1" {
  description = "Network of the eu-west-1 stack."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "monthly_budget" {
  description = "USD a month for both regions together; each region's platform gets its share."
  type        = number
  default     = 500
}

variable "budget_shares" {
  description = "Each region's share of monthly_budget; the shares add up to 1."
  type        = map(number)
  default     = { "eu-central-1" = 0.6, "eu-west-1" = 0.4 }

  validation {
    condition     = abs(sum(values(var.budget_shares)) - 1) < 0.0001
    error_message = "budget_shares must add up to 1, so that the regions' budgets add up to monthly_budget."
  }
}

variable "alert_emails" {
  description = "Who gets the budgets' alerts."
  type        = list(string)
  default     = ["platform@example.com"]
}
