"""Elastic Load Balancing v2: what AWS refuses and moto 5.2.5 accepts.

Sources: the ELBv2 API reference (CreateLoadBalancer "Subnets": for an Application Load Balancer
"you must specify subnets from at least two Availability Zones"; errors InvalidSecurityGroup,
CertificateNotFound; CreateListener "Certificates": "[HTTPS and TLS listeners] The default
certificate for the listener. You must provide exactly one certificate"), and the messages AWS
answers with as terraform-provider-aws's internal/service/elbv2 tests quote them.

- CreateLoadBalancer / SetSubnets (application): subnets in fewer than two Availability Zones ->
  ValidationError "At least two subnets in two different Availability Zones must be specified".
- CreateLoadBalancer / SetSecurityGroups: a security group that does not exist or is in another
  VPC than the load balancer's subnets -> InvalidSecurityGroup.
- CreateListener / ModifyListener with protocol HTTPS: no certificate -> ValidationError
  "A certificate must be specified for HTTPS listeners"; a certificate ACM does not hold (an ACM
  ARN) -> CertificateNotFound.
- DescribeTags: more than 20 ARNs -> ValidationError (`ResourceArns`: "Maximum number of 20
  items"); an ARN whose object does not exist fails the whole call with that kind's NotFound
  (LoadBalancerNotFound, TargetGroupNotFound, ListenerNotFound, RuleNotFound: the errors the API
  reference lists for it). moto answers empty tags for it, which a batched read would take for
  an untagged object.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend


class _Error(ELBClientError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _zones(backend: ELBv2Backend, subnet_ids: list[str]) -> tuple[set[str], set[str]]:
    zones, vpcs = set(), set()
    for sid in subnet_ids:
        subnet = backend.ec2_backend.get_subnet(sid)
        if subnet is not None:
            zones.add(subnet.availability_zone)
            vpcs.add(subnet.vpc_id)
    return zones, vpcs


def _check_subnets(backend: ELBv2Backend, subnet_ids: list[str], lb_type: str | None) -> set[str]:
    zones, vpcs = _zones(backend, subnet_ids)
    if (lb_type or "application") == "application" and len(zones) < 2:
        raise _Error("ValidationError",
                     "At least two subnets in two different Availability Zones must be specified")
    return vpcs


def _check_groups(backend: ELBv2Backend, groups: list[str], vpcs: set[str]) -> None:
    for gid in groups or []:
        group = backend.ec2_backend.get_security_group_from_id(gid)
        if group is None or (vpcs and group.vpc_id not in vpcs):
            raise _Error("InvalidSecurityGroup", f"Security group '{gid}' does not exist in the "
                         "load balancer's VPC")


def _check_certificate(backend: ELBv2Backend, protocol: str | None, certificate: str | None) -> None:
    if (protocol or "").upper() != "HTTPS":
        return
    if not certificate:
        raise _Error("ValidationError", "A certificate must be specified for HTTPS listeners")
    if ":acm:" in certificate:
        from moto.acm.models import acm_backends

        acm = acm_backends[backend.account_id][backend.region_name]
        try:
            acm.get_certificate(certificate)
        except Exception:  # noqa: BLE001
            raise _Error("CertificateNotFound", f"Certificate '{certificate}' not found") from None


_orig_create_lb = ELBv2Backend.create_load_balancer
_orig_set_subnets = ELBv2Backend.set_subnets
_orig_set_groups = ELBv2Backend.set_security_groups
_orig_create_listener = ELBv2Backend.create_listener
_orig_modify_listener = ELBv2Backend.modify_listener


def create_load_balancer(self: ELBv2Backend, name: str, security_groups: list[str],
                         subnet_ids: list[str], *args: Any, **kwargs: Any) -> Any:
    mappings = kwargs.get("subnet_mappings") or (args[0] if args else None) or []
    ids = list(subnet_ids or []) + [m["SubnetId"] for m in mappings]
    vpcs = _check_subnets(self, ids, kwargs.get("loadbalancer_type"))
    _check_groups(self, security_groups, vpcs)
    return _orig_create_lb(self, name, security_groups, subnet_ids, *args, **kwargs)


def set_subnets(self: ELBv2Backend, arn: str, subnets: list[str], subnet_mappings: Any) -> Any:
    balancer = self.load_balancers.get(arn)
    if balancer is not None:
        ids = list(subnets or []) + [m["SubnetId"] for m in subnet_mappings or []]
        _check_subnets(self, ids, balancer.type)
    return _orig_set_subnets(self, arn, subnets, subnet_mappings)


def set_security_groups(self: ELBv2Backend, arn: str, sec_groups: list[str]) -> None:
    balancer = self.load_balancers.get(arn)
    if balancer is not None:
        _check_groups(self, sec_groups, {balancer.vpc_id})
    return _orig_set_groups(self, arn, sec_groups)


def create_listener(self: ELBv2Backend, load_balancer_arn: str, protocol: str, port: str,
                    ssl_policy: str, certificate: str | None, *args: Any, **kwargs: Any) -> Any:
    _check_certificate(self, protocol, certificate)
    return _orig_create_listener(self, load_balancer_arn, protocol, port, ssl_policy, certificate,
                                 *args, **kwargs)


def modify_listener(self: ELBv2Backend, arn: str, port: str | None = None,
                    protocol: str | None = None, ssl_policy: str | None = None,
                    certificates: list[dict[str, Any]] | None = None,
                    actions: list[dict[str, Any]] | None = None) -> Any:
    if protocol is not None:
        cert = (certificates or [{}])[0].get("CertificateArn") if certificates else None
        if cert is None:
            current = self.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
            cert = current.certificate
        _check_certificate(self, protocol, cert)
    return _orig_modify_listener(self, arn, port, protocol, ssl_policy, certificates, actions)


_orig_describe_tags = ELBv2Backend.describe_tags


def describe_tags(self: ELBv2Backend, resource_arns: list[str]) -> dict[str, dict[str, str]]:
    if len(resource_arns) > 20:
        raise _Error("ValidationError", f"1 validation error detected: Value at 'resourceArns' "
                     "failed to satisfy constraint: Member must have length less than or equal "
                     "to 20")
    for arn in resource_arns:
        self._get_resource_by_arn(arn)  # raises the kind's NotFound
    return _orig_describe_tags(self, resource_arns)


def install() -> None:
    ELBv2Backend.describe_tags = describe_tags  # type: ignore[method-assign]
    ELBv2Backend.create_load_balancer = create_load_balancer  # type: ignore[method-assign]
    ELBv2Backend.set_subnets = set_subnets  # type: ignore[method-assign]
    ELBv2Backend.set_security_groups = set_security_groups  # type: ignore[method-assign]
    ELBv2Backend.create_listener = create_listener  # type: ignore[method-assign]
    ELBv2Backend.modify_listener = modify_listener  # type: ignore[method-assign]
