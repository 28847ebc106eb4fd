"""Cloud Map (servicediscovery) fixes for moto 5.2.5.

moto 5.2.5 as shipped:
* only one private DNS namespace per VPC (any second one, whatever its name, fails with
  ConflictingDomainExists), and a retried create with the same CreatorRequestId fails too;
* the VPC is not checked;
* CreateService never refuses a duplicate name in a namespace (it makes a second service) and does
  not check that the namespace exists; a retry with the same CreatorRequestId makes another one;
* DeleteNamespace succeeds while services remain (AWS: ResourceInUse);
* DeleteService of an unknown id succeeds (AWS: ServiceNotFound);
* ListServices / ListNamespaces ignore Filters;
* HTTP namespaces: CreateHttpNamespace makes a second namespace of the same name and a retry with the
  same CreatorRequestId another one; the namespace reports an empty DNS SOA; no ServiceCount;
* ids given as ARNs (AWS accepts "the ID or ARN" of a namespace or service) are not found;
* UpdateService works for services in HTTP namespaces (AWS refuses it), drops the routing policy
  when DnsConfig is omitted, never removes an omitted HealthCheckConfig, and accepts a
  HealthCheckConfig for a service with a custom health check or in a private DNS namespace;
* operations are SUCCESS at once (kept; settings.cloudmap_pending_polls makes GetOperation report
  SUBMITTED/PENDING that many times first).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.servicediscovery.exceptions import InvalidInput, NamespaceNotFound, ServiceNotFound
from moto.servicediscovery.models import Operation
from moto.servicediscovery.responses import ServiceDiscoveryResponse

from . import settings


class CloudMapError(JsonRESTError):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(code, message)
        body = {"__type": code, "message": message, "Message": message}
        body.update(extra)
        self.description = json.dumps(body)


def _backend(self: ServiceDiscoveryResponse) -> Any:
    return self.servicediscovery_backend


def _params(self: ServiceDiscoveryResponse) -> dict[str, Any]:
    try:
        return json.loads(self.body or "{}")
    except ValueError:
        return {}


def _tokens(backend: Any) -> dict[str, Any]:
    st = backend.__dict__.get("_matbakh")
    if st is None:
        st = {"ns_ops": {}, "op_polls": {}}
        backend.__dict__["_matbakh"] = st
    return st


def _vpc_exists(backend: Any, vpc_id: str) -> bool:
    try:
        from moto.ec2 import ec2_backends

        ec2 = ec2_backends[backend.account_id][backend.region_name]
        return vpc_id in ec2.vpcs
    except Exception:  # noqa: BLE001
        return True


def _resolve_ids(self: ServiceDiscoveryResponse, *keys: str) -> dict[str, Any]:
    """AWS accepts a namespace's or service's ARN wherever it takes its id: rewrite the request
    body so moto (which only knows ids) finds it."""
    backend = _backend(self)
    p = _params(self)
    by_arn = {ns.arn: ns.id for ns in backend.namespaces.values()}
    by_arn.update({svc.arn: svc.id for svc in backend.services.values()})
    changed = False
    for key in keys:
        v = p.get(key)
        if isinstance(v, str) and v.startswith("arn:") and v in by_arn:
            p[key] = by_arn[v]
            changed = True
    if changed:
        self.body = json.dumps(p)
    return p


def _service_count(backend: Any, ns_id: str) -> int:
    return sum(1 for s in backend.services.values() if s.namespace_id == ns_id)


def _namespace_json(backend: Any, ns: Any) -> dict[str, Any]:
    out = ns.to_json()
    out["ServiceCount"] = _service_count(backend, ns.id)
    return out


_orig_create_private_dns_namespace = ServiceDiscoveryResponse.create_private_dns_namespace
_orig_create_http_namespace = ServiceDiscoveryResponse.create_http_namespace
_orig_get_service = ServiceDiscoveryResponse.get_service
_orig_create_service = ServiceDiscoveryResponse.create_service
_orig_delete_namespace = ServiceDiscoveryResponse.delete_namespace
_orig_get_operation = ServiceDiscoveryResponse.get_operation


def create_private_dns_namespace(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    p = _params(self)
    name, vpc, token = p.get("Name"), p.get("Vpc"), p.get("CreatorRequestId")
    for ns in backend.namespaces.values():
        if ns.name == name and getattr(ns, "vpc", None) == vpc:
            if token and ns.creator_request_id == token:
                op_id = _tokens(backend)["ns_ops"].get(ns.id)
                if op_id:
                    return json.dumps({"OperationId": op_id})
            raise CloudMapError("NamespaceAlreadyExists",
                                f"Namespace {name} already exists in {vpc}.",
                                NamespaceId=ns.id, CreatorRequestId=ns.creator_request_id)
    if vpc and not _vpc_exists(backend, vpc):
        # AWS accepts the request and the operation fails (Route 53 cannot associate the VPC).
        op = Operation(operation_type="CREATE_NAMESPACE", targets={})
        op.status = "FAIL"
        op.error_code = "CANNOT_CREATE_HOSTED_ZONE"
        op.error_message = f"The VPC {vpc} does not exist in {backend.region_name}."
        backend.operations[op.id] = op
        return json.dumps({"OperationId": op.id})
    # moto refuses any second namespace in the same VPC: hide the others while creating.
    hidden = {k: v for k, v in backend.namespaces.items() if getattr(v, "vpc", None) == vpc}
    for k in hidden:
        del backend.namespaces[k]
    try:
        out = _orig_create_private_dns_namespace(self)
    finally:
        backend.namespaces.update(hidden)
    op_id = json.loads(out)["OperationId"]
    ns_id = backend.operations[op_id].targets.get("NAMESPACE")
    if ns_id:
        _tokens(backend)["ns_ops"][ns_id] = op_id
    return out


def create_http_namespace(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    p = _params(self)
    name, token = p.get("Name"), p.get("CreatorRequestId")
    for ns in backend.namespaces.values():
        if ns.type == "HTTP" and ns.name == name:
            if token and ns.creator_request_id == token:
                op_id = _tokens(backend)["ns_ops"].get(ns.id)
                if op_id:
                    return json.dumps({"OperationId": op_id})
            raise CloudMapError("NamespaceAlreadyExists", f"Namespace {name} already exists.",
                                NamespaceId=ns.id, CreatorRequestId=ns.creator_request_id)
    out = _orig_create_http_namespace(self)
    op_id = json.loads(out)["OperationId"]
    ns_id = backend.operations[op_id].targets.get("NAMESPACE")
    if ns_id:
        _tokens(backend)["ns_ops"][ns_id] = op_id
        # An HTTP namespace has no DNS side: AWS returns empty DnsProperties (moto: an empty SOA).
        backend.namespaces[ns_id].dns_properties = {}
    return out


def get_namespace(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    ns_id = _resolve_ids(self, "Id").get("Id")
    if ns_id not in backend.namespaces:
        raise NamespaceNotFound(ns_id)
    return json.dumps({"Namespace": _namespace_json(backend, backend.namespaces[ns_id])})


def get_service(self: ServiceDiscoveryResponse) -> str:
    _resolve_ids(self, "Id")
    return _orig_get_service(self)


def update_service(self: ServiceDiscoveryResponse) -> str:
    """AWS's UpdateService: refused for services in an HTTP namespace; changes the description,
    the DNS records' TTLs and the (public DNS / HTTP only) HealthCheckConfig. The routing policy and
    HealthCheckCustomConfig cannot be changed in place: ServiceChange has no such members, so
    whatever a client sends for them is ignored and they stay as created."""
    backend = _backend(self)
    p = _resolve_ids(self, "Id")
    svc_id = p.get("Id")
    if svc_id not in backend.services:
        raise ServiceNotFound(svc_id)
    svc = backend.services[svc_id]
    ns = backend.namespaces.get(svc.namespace_id)
    if ns is not None and ns.type == "HTTP":
        raise InvalidInput(
            f"Service {svc_id} is associated with an HTTP namespace ({ns.id}); UpdateService "
            "is not supported for services in an HTTP namespace.")
    change = p.get("Service") or {}
    hc = change.get("HealthCheckConfig")
    if hc is not None and svc.health_check_custom_config:
        raise InvalidInput("You can specify either HealthCheckCustomConfig or HealthCheckConfig "
                           "for a service, but not both.")
    if hc is not None and ns is not None and ns.type == "DNS_PRIVATE":
        raise InvalidInput("HealthCheckConfig is supported only for services in public DNS "
                           "and HTTP namespaces.")
    if "Description" in change:
        svc.description = change["Description"]
    records = (change.get("DnsConfig") or {}).get("DnsRecords")
    if svc.dns_config is not None:
        kept = {k: v for k, v in svc.dns_config.items() if k != "DnsRecords"}
        # Omitted DnsRecords are deleted from the service (API reference); the rest stays.
        svc.dns_config = {**kept, "DnsRecords": records or []}
    svc.health_check_config = hc
    op = Operation(operation_type="UPDATE_SERVICE", targets={"SERVICE": svc.id})
    backend.operations[op.id] = op
    return json.dumps({"OperationId": op.id})


def create_service(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    p = _resolve_ids(self, "NamespaceId")
    name, ns_id, token = p.get("Name"), p.get("NamespaceId"), p.get("CreatorRequestId")
    if ns_id and ns_id not in backend.namespaces:
        raise NamespaceNotFound(ns_id)
    for svc in backend.services.values():
        if svc.name == name and svc.namespace_id == ns_id:
            if token and svc.creator_request_id == token:
                return json.dumps({"Service": svc.to_json()})
            raise CloudMapError("ServiceAlreadyExists",
                                f"Service {name} already exists in namespace {ns_id}.",
                                ServiceId=svc.id, CreatorRequestId=svc.creator_request_id)
    return _orig_create_service(self)


def delete_namespace(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    ns_id = _resolve_ids(self, "Id").get("Id")
    if ns_id not in backend.namespaces:
        raise NamespaceNotFound(ns_id)
    if any(s.namespace_id == ns_id for s in backend.services.values()):
        raise CloudMapError("ResourceInUse",
                            f"Namespace {ns_id} still contains services; delete them first.")
    return _orig_delete_namespace(self)


def delete_service(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    svc_id = _resolve_ids(self, "Id").get("Id")
    if svc_id not in backend.services:
        raise ServiceNotFound(svc_id)
    svc = backend.services[svc_id]
    if getattr(svc, "instances", None):
        raise CloudMapError("ResourceInUse",
                            f"Service {svc_id} still has registered instances.")
    del backend.services[svc_id]
    return "{}"


def get_operation(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    op_id = _params(self).get("OperationId")
    out = json.loads(_orig_get_operation(self))
    op = backend.operations.get(op_id)
    polls = _tokens(backend)["op_polls"]
    seen = polls.get(op_id, 0)
    polls[op_id] = seen + 1
    pending = int(settings.get("cloudmap_pending_polls"))
    if op is not None and op.status == "SUCCESS" and seen < pending:
        out["Operation"]["Status"] = "SUBMITTED" if seen == 0 else "PENDING"
    if op is not None and op.status == "FAIL":
        out["Operation"]["ErrorCode"] = getattr(op, "error_code", "INTERNAL_FAILURE")
        out["Operation"]["ErrorMessage"] = getattr(op, "error_message", "failed")
    return json.dumps(out)


def _matches(value: str, f: dict[str, Any]) -> bool:
    values = f.get("Values") or []
    cond = f.get("Condition") or "EQ"
    if cond == "BEGINS_WITH":
        return any(str(value).startswith(v) for v in values)
    return str(value) in values


def list_services(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    filters = _params(self).get("Filters") or []
    out = []
    for svc in backend.services.values():
        ok = True
        for f in filters:
            if f.get("Name") == "NAMESPACE_ID":
                ns = backend.namespaces.get(svc.namespace_id)
                ok = ok and (_matches(svc.namespace_id, f)
                             or (ns is not None and _matches(ns.arn, f)))
        if ok:
            out.append(svc.to_json())
    return json.dumps({"Services": out})


def list_namespaces(self: ServiceDiscoveryResponse) -> str:
    backend = _backend(self)
    filters = _params(self).get("Filters") or []
    out = []
    for ns in backend.namespaces.values():
        ok = True
        for f in filters:
            field = {"TYPE": ns.type, "NAME": ns.name,
                     "HTTP_NAME": (ns.http_properties or {}).get("HttpName", ns.name)}.get(f.get("Name"))
            if field is not None:
                ok = ok and _matches(field, f)
        if ok:
            out.append(_namespace_json(backend, ns))
    return json.dumps({"Namespaces": out})


def install() -> None:
    ServiceDiscoveryResponse.create_private_dns_namespace = create_private_dns_namespace  # type: ignore[method-assign]
    ServiceDiscoveryResponse.create_http_namespace = create_http_namespace  # type: ignore[method-assign]
    ServiceDiscoveryResponse.get_namespace = get_namespace  # type: ignore[method-assign]
    ServiceDiscoveryResponse.get_service = get_service  # type: ignore[method-assign]
    ServiceDiscoveryResponse.update_service = update_service  # type: ignore[method-assign]
    ServiceDiscoveryResponse.create_service = create_service  # type: ignore[method-assign]
    ServiceDiscoveryResponse.delete_namespace = delete_namespace  # type: ignore[method-assign]
    ServiceDiscoveryResponse.delete_service = delete_service  # type: ignore[method-assign]
    ServiceDiscoveryResponse.get_operation = get_operation  # type: ignore[method-assign]
    ServiceDiscoveryResponse.list_services = list_services  # type: ignore[method-assign]
    ServiceDiscoveryResponse.list_namespaces = list_namespaces  # type: ignore[method-assign]
