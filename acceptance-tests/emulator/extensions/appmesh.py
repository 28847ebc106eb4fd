"""App Mesh fixes and additions for moto 5.2.5.

What moto 5.2.5 gets wrong for a real SDK client (aws-sdk-appmesh in Rust, which is strict):

* timestamps (createdAt / lastUpdatedAt) are strings "dd/mm/YYYY, HH:MM:SS"; the API sends epoch
  seconds (numbers). The Rust SDK fails to deserialize every App Mesh response because of this.
* every error is HTTP 400 with codes like "MeshNotFound"; the API sends NotFoundException (404),
  ConflictException (409), BadRequestException (400), ResourceInUseException (409).
* the mesh ARN is "arn:aws:appmesh:REGION:ACCOUNT:NAME" (no "mesh/").
* all resources share one created time and one uid (dataclass defaults evaluated at import).
* specs are parsed into dataclasses and re-serialised, dropping/reshaping fields; we return the
  spec exactly as sent (like the API does for the fields we use).
* no virtual services at all; no UntagResource; TagResource appends duplicate keys.
* DeleteMesh / DeleteVirtualRouter / DeleteVirtualNode never refuse; the API refuses with
  ResourceInUseException while dependent resources exist.
* clientToken is ignored: a retried create fails with a conflict instead of returning the object.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime
from typing import Any, Callable

from moto.appmesh import exceptions as am_exc
from moto.appmesh import urls as am_urls
from moto.appmesh.dataclasses import shared as am_shared
from moto.appmesh.models import AppMeshBackend
from moto.appmesh.responses import AppMeshResponse
from moto.core.exceptions import JsonRESTError

_LOCK = threading.RLock()

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

_ERROR_MAP = {
    "MeshNotFound": ("NotFoundException", 404),
    "ResourceNotFound": ("NotFoundException", 404),
    "VirtualRouterNotFound": ("NotFoundException", 404),
    "RouteNotFound": ("NotFoundException", 404),
    "VirtualNodeNotFound": ("NotFoundException", 404),
    "VirtualGatewayNotFound": ("NotFoundException", 404),
    "GatewayRouteNotFound": ("NotFoundException", 404),
    "VirtualRouterNameAlreadyTaken": ("ConflictException", 409),
    "RouteNameAlreadyTaken": ("ConflictException", 409),
    "VirtualNodeNameAlreadyTaken": ("ConflictException", 409),
    "VirtualGatewayNameAlreadyTaken": ("ConflictException", 409),
    "GatewayRouteNameAlreadyTaken": ("ConflictException", 409),
    "MissingRequiredField": ("BadRequestException", 400),
    "MeshOwnerDoesNotMatch": ("BadRequestException", 400),
}


def _mesh_error_init(self: Any, error_type: str, message: str, *args: Any, **kwargs: Any) -> None:
    new_type, status = _ERROR_MAP.get(error_type, (error_type, 400))
    JsonRESTError.__init__(self, new_type, message)
    self.code = status


class AppMeshError(JsonRESTError):
    def __init__(self, error_type: str, status: int, message: str) -> None:
        super().__init__(error_type, message)
        self.code = status


def not_found(message: str) -> AppMeshError:
    return AppMeshError("NotFoundException", 404, message)


def conflict(message: str) -> AppMeshError:
    return AppMeshError("ConflictException", 409, message)


def in_use(message: str) -> AppMeshError:
    return AppMeshError("ResourceInUseException", 409, message)


def bad_request(message: str) -> AppMeshError:
    return AppMeshError("BadRequestException", 400, message)


# --------------------------------------------------------------------------------------------
# Metadata defaults (created/updated time and uid per resource, not per import)
# --------------------------------------------------------------------------------------------


def _fix_metadata_class(cls: type) -> None:
    original = cls.__init__
    if getattr(original, "_matbakh", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        now = datetime.now()
        if "created_at" not in kwargs:
            self.created_at = now
        if "last_updated_at" not in kwargs:
            self.last_updated_at = now
        if "uid" not in kwargs:
            self.uid = uuid.uuid4().hex

    __init__._matbakh = True  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[misc]


def _all_subclasses(cls: type) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


# --------------------------------------------------------------------------------------------
# Per-backend extension state (lives on the backend so /moto-api/reset wipes it)
# --------------------------------------------------------------------------------------------


class VirtualService:
    def __init__(self, mesh_name: str, name: str, spec: dict, tags: list, region: str,
                 account: str, owner: str) -> None:
        now = time.time()
        self.mesh_name = mesh_name
        self.name = name
        self.spec = spec
        self.tags: list[dict[str, str]] = list(tags or [])
        self.arn = f"arn:aws:appmesh:{region}:{account}:mesh/{mesh_name}/virtualService/{name}"
        self.created_at = now
        self.last_updated_at = now
        self.owner = owner
        self.uid = uuid.uuid4().hex
        self.version = 1
        self.status = "ACTIVE"

    def metadata(self) -> dict:
        return {
            "arn": self.arn,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
            "meshOwner": self.owner,
            "resourceOwner": self.owner,
            "uid": self.uid,
            "version": self.version,
        }

    def to_dict(self) -> dict:
        return {
            "meshName": self.mesh_name,
            "virtualServiceName": self.name,
            "spec": self.spec,
            "metadata": self.metadata(),
            "status": {"status": self.status},
        }

    def ref(self) -> dict:
        return {
            "arn": self.arn,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
            "meshName": self.mesh_name,
            "meshOwner": self.owner,
            "resourceOwner": self.owner,
            "version": self.version,
            "virtualServiceName": self.name,
        }


def ext_state(backend: AppMeshBackend) -> dict:
    st = backend.__dict__.get("_matbakh")
    if st is None:
        st = {"virtual_services": {}, "raw_specs": {}, "client_tokens": {}}
        backend.__dict__["_matbakh"] = st
    return st


def virtual_services(backend: AppMeshBackend, mesh_name: str) -> dict[str, VirtualService]:
    return ext_state(backend)["virtual_services"].setdefault(mesh_name, {})


# --------------------------------------------------------------------------------------------
# JSON post-processing
# --------------------------------------------------------------------------------------------

_MOTO_TS = "%d/%m/%Y, %H:%M:%S"


def _fix_timestamps(obj: Any) -> Any:
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if k in ("createdAt", "lastUpdatedAt") and isinstance(v, str):
                try:
                    obj[k] = datetime.strptime(v, _MOTO_TS).timestamp()
                except ValueError:
                    pass
            else:
                _fix_timestamps(v)
    elif isinstance(obj, list):
        for v in obj:
            _fix_timestamps(v)
    return obj


def _precise_times(backend: AppMeshBackend, data: dict) -> None:
    """Replace the second-resolution times with the object's real ones where we can find it."""
    md = data.get("metadata")
    if not isinstance(md, dict) or "arn" not in md:
        return
    obj = _find_by_arn(backend, md["arn"])
    if obj is None or isinstance(obj, VirtualService):
        return
    meta = getattr(obj, "metadata", None)
    if meta is not None and isinstance(getattr(meta, "created_at", None), datetime):
        md["createdAt"] = meta.created_at.timestamp()
        md["lastUpdatedAt"] = meta.last_updated_at.timestamp()


def _find_by_arn(backend: AppMeshBackend, arn: str) -> Any:
    try:
        return backend._get_resource_with_arn(resource_arn=arn)
    except Exception:  # noqa: BLE001
        return None


# --------------------------------------------------------------------------------------------
# Patches on AppMeshBackend
# --------------------------------------------------------------------------------------------

_orig_get_resource_with_arn = AppMeshBackend._get_resource_with_arn
_orig_create_mesh = AppMeshBackend.create_mesh
_orig_delete_mesh = AppMeshBackend.delete_mesh
_orig_delete_virtual_router = AppMeshBackend.delete_virtual_router
_orig_delete_virtual_node = AppMeshBackend.delete_virtual_node


def _get_resource_with_arn(self: AppMeshBackend, resource_arn: str) -> Any:
    for services in ext_state(self)["virtual_services"].values():
        for vs in services.values():
            if vs.arn == resource_arn:
                return vs
    return _orig_get_resource_with_arn(self, resource_arn=resource_arn)


_EGRESS_TYPES = ("ALLOW_ALL", "DROP_ALL")


def _check_egress(egress_filter_type: Any) -> None:
    if egress_filter_type is not None and egress_filter_type not in _EGRESS_TYPES:
        raise bad_request(f"spec.egressFilter.type must be one of {list(_EGRESS_TYPES)}, "
                          f"not {egress_filter_type!r}.")


_orig_update_mesh = AppMeshBackend.update_mesh


def _update_mesh(self: AppMeshBackend, client_token: Any, mesh_name: str,
                 egress_filter_type: Any, ip_preference: Any) -> Any:
    _check_egress(egress_filter_type)
    return _orig_update_mesh(self, client_token=client_token, mesh_name=mesh_name,
                             egress_filter_type=egress_filter_type, ip_preference=ip_preference)


def _create_mesh(self: AppMeshBackend, client_token: Any, mesh_name: str, *args: Any, **kwargs: Any) -> Any:
    _check_egress(kwargs.get("egress_filter_type"))
    if mesh_name in self.meshes:
        raise conflict(f"Mesh with name {mesh_name} already exists.")
    mesh = _orig_create_mesh(self, client_token, mesh_name, *args, **kwargs)
    mesh.metadata.arn = f"arn:aws:appmesh:{self.region_name}:{self.account_id}:mesh/{mesh_name}"
    # The API reports the account id as owner.
    mesh.metadata.mesh_owner = self.account_id
    mesh.metadata.resource_owner = self.account_id
    if mesh.spec.egress_filter.get("type") is None:
        mesh.spec.egress_filter["type"] = "DROP_ALL"
    return mesh


def _delete_mesh(self: AppMeshBackend, mesh_name: str) -> Any:
    mesh = self.meshes.get(mesh_name)
    if mesh is not None:
        children = []
        if virtual_services(self, mesh_name):
            children.append("virtual services")
        if mesh.virtual_routers:
            children.append("virtual routers")
        if mesh.virtual_nodes:
            children.append("virtual nodes")
        if mesh.virtual_gateways:
            children.append("virtual gateways")
        if children:
            raise in_use(
                f"Mesh {mesh_name} still contains {', '.join(children)}. "
                "Delete all resources in the mesh before deleting the mesh."
            )
    result = _orig_delete_mesh(self, mesh_name=mesh_name)
    ext_state(self)["virtual_services"].pop(mesh_name, None)
    return result


def _delete_virtual_router(self: AppMeshBackend, mesh_name: str, mesh_owner: Any, virtual_router_name: str) -> Any:
    mesh = self.meshes.get(mesh_name)
    if mesh is not None and virtual_router_name in mesh.virtual_routers:
        router = mesh.virtual_routers[virtual_router_name]
        if router.routes:
            raise in_use(
                f"Virtual router {virtual_router_name} in mesh {mesh_name} still has routes: "
                f"{', '.join(sorted(router.routes))}."
            )
        for vs in virtual_services(self, mesh_name).values():
            if ((vs.spec.get("provider") or {}).get("virtualRouter") or {}).get("virtualRouterName") == virtual_router_name:
                raise in_use(
                    f"Virtual router {virtual_router_name} in mesh {mesh_name} is the provider of "
                    f"virtual service {vs.name}."
                )
    return _orig_delete_virtual_router(self, mesh_name=mesh_name, mesh_owner=mesh_owner,
                                       virtual_router_name=virtual_router_name)


def _delete_virtual_node(self: AppMeshBackend, mesh_name: str, mesh_owner: Any, virtual_node_name: str) -> Any:
    for vs in virtual_services(self, mesh_name).values():
        if ((vs.spec.get("provider") or {}).get("virtualNode") or {}).get("virtualNodeName") == virtual_node_name:
            raise in_use(
                f"Virtual node {virtual_node_name} in mesh {mesh_name} is the provider of "
                f"virtual service {vs.name}."
            )
    return _orig_delete_virtual_node(self, mesh_name=mesh_name, mesh_owner=mesh_owner,
                                     virtual_node_name=virtual_node_name)


def _tag_resource(self: AppMeshBackend, resource_arn: str, tags: list[dict[str, str]]) -> None:
    resource = self._get_resource_with_arn(resource_arn=resource_arn)
    for tag in tags or []:
        resource.tags[:] = [t for t in resource.tags if t.get("key") != tag.get("key")]
        resource.tags.append({"key": tag.get("key"), "value": tag.get("value")})


def _untag_resource(self: AppMeshBackend, resource_arn: str, tag_keys: list[str]) -> None:
    resource = self._get_resource_with_arn(resource_arn=resource_arn)
    resource.tags[:] = [t for t in resource.tags if t.get("key") not in set(tag_keys or [])]


# --------------------------------------------------------------------------------------------
# Virtual service actions on AppMeshResponse
# --------------------------------------------------------------------------------------------


def _mesh_or_404(backend: AppMeshBackend, mesh_name: str) -> Any:
    mesh = backend.meshes.get(mesh_name)
    if mesh is None:
        raise not_found(f"Mesh {mesh_name} not found.")
    return mesh


def _check_provider(backend: AppMeshBackend, mesh: Any, spec: dict) -> None:
    provider = spec.get("provider")
    if provider is None:
        return
    if not isinstance(provider, dict) or len(provider) != 1:
        raise bad_request("spec.provider must have exactly one of virtualNode or virtualRouter.")
    if "virtualRouter" in provider:
        name = (provider["virtualRouter"] or {}).get("virtualRouterName")
        if not name:
            raise bad_request("spec.provider.virtualRouter.virtualRouterName is required.")
        if name not in mesh.virtual_routers:
            raise not_found(f"Virtual router {name} not found in mesh {mesh.mesh_name}.")
    elif "virtualNode" in provider:
        name = (provider["virtualNode"] or {}).get("virtualNodeName")
        if not name:
            raise bad_request("spec.provider.virtualNode.virtualNodeName is required.")
        if name not in mesh.virtual_nodes:
            raise not_found(f"Virtual node {name} not found in mesh {mesh.mesh_name}.")
    else:
        raise bad_request(f"Unknown provider type {list(provider)[0]}.")


def _vs_or_404(backend: AppMeshBackend, mesh_name: str, name: str) -> VirtualService:
    _mesh_or_404(backend, mesh_name)
    vs = virtual_services(backend, mesh_name).get(name)
    if vs is None:
        raise not_found(f"Virtual service {name} not found in mesh {mesh_name}.")
    return vs


def create_virtual_service(self: AppMeshResponse) -> str:
    params = json.loads(self.body or "{}")
    mesh_name = self._get_param("meshName")
    name = params.get("virtualServiceName")
    spec = params.get("spec")
    if not name:
        raise bad_request("virtualServiceName is required.")
    if spec is None:
        raise bad_request("spec is required.")
    backend = self.appmesh_backend
    mesh = _mesh_or_404(backend, mesh_name)
    services = virtual_services(backend, mesh_name)
    if name in services:
        raise conflict(f"Virtual service {name} already exists in mesh {mesh_name}.")
    _check_provider(backend, mesh, spec)
    vs = VirtualService(mesh_name, name, spec, params.get("tags"), backend.region_name,
                        backend.account_id, mesh.metadata.mesh_owner)
    services[name] = vs
    return json.dumps(vs.to_dict())


def describe_virtual_service(self: AppMeshResponse) -> str:
    vs = _vs_or_404(self.appmesh_backend, self._get_param("meshName"),
                    self._get_param("virtualServiceName"))
    return json.dumps(vs.to_dict())


def update_virtual_service(self: AppMeshResponse) -> str:
    params = json.loads(self.body or "{}")
    backend = self.appmesh_backend
    mesh_name = self._get_param("meshName")
    vs = _vs_or_404(backend, mesh_name, self._get_param("virtualServiceName"))
    spec = params.get("spec")
    if spec is None:
        raise bad_request("spec is required.")
    _check_provider(backend, backend.meshes[mesh_name], spec)
    vs.spec = spec
    vs.version += 1
    vs.last_updated_at = time.time()
    return json.dumps(vs.to_dict())


def delete_virtual_service(self: AppMeshResponse) -> str:
    backend = self.appmesh_backend
    mesh_name = self._get_param("meshName")
    vs = _vs_or_404(backend, mesh_name, self._get_param("virtualServiceName"))
    del virtual_services(backend, mesh_name)[vs.name]
    vs.status = "DELETED"
    return json.dumps(vs.to_dict())


def list_virtual_services(self: AppMeshResponse) -> str:
    backend = self.appmesh_backend
    mesh_name = self._get_param("meshName")
    _mesh_or_404(backend, mesh_name)
    refs = [vs.ref() for vs in virtual_services(backend, mesh_name).values()]
    limit = self._get_int_param("limit") or 100
    start = int(self._get_param("nextToken") or 0)
    page = refs[start:start + limit]
    out: dict[str, Any] = {"virtualServices": page}
    if start + limit < len(refs):
        out["nextToken"] = str(start + limit)
    return json.dumps(out)


def untag_resource(self: AppMeshResponse) -> str:
    params = json.loads(self.body or "{}")
    self.appmesh_backend.untag_resource(resource_arn=self._get_param("resourceArn"),
                                        tag_keys=params.get("tagKeys") or [])
    return json.dumps({})


# --------------------------------------------------------------------------------------------
# Wrapping of moto's own actions: raw specs, timestamps, idempotent creates
# --------------------------------------------------------------------------------------------

# action -> (kind, name param, body spec?)
_CREATE = {
    "create_mesh": "meshName",
    "create_virtual_node": "virtualNodeName",
    "create_virtual_router": "virtualRouterName",
    "create_route": "routeName",
    "create_virtual_service": "virtualServiceName",
}
_DESCRIBE_FOR_CREATE = {
    "create_mesh": "describe_mesh",
    "create_virtual_node": "describe_virtual_node",
    "create_virtual_router": "describe_virtual_router",
    "create_route": "describe_route",
    "create_virtual_service": "describe_virtual_service",
}
_SPEC_ACTIONS = {
    "create_virtual_node", "update_virtual_node", "describe_virtual_node", "delete_virtual_node",
    "create_virtual_router", "update_virtual_router", "describe_virtual_router", "delete_virtual_router",
    "create_route", "update_route", "describe_route", "delete_route",
    "create_mesh", "update_mesh", "describe_mesh", "delete_mesh",
}


def _token_key(self: AppMeshResponse, action: str, name: str) -> tuple:
    return (action, self._get_param("meshName"), self._get_param("virtualRouterName"), name)


def _wrap_action(action: str, fn: Callable[[AppMeshResponse], Any]) -> Callable[[AppMeshResponse], Any]:
    def wrapper(self: AppMeshResponse) -> Any:
        with _LOCK:
            backend = self.appmesh_backend
            state = ext_state(backend)
            body: dict = {}
            if self.body:
                try:
                    body = json.loads(self.body)
                except ValueError:
                    body = {}
            # Idempotent retry of a create with the same clientToken returns the object.
            if action in _CREATE:
                name = body.get(_CREATE[action]) or ""
                token = body.get("clientToken")
                key = _token_key(self, action, name)
                if token and state["client_tokens"].get(key) == token:
                    try:
                        out = getattr(self, _DESCRIBE_FOR_CREATE[action])()
                        return out
                    except Exception:  # noqa: BLE001  (object gone: create it again)
                        pass
            out = fn(self)
            if not isinstance(out, str):
                return out
            try:
                data = json.loads(out)
            except ValueError:
                return out
            _fix_timestamps(data)
            if isinstance(data, dict):
                _precise_times(backend, data)
            if action in _CREATE:
                token = body.get("clientToken")
                if token:
                    state["client_tokens"][_token_key(self, action, body.get(_CREATE[action]) or "")] = token
            if action in _SPEC_ACTIONS and isinstance(data, dict) and "metadata" in data:
                arn = data["metadata"].get("arn")
                raw = state["raw_specs"]
                if action.startswith(("create_", "update_")) and "spec" in body and action not in ("create_mesh", "update_mesh"):
                    raw[arn] = body["spec"]
                if arn in raw:
                    data["spec"] = raw[arn]
                if action.startswith("delete_"):
                    raw.pop(arn, None)
                    if "status" in data:
                        data["status"] = {"status": "DELETED"}
            return json.dumps(data)

    wrapper.__name__ = action
    wrapper._matbakh = True  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    # Errors with the real API's codes and statuses.
    am_exc.MeshError.__init__ = _mesh_error_init  # type: ignore[method-assign]

    # Per-object created/updated time and uid.
    for cls in _all_subclasses(am_shared.Metadata):
        _fix_metadata_class(cls)

    AppMeshBackend._get_resource_with_arn = _get_resource_with_arn  # type: ignore[method-assign]
    AppMeshBackend.create_mesh = _create_mesh  # type: ignore[method-assign]
    AppMeshBackend.update_mesh = _update_mesh  # type: ignore[method-assign]
    AppMeshBackend.delete_mesh = _delete_mesh  # type: ignore[method-assign]
    AppMeshBackend.delete_virtual_router = _delete_virtual_router  # type: ignore[method-assign]
    AppMeshBackend.delete_virtual_node = _delete_virtual_node  # type: ignore[method-assign]
    AppMeshBackend.tag_resource = _tag_resource  # type: ignore[method-assign]
    AppMeshBackend.untag_resource = _untag_resource  # type: ignore[attr-defined]

    for name, fn in {
        "create_virtual_service": create_virtual_service,
        "describe_virtual_service": describe_virtual_service,
        "update_virtual_service": update_virtual_service,
        "delete_virtual_service": delete_virtual_service,
        "list_virtual_services": list_virtual_services,
        "untag_resource": untag_resource,
    }.items():
        setattr(AppMeshResponse, name, fn)

    import inspect

    for name, fn in inspect.getmembers(AppMeshResponse, predicate=inspect.isfunction):
        if name.startswith(("create_", "describe_", "update_", "delete_", "list_", "tag_", "untag_")) \
                and not getattr(fn, "_matbakh", False):
            setattr(AppMeshResponse, name, _wrap_action(name, fn))

    extra = {
        "{0}/v20190125/meshes/(?P<meshName>[^/]+)/virtualServices$": AppMeshResponse.dispatch,
        "{0}/v20190125/meshes/(?P<meshName>[^/]+)/virtualServices/(?P<virtualServiceName>[^/]+)$": AppMeshResponse.dispatch,
        "{0}/v20190125/untag$": AppMeshResponse.dispatch,
    }
    for k, v in extra.items():
        am_urls.url_paths.setdefault(k, v)
