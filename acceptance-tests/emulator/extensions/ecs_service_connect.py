"""ECS Service Connect, as ECS does it (moto 5.2.5 has none of it).

* A cluster's `serviceConnectDefaults.namespace` is a Cloud Map namespace name or ARN. ECS
  resolves it and records the ARN; a name that is no namespace yet makes ECS create an HTTP
  namespace of that name (botocore: ClusterServiceConnectDefaultsRequest.namespace). "" removes
  the defaults.
* A service's `serviceConnectConfiguration` is validated against its task definition and the
  other services in the namespace, stored, and reported on `deployments[]` (the Service shape has
  no such member). Any namespace type is accepted ("Any namespace type is supported").
* ECS creates one Cloud Map service per discovery name in the namespace (tagged
  AmazonECSManaged=true), registers one instance per running task, and deletes the Cloud Map
  service when the ECS service stops using it or is deleted. This goes through moto's
  servicediscovery backend, so Cloud Map API calls see it.

Error codes are the ones botocore models for CreateService/UpdateService
(InvalidParameterException, NamespaceNotFoundException). AWS's exact message texts for the
Service Connect checks are not published; the texts here describe the rule and name the value.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from moto.ecs.exceptions import ECSException, InvalidParameterException
from moto.servicediscovery.models import servicediscovery_backends

ECS_MANAGED_TAG = {"Key": "AmazonECSManaged", "Value": "true"}
MAX_ALIAS_DNS_NAME = 127  # ServiceConnectClientAlias.dnsName: "up to 127 characters"
MAX_DISCOVERY_NAME = 64  # ServiceConnectService.discoveryName: "up to 64 characters"
# "lowercase letters, numbers, underscores (_), hyphens (-), and periods (.). Can't start with a hyphen."
_ALIAS_DNS_NAME = re.compile(r"^[a-z0-9_.][a-z0-9_.-]*$")
# "lowercase letters, numbers, underscores (_), and hyphens (-). Can't start with a hyphen."
_DISCOVERY_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")
_HTTP_APP_PROTOCOLS = ("http", "http2", "grpc")


class NamespaceNotFoundException(ECSException):
    def __init__(self) -> None:
        super().__init__("NamespaceNotFoundException", "The specified namespace wasn't found.")


def cloudmap(account_id: str, region: str) -> Any:
    return servicediscovery_backends[account_id][region]


# ----------------------------------------------------------------------------- namespaces


def find_namespace(account_id: str, region: str, ref: str) -> Any | None:
    """A namespace by full ARN or by name (ECS accepts both)."""
    sd = cloudmap(account_id, region)
    for ns in sd.namespaces.values():
        if ref == ns.arn or ref == ns.name:
            return ns
    return None


def resolve_cluster_default_namespace(account_id: str, region: str, ref: str | None) -> dict[str, str] | None:
    """ClusterServiceConnectDefaults as ECS stores it: always the ARN."""
    if ref is None:
        return None
    if ref == "":
        return {}
    ns = find_namespace(account_id, region, ref)
    if ns is None:
        if ref.startswith("arn:"):
            raise NamespaceNotFoundException()
        # ECS creates an HTTP ("API calls") namespace for a new name.
        sd = cloudmap(account_id, region)
        op_id = sd.create_http_namespace(name=ref, creator_request_id=str(uuid.uuid4()),
                                         description="", tags=[])
        ns = sd.namespaces[sd.operations[op_id].targets["NAMESPACE"]]
    return {"namespace": ns.arn}


# ----------------------------------------------------------------------------- validation


def _port_mappings(task_definition: Any) -> dict[str, dict[str, Any]]:
    named = {}
    for container in task_definition.container_definitions or []:
        for pm in container.get("portMappings") or []:
            if pm.get("name"):
                named[pm["name"]] = pm
    return named


def validate(backend: Any, cluster: Any, service_name: str, task_definition: Any,
             config: dict[str, Any] | None) -> dict[str, Any] | None:
    """Check a serviceConnectConfiguration as ECS does; return it as ECS stores it.

    The stored copy carries the namespace ARN and, per service entry, the resolved discovery
    name and client alias (private keys starting with `_` are stripped before answering).
    """
    if config is None:
        return None
    config = copy.deepcopy(config)
    if not config.get("enabled"):
        return config
    ref = config.get("namespace")
    if not ref:
        defaults = cluster.service_connect_defaults or {}
        ref = defaults.get("namespace")
        if not ref:
            raise InvalidParameterException(
                "Service Connect namespace is not specified and the cluster has no "
                "serviceConnectDefaults namespace.")
    ns = find_namespace(backend.account_id, backend.region_name, ref)
    if ns is None:
        raise NamespaceNotFoundException()
    config["namespace"] = ns.arn

    named = _port_mappings(task_definition) if task_definition is not None else {}
    resolved = []
    for entry in config.get("services") or []:
        port_name = entry.get("portName")
        pm = named.get(port_name)
        if pm is None:
            raise InvalidParameterException(
                f"Service Connect portName '{port_name}' does not match any named port mapping "
                f"(portMappings[].name) in task definition {getattr(task_definition, 'arn', None)}.")
        discovery = entry.get("discoveryName") or port_name
        if len(discovery) > MAX_DISCOVERY_NAME or not _DISCOVERY_NAME.match(discovery):
            raise InvalidParameterException(
                f"Service Connect discoveryName '{discovery}' is not valid: up to 64 lowercase "
                "letters, numbers, underscores and hyphens, not starting with a hyphen.")
        aliases = entry.get("clientAliases") or []
        if len(aliases) != 1:
            raise InvalidParameterException(
                f"Service Connect service '{discovery}' must have exactly one client alias "
                f"(clientAliases has {len(aliases)}).")
        alias = aliases[0]
        dns_name = alias.get("dnsName") or f"{discovery}.{ns.name}"
        if len(dns_name) > MAX_ALIAS_DNS_NAME:
            raise InvalidParameterException(
                f"Service Connect client alias dnsName '{dns_name}' is longer than "
                f"{MAX_ALIAS_DNS_NAME} characters.")
        if not _ALIAS_DNS_NAME.match(dns_name):
            raise InvalidParameterException(
                f"Service Connect client alias dnsName '{dns_name}' is not a valid DNS name.")
        app_protocol = pm.get("appProtocol")
        timeout = entry.get("timeout") or {}
        if "perRequestTimeoutSeconds" in timeout and app_protocol not in _HTTP_APP_PROTOCOLS:
            raise InvalidParameterException(
                "perRequestTimeout can only be set if Service Connect appProtocol isn't TCP. "
                f"Only idleTimeout is allowed for TCP appProtocol (portName '{port_name}').")
        resolved.append({"discoveryName": discovery, "dnsName": dns_name, "port": alias.get("port")})

    seen_discovery: set[str] = set()
    seen_alias: set[tuple[str, Any]] = set()
    for r in resolved:
        if r["discoveryName"] in seen_discovery:
            raise InvalidParameterException(
                f"Service Connect discoveryName '{r['discoveryName']}' is used twice in this service.")
        seen_discovery.add(r["discoveryName"])
        seen_alias.add((r["dnsName"], r["port"]))
    for other in backend.services.values():
        if other.status != "ACTIVE" or (other.cluster_name == cluster.name and other.name == service_name):
            continue
        theirs = getattr(other, "_matbakh_sc", None) or {}
        if not theirs.get("enabled") or theirs.get("namespace") != ns.arn:
            continue
        for r in theirs.get("_resolved", []):
            if r["discoveryName"] in seen_discovery:
                raise InvalidParameterException(
                    f"Service Connect discoveryName '{r['discoveryName']}' is already used by "
                    f"service {other.arn} in namespace {ns.name}; it must be unique within the namespace.")
            if (r["dnsName"], r["port"]) in seen_alias:
                raise InvalidParameterException(
                    f"Service Connect client alias {r['dnsName']}:{r['port']} is already used by "
                    f"service {other.arn} in namespace {ns.name}; it must be unique within the namespace.")
    # ECS creates the Cloud Map service itself; one of that name made by someone else is in the way.
    me = backend.services.get(f"{cluster.name}:{service_name}")
    mine = set((getattr(me, "_matbakh_sc_owned", None) or {}).values()) if me is not None else set()
    for svc in cloudmap(backend.account_id, backend.region_name).services.values():
        if svc.namespace_id == ns.id and svc.name in seen_discovery and svc.arn not in mine:
            raise InvalidParameterException(
                f"Service Connect discoveryName '{svc.name}': a Cloud Map service of that name "
                f"({svc.id}) already exists in namespace {ns.name} and was not created by this "
                "ECS service.")
    config["_resolved"] = resolved
    return config


def public(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """The configuration as DescribeServices reports it on a deployment."""
    if config is None:
        return None
    return {k: v for k, v in config.items() if not k.startswith("_")}


# ----------------------------------------------------------------------------- Cloud Map services


def _managed(sd: Any, arn: str) -> Any | None:
    for svc in sd.services.values():
        if svc.arn == arn:
            return svc
    return None


def sync_cloud_map(service: Any, running_count: int) -> list[dict[str, str]]:
    """Create/delete the ECS-managed Cloud Map services and instances for `service`.

    Returns the deployment's `serviceConnectResources`.
    """
    sd = cloudmap(service._account_id, service.region_name)
    config = getattr(service, "_matbakh_sc", None) or {}
    owned: dict[str, str] = getattr(service, "_matbakh_sc_owned", None) or {}
    wanted = {}
    if config.get("enabled") and service.status == "ACTIVE":
        ns = find_namespace(service._account_id, service.region_name, config["namespace"])
        for r in config.get("_resolved", []):
            wanted[r["discoveryName"]] = (ns, r)

    # Stop using what is no longer wanted (or whose namespace changed).
    for discovery, arn in list(owned.items()):
        svc = _managed(sd, arn)
        keep = discovery in wanted and svc is not None and svc.namespace_id == wanted[discovery][0].id
        if keep:
            continue
        if svc is not None:
            svc.instances.clear()
            sd.services.pop(svc.id, None)
            sd.tagger.delete_all_tags_for_resource(svc.arn)
        del owned[discovery]

    resources = []
    for discovery, (ns, r) in wanted.items():
        svc = _managed(sd, owned[discovery]) if discovery in owned else None
        if svc is None:
            svc = sd.create_service(
                name=discovery, namespace_id=ns.id, creator_request_id=str(uuid.uuid4()),
                description="Managed by Amazon ECS", dns_config=None, health_check_config=None,
                health_check_custom_config=None, tags=[ECS_MANAGED_TAG], service_type="HTTP")
            owned[discovery] = svc.arn
        _sync_instances(sd, svc, service, r, running_count)
        resources.append({"discoveryName": discovery, "discoveryArn": svc.arn})
    service._matbakh_sc_owned = owned
    return resources


def leave_behind(service: Any) -> None:
    """DeleteService when ECS leaves the Cloud Map services it made for Service Connect
    (settings.ecs_service_connect_cleanup = "leave"): the tasks are gone, so are their instances,
    the services stay. AWS does not document that ECS deletes them with the ECS service, and users
    report the namespace's deletion failing with ResourceInUse afterwards."""
    sd = cloudmap(service._account_id, service.region_name)
    for arn in (getattr(service, "_matbakh_sc_owned", None) or {}).values():
        svc = _managed(sd, arn)
        if svc is not None:
            svc.instances.clear()
    service._matbakh_sc_owned = {}


def _sync_instances(sd: Any, svc: Any, service: Any, resolved: dict[str, Any], count: int) -> None:
    while len(svc.instances) > count:
        svc.instances.pop()
    while len(svc.instances) < count:
        task_id = uuid.uuid4().hex
        n = len(svc.instances)
        sd.register_instance(
            service_id=svc.id, instance_id=task_id, creator_request_id=task_id,
            attributes={
                "AWS_INSTANCE_IPV4": f"10.0.{n // 250}.{n % 250 + 4}",
                "AWS_INSTANCE_PORT": str(resolved.get("port") or ""),
                "ECS_CLUSTER_NAME": service.cluster_name,
                "ECS_SERVICE_NAME": service.name,
                "ECS_TASK_DEFINITION_FAMILY": (service.task_definition or "").split("/")[-1].split(":")[0],
                "REGION": service.region_name,
            })
