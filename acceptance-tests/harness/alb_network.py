"""What a platform's ingress needs before Terraform runs: a VPC with two subnets
in two Availability Zones (an ALB refuses fewer) and an ACM certificate for its
HTTPS listener. Shared by the platform and microservice ingress tests."""
from __future__ import annotations

REGION = "eu-central-1"


def alb_network(emulator, region: str = REGION) -> dict:
    """{"vpc", "subnets" (two AZs), "cert"} made in the emulator."""
    ec2 = emulator.client("ec2", strict_shapes=False)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    cert = emulator.client("acm", strict_shapes=False).request_certificate(
        DomainName="api.example.com")["CertificateArn"]
    return {"vpc": vpc, "subnets": subnets, "cert": cert}
