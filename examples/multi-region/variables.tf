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
