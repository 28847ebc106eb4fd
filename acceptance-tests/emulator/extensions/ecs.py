"""ECS fixes and additions for moto 5.2.5.

moto 5.2.5 as shipped:
* CreateService drops capacityProviderStrategy, deploymentConfiguration, enableECSManagedTags,
  healthCheckGracePeriodSeconds and reports launchType "EC2" even for a capacity provider strategy;
* a service never reaches steady state: runningCount 0 and the PRIMARY deployment stays
  IN_PROGRESS forever (only the MOTO_ECS_SERVICE_RUNNING env var changes that, globally);
  UpdateService sets runningCount = desiredCount but leaves the deployment stale (old counts,
  IN_PROGRESS) and never starts a new deployment for a new task definition;
* CreateService with the name of an ACTIVE service silently replaces it (AWS: "Creation of
  service was not idempotent." unless the clientToken matches);
* UpdateService stores taskDefinition as given (family[:rev]) instead of the ARN, and works on
  INACTIVE (deleted) services;
* CreateCluster with an existing ACTIVE name replaces the cluster (AWS returns the existing one);
* DeleteCluster succeeds while ACTIVE services remain (AWS: ClusterContainsServicesException);
* UpdateClusterSettings is not implemented;
* Service Connect is stored but neither resolved nor validated, and never reaches Cloud Map
  (now: ecs_service_connect.py); Fargate task sizes are not checked (now: ecs_task_sizes.py);
* ListServices answers every service at once and ignores maxResults; DescribeServices takes any
  number of services. AWS (botocore's ecs model): ListServices' maxResults "can be between 1 and
  100. If this parameter isn't used, then ListServices returns up to 10 results and a nextToken";
  DescribeServices: "You may specify up to 10 services to describe in a single operation" ->
  paged, and refused beyond those limits (InvalidParameterException).

Deployment behaviour after this module is set by settings.ecs_deployment (see settings.py).
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any, NoReturn

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ecs.exceptions import ECSException, InvalidParameterException
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.ecs.models import Service as EcsService
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from . import ecs_deployments as deployments
from . import ecs_load_balancers as load_balancers
from . import ecs_service_connect as service_connect
from . import settings
from .paging import page_of
from .ecs_task_sizes import check_fargate_size
from .ecs_task_iam import check_roles_visible


class ServiceNotActiveException(ECSException):
    def __init__(self) -> None:
        super().__init__("ServiceNotActiveException", "Service was not ACTIVE.")


class ClusterContainsServicesException(ECSException):
    def __init__(self) -> None:
        super().__init__(
            "ClusterContainsServicesException",
            "The Cluster cannot be deleted while Services are active.",
        )


DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}

_SERVICE_EXTRA_PARAMS = {
    "deploymentConfiguration": "deployment_configuration",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
}


def _new_deployment_id() -> str:
    return f"ecs-svc/{mock_random.randint(0, 32**12)}"


def _settle(service: Any, new_deployment: bool, mode: str | None = None) -> None:
    """Make the service's deployments[] and counts look like ECS after this create/update.

    The service deployment (ecs_deployments.py) is started separately; in `timed` mode a new
    deployment looks like `in_progress` here until its service deployment finishes.
    """
    mode = mode or settings.get("ecs_deployment")
    now = utcnow()
    previous = [d for d in (service.deployments or [])]
    old_primary = previous[0] if previous else None
    if mode == "timed":
        running = new_deployment or old_primary is None or deployments.is_running(service)
        mode = "in_progress" if running else "completed"
    old_running = int(getattr(service, "running_count", 0) or 0)

    if new_deployment or old_primary is None:
        dep: dict[str, Any] = {"id": _new_deployment_id(), "createdAt": now, "failedTasks": 0}
    else:
        dep = old_primary
    dep.update({
        "status": "PRIMARY",
        "taskDefinition": service.task_definition,
        "desiredCount": service.desired_count,
        "updatedAt": now,
        "networkConfiguration": service.network_configuration or None,
        "platformVersion": getattr(service, "platform_version", None),
    })
    strategy = getattr(service, "capacity_provider_strategy", None)
    if strategy:
        dep["capacityProviderStrategy"] = strategy
        dep.pop("launchType", None)
        dep["platformFamily"] = "Linux"
    else:
        dep["launchType"] = service.launch_type
        dep.pop("capacityProviderStrategy", None)
        dep["platformFamily"] = "Linux"

    sc = getattr(service, "_matbakh_sc", None)
    if sc is not None:
        dep["serviceConnectConfiguration"] = service_connect.public(sc)
    else:
        dep.pop("serviceConnectConfiguration", None)
    dep.pop("serviceConnectResources", None)

    desired = int(service.desired_count or 0)
    _settle_counts(service, dep, old_primary, new_deployment, mode, now, desired, old_running)
    resources = service_connect.sync_cloud_map(service, int(service.running_count or 0))
    if resources:
        dep["serviceConnectResources"] = resources


def _settle_counts(service: Any, dep: dict[str, Any], old_primary: Any, new_deployment: bool,
                   mode: str, now: Any, desired: int, old_running: int) -> None:
    if mode == "completed":
        dep.update({"runningCount": desired, "pendingCount": 0, "rolloutState": "COMPLETED",
                    "rolloutStateReason": f"ECS deployment {dep['id']} completed."})
        service.deployments = [dep]
        service.running_count = desired
        service.pending_count = 0
        service.events = [{
            "id": str(uuid.uuid4()),
            "createdAt": now,
            "message": f"(service {service.name}) has reached a steady state.",
        }] + list(getattr(service, "events", []) or [])[:50]
        return

    others = []
    if new_deployment and old_primary is not None and old_primary is not dep:
        old_primary["status"] = "ACTIVE"
        others = [old_primary]
    if mode == "in_progress":
        if new_deployment or old_primary is None:
            dep.update({"runningCount": 0, "pendingCount": desired, "rolloutState": "IN_PROGRESS",
                        "rolloutStateReason": f"ECS deployment {dep['id']} in progress."})
        else:
            dep.update({"pendingCount": max(desired - int(dep.get("runningCount", 0)), 0)})
        service.deployments = [dep] + others
        service.running_count = old_running if others else int(dep.get("runningCount", 0))
        service.pending_count = desired
        return
    # failed
    dep.update({"runningCount": 0, "pendingCount": 0, "failedTasks": max(desired, 1),
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."})
    service.deployments = [dep] + others
    service.running_count = old_running if others else 0
    service.pending_count = 0


def settle_completed(service: Any, new_deployment: bool, event: str | None = None) -> None:
    """deployments[] once a service deployment succeeded or rolled back (called by ecs_deployments)."""
    if event:
        service.events = [{"id": str(uuid.uuid4()), "createdAt": utcnow(), "message": event}] + \
            list(getattr(service, "events", []) or [])[:50]
    _settle(service, new_deployment, mode="completed")


def _traffic_capable(service_connect_config: dict[str, Any] | None, load_balancers: Any) -> bool:
    """LINEAR/CANARY/BLUE_GREEN need a load balancer or Service Connect."""
    sc = service_connect_config or {}
    return bool(load_balancers) or bool(sc.get("enabled") and sc.get("services"))


# ----------------------------------------------------------------------------- actions

_orig_create_service = EC2ContainerServiceResponse.create_service
_orig_update_service = EC2ContainerServiceResponse.update_service
_orig_create_cluster = EC2ContainerServiceResponse.create_cluster
_orig_delete_cluster = EC2ContainerServiceResponse.delete_cluster


_orig_update_cluster = EC2ContainerServiceResponse.update_cluster
_orig_register_task_definition = EC2ContainerServiceResponse.register_task_definition


def _service_connect_defaults(self: EC2ContainerServiceResponse) -> dict[str, str] | None:
    requested = self._get_param("serviceConnectDefaults")
    if requested is None:
        return None
    return service_connect.resolve_cluster_default_namespace(
        self.ecs_backend.account_id, self.ecs_backend.region_name, requested.get("namespace"))


def create_cluster(self: EC2ContainerServiceResponse) -> ActionResult:
    name = self._get_param("clusterName") or "default"
    existing = self.ecs_backend.clusters.get(name)
    if existing is not None and existing.status == "ACTIVE":
        return ActionResult({"cluster": existing})
    defaults = _service_connect_defaults(self)
    result = _orig_create_cluster(self)
    if defaults is not None:
        self.ecs_backend.clusters[name].service_connect_defaults = defaults or None
    return result


def update_cluster(self: EC2ContainerServiceResponse) -> ActionResult:
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster"))
    defaults = _service_connect_defaults(self)
    result = _orig_update_cluster(self)
    if defaults is not None:
        cluster.service_connect_defaults = defaults or None
    return result


def register_task_definition(self: EC2ContainerServiceResponse) -> ActionResult:
    check_fargate_size(self._get_param("requiresCompatibilities"), self._get_param("cpu"),
                       self._get_param("memory"))
    check_roles_visible(self.current_account, [self._get_param("executionRoleArn"),
                                               self._get_param("taskRoleArn")])
    return _orig_register_task_definition(self)


def delete_cluster(self: EC2ContainerServiceResponse) -> ActionResult:
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster"))
    for key, svc in backend.services.items():
        if key.startswith(cluster.name + ":") and svc.status in ("ACTIVE", "DRAINING"):
            raise ClusterContainsServicesException()
    return _orig_delete_cluster(self)


def update_cluster_settings(self: EC2ContainerServiceResponse) -> ActionResult:
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster"))
    merged = {s["name"]: s for s in (cluster.settings or [])}
    for s in self._get_param("settings") or []:
        merged[s["name"]] = s
    cluster.settings = list(merged.values())
    return ActionResult({"cluster": cluster})


def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
    backend = self.ecs_backend
    cluster = backend._get_cluster(self._get_param("cluster", "default"))
    name = self._get_param("serviceName")
    token = self._get_param("clientToken")
    key = f"{cluster.name}:{name}"
    existing = backend.services.get(key)
    if existing is not None and existing.status == "ACTIVE":
        if token and getattr(existing, "_matbakh_client_token", None) == token:
            return ActionResult({"service": existing})
        raise InvalidParameterException("Creation of service was not idempotent.")

    strategy = self._get_param("capacityProviderStrategy")
    launch_type = self._get_param("launchType")
    if strategy and launch_type:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again.")
    td_param = self._get_param("taskDefinition")
    task_definition = backend.describe_task_definition(td_param) if td_param else None
    sc = service_connect.validate(backend, cluster, name, task_definition,
                                  self._get_param("serviceConnectConfiguration"))
    deployments.validate_configuration(
        self._get_param("deploymentConfiguration"),
        (self._get_param("deploymentController") or {}).get("type"),
        _traffic_capable(sc, self._get_param("loadBalancers")))
    if task_definition is not None:
        load_balancers.validate(backend.account_id, backend.region_name, task_definition,
                                self._get_param("loadBalancers"))
    result = _orig_create_service(self)
    service = backend.services[key]
    service._matbakh_client_token = token
    service._matbakh_sc = sc
    if not strategy and not launch_type and cluster.default_capacity_provider_strategy:
        strategy = cluster.default_capacity_provider_strategy
    if strategy:
        service.capacity_provider_strategy = strategy
        service.launch_type = None
        service.platform_version = service.platform_version or "LATEST"
    elif service.launch_type == "FARGATE":
        service.platform_version = service.platform_version or "LATEST"
    for camel, attr in _SERVICE_EXTRA_PARAMS.items():
        value = self._get_param(camel)
        if value is not None:
            setattr(service, attr, value)
    if getattr(service, "deployment_configuration", None) is None:
        service.deployment_configuration = json.loads(json.dumps(DEFAULT_DEPLOYMENT_CONFIGURATION))
    if getattr(service, "enable_ecs_managed_tags", None) is None:
        service.enable_ecs_managed_tags = False
    _settle(service, new_deployment=True)
    load_balancers.sync_targets(backend.account_id, backend.region_name, service)
    if service.deployment_controller.get("type", "ECS") == "ECS":
        deployments.start(service, service_connect.public(sc))
    return _answer(result, service, None)


def _answer(result: ActionResult, service: Any, previous: str | None) -> ActionResult:
    """The CreateService/UpdateService answer. settings.ecs_deployment_answer: `current` names the
    deployment this call started; `previous` the one before it; `blank` none (ECS may answer
    before the new deployment is attached to the service)."""
    how = settings.get("ecs_deployment_answer")
    if how == "current":
        return result
    shown = copy.copy(service)
    shown.current_service_deployment = previous if how == "previous" else None
    return ActionResult({"service": shown})


def _fingerprint(service: Any) -> str:
    return json.dumps([
        service.task_definition,
        service.network_configuration,
        getattr(service, "capacity_provider_strategy", None),
        getattr(service, "platform_version", None),
        service.launch_type,
        service_connect.public(getattr(service, "_matbakh_sc", None)),
        service.load_balancers,
        service.service_registries,
    ], sort_keys=True, default=str)


def update_service(self: EC2ContainerServiceResponse) -> ActionResult:
    backend = self.ecs_backend
    cluster_str = self._get_param("cluster", "default")
    name = (self._get_param("service") or "").split("/")[-1]
    service = backend._get_service(cluster_str, name)
    if service.status != "ACTIVE":
        raise ServiceNotActiveException()
    deployments.advance_all()
    before = _fingerprint(service)
    td = self._get_param("taskDefinition")
    if td:
        td = backend.describe_task_definition(td).arn
    sc_param = self._get_param("serviceConnectConfiguration")
    sc = getattr(service, "_matbakh_sc", None)
    if sc_param is not None or td:
        # A new task definition must still carry the named ports the configuration uses.
        sc = service_connect.validate(
            backend, backend._get_cluster(cluster_str), service.name,
            backend.describe_task_definition(td or service.task_definition),
            sc_param if sc_param is not None else service_connect.public(sc))
    config_param = self._get_param("deploymentConfiguration")
    lb_param = self._get_param("loadBalancers")
    deployments.validate_configuration(
        config_param if config_param is not None else getattr(service, "deployment_configuration", None),
        service.deployment_controller.get("type"),
        _traffic_capable(sc, lb_param if lb_param is not None else service.load_balancers))
    if self._get_param("capacityProviderStrategy") and self._get_param("launchType"):
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported.")
    if lb_param is not None or td:
        load_balancers.validate(
            backend.account_id, backend.region_name,
            backend.describe_task_definition(td or service.task_definition),
            lb_param if lb_param is not None else service.load_balancers)
    lbs_before = list(service.load_balancers or [])
    previous = getattr(service, "current_service_deployment", None)
    result = _orig_update_service(self)
    if td:
        service.task_definition = td
    service._matbakh_sc = sc
    if self._get_param("capacityProviderStrategy"):
        service.launch_type = None
    if self._get_param("networkConfiguration") is not None:
        service.network_configuration = service._validate_network(self._get_param("networkConfiguration"))
    new_deployment = bool(self._get_param("forceNewDeployment")) or _fingerprint(service) != before
    _settle(service, new_deployment=new_deployment)
    load_balancers.sync_targets(backend.account_id, backend.region_name, service, lbs_before)
    if new_deployment and service.deployment_controller.get("type", "ECS") == "ECS":
        deployments.start(service, service_connect.public(sc))
    else:
        deployments.advance_service(service)
    return _answer(result, service, previous)


_orig_delete_service = EC2ContainerServiceResponse.delete_service


def delete_service(self: EC2ContainerServiceResponse) -> ActionResult:
    deployments.advance_all()
    result = _orig_delete_service(self)
    backend = self.ecs_backend
    name = (self._get_param("service") or "").split("/")[-1]
    service = backend._get_service(self._get_param("cluster", "default"), name)
    # AWS: the service drains (DRAINING, then INACTIVE) and its tasks stop.
    service.desired_count = 0
    service.running_count = 0
    service.pending_count = 0
    for dep in service.deployments or []:
        dep.update({"desiredCount": 0, "runningCount": 0, "pendingCount": 0})
    load_balancers.sync_targets(backend.account_id, backend.region_name, service)
    # ECS removes the Cloud Map services it created for Service Connect (or leaves them).
    if settings.get("ecs_service_connect_cleanup") == "leave":
        service_connect.leave_behind(service)
    service_connect.sync_cloud_map(service, 0)
    deployments.service_deleted(service)
    return result


_orig_describe_services = EC2ContainerServiceResponse.describe_services
_orig_validate_network = EcsService._validate_network


def _validate_network(self: Any, nc: dict[str, Any]) -> dict[str, Any]:
    """awsvpcConfiguration without securityGroups: AWS uses the VPC's default security group
    (AwsVpcConfiguration.securityGroups, ECS API reference: "If you don't specify a security
    group, the default security group for the VPC is used."); moto crashed (KeyError). Checked
    with that group, returned as sent."""
    vpc = (nc or {}).get("awsvpcConfiguration") or {}
    if "securityGroups" in vpc or not vpc.get("subnets"):
        return _orig_validate_network(self, nc)
    ec2 = ec2_backends[self._account_id][self.region_name]
    try:
        subnet = ec2.describe_subnets(subnet_ids=vpc["subnets"][:1])[0]
        default = ec2.get_default_security_group(subnet.vpc_id)
    except InvalidSubnetIdError:
        default = None  # moto's own check below names the subnet
    checked = dict(nc, awsvpcConfiguration=dict(vpc, securityGroups=[default.id] if default else []))
    _orig_validate_network(self, checked)
    return nc


DESCRIBE_SERVICES_MAX = 10
LIST_SERVICES_PAGE_MAX = 100
LIST_SERVICES_PAGE_DEFAULT = 10


def describe_services(self: EC2ContainerServiceResponse) -> ActionResult:
    if len(self._get_param("services", []) or []) > DESCRIBE_SERVICES_MAX:
        raise InvalidParameterException(
            f"services can have at most {DESCRIBE_SERVICES_MAX} items.")
    deployments.advance_all()
    return _orig_describe_services(self)


_orig_list_services = EC2ContainerServiceResponse.list_services


def list_services(self: EC2ContainerServiceResponse) -> ActionResult:
    """ListServices a page at a time: maxResults 1-100 (default 10), nextToken an offset."""
    page = self._get_param("maxResults")
    if page is not None and not 1 <= int(page) <= LIST_SERVICES_PAGE_MAX:
        raise InvalidParameterException(
            f"maxResults must be between 1 and {LIST_SERVICES_PAGE_MAX}.")
    page = int(page) if page is not None else LIST_SERVICES_PAGE_DEFAULT
    arns = _orig_list_services(self).result["serviceArns"]  # type: ignore[index]
    listed, next_token = page_of(arns, self._get_param("nextToken"), page, _invalid_token)
    answer: dict[str, Any] = {"serviceArns": list(listed)}
    if next_token is not None:
        answer["nextToken"] = next_token
    return ActionResult(answer)


def _invalid_token(_message: str) -> NoReturn:
    raise InvalidParameterException("Invalid nextToken.")


def install() -> None:
    deployments.install()
    EcsService._validate_network = _validate_network  # type: ignore[method-assign]
    EC2ContainerServiceResponse.describe_services = describe_services  # type: ignore[method-assign]
    EC2ContainerServiceResponse.list_services = list_services  # type: ignore[method-assign]
    EC2ContainerServiceResponse.delete_service = delete_service  # type: ignore[method-assign]
    EC2ContainerServiceResponse.update_cluster_settings = update_cluster_settings  # type: ignore[attr-defined]
    EC2ContainerServiceResponse.create_cluster = create_cluster  # type: ignore[method-assign]
    EC2ContainerServiceResponse.update_cluster = update_cluster  # type: ignore[method-assign]
    EC2ContainerServiceResponse.register_task_definition = register_task_definition  # type: ignore[method-assign]
    EC2ContainerServiceResponse.delete_cluster = delete_cluster  # type: ignore[method-assign]
    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceResponse.update_service = update_service  # type: ignore[method-assign]


deployments.settle_with(settle_completed)
