variable "endpoint" {
  description = "One endpoint for every AWS API (a local emulator); null for real AWS."
  type        = string
  default     = null
}

variable "region" {
  description = "AWS region of the platform and its services."
  type        = string
  default     = "eu-central-1"
}

variable "environment" {
  description = "development | staging | production: drives spot share, log retention and trace sampling defaults."
  type        = string
  default     = "development"
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
  description = "IAM role ECS uses to pull images, write logs and read secrets."
  type        = string
  default     = "arn:aws:iam::123456789012:role/matbakh-ecs-task-execution"
}

variable "auth_image" {
  description = "Image of auth-service."
  type        = string
  default     = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
}

variable "alerts_topic_arn" {
  description = "SNS topic the alarms notify."
  type        = string
  default     = "arn:aws:sns:eu-central-1:123456789012:matbakh-alerts"
}
