# A platform whose services are reachable from outside through one HTTPS
# Application Load Balancer: HTTPS on 443 (a path no service claims answers
# 404), HTTP on 80 answering 301 to HTTPS, and a test listener on 8443 that
# only test_cidrs may reach. Point a Route 53 alias at the outputs.
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

provider "matbakh" {
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
