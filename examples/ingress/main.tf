# A platform whose services are reachable from outside through one HTTPS
# Application Load Balancer: HTTPS on 443 (a path no service claims answers
# 404), HTTP on 80 answering 301 to HTTPS, and a test listener on 8443 that
# only test_cidrs may reach. Point a Route 53 alias at the outputs. Against
# the local AWS emulator set `endpoint`; against real AWS leave it unset.
terraform {
  required_providers {
    matbakh = { source = "matbakh/matbakh" }
  }
}

variable "public_subnet_ids" {
  description = "Public subnets of the load balancer, in at least two Availability Zones."
  type        = set(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listeners."
  type        = string
}

variable "office_cidrs" {
  description = "Who may send test traffic to a new revision on port 8443."
  type        = set(string)
  default     = []
}

variable "endpoint" {
  description = "One endpoint for every AWS API (a local emulator); null for real AWS."
  type        = string
  default     = null
}

provider "matbakh" {
  endpoint     = var.endpoint
  region       = "eu-central-1"
  environment  = "production"
  default_tags = { project = "matbakh" }
}

resource "matbakh_platform" "main" {
  name = "matbakh"
  ingress {
    subnet_ids      = var.public_subnet_ids
    certificate_arn = var.certificate_arn
    test_cidrs      = var.office_cidrs
  }
}

output "ingress" {
  value = {
    dns_name          = matbakh_platform.main.ingress_dns_name
    zone_id           = matbakh_platform.main.ingress_zone_id
    security_group_id = matbakh_platform.main.ingress_security_group_id
  }
}

# Two services behind the load balancer, by path. Each gets two target groups
# (a release runs the new revision in the other), a rule on the HTTPS
# listener and one on the test listener, and a security group of its own that
# admits the load balancer only.
variable "private_subnet_ids" {
  description = "Subnets of the tasks (in the load balancer's VPC)."
  type        = set(string)
}

resource "matbakh_microservice" "auth" {
  platform   = matbakh_platform.main.id
  name       = "auth-service"
  image      = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/auth:1.4.2"
  port       = 8080
  subnet_ids = var.private_subnet_ids
  ingress {
    paths = ["/auth", "/auth/*"]
  }
  # Scales on the load balancer's requests per task, besides CPU and memory;
  # the policy follows the target group that serves production traffic.
  autoscaling {
    min_count           = 2
    max_count           = 10
    requests_per_target = 1000
  }
}

resource "matbakh_microservice" "persona" {
  platform   = matbakh_platform.main.id
  name       = "persona-service"
  image      = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/persona:2.0.1"
  port       = 8080
  subnet_ids = var.private_subnet_ids
  ingress {
    paths = ["/persona", "/persona/*"]
  }
}

output "urls" {
  value = {
    auth    = matbakh_microservice.auth.url
    persona = matbakh_microservice.persona.url
  }
}
