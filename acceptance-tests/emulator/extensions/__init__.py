"""matbakh extensions to moto 5.2.5 (see ../README.md)."""

from __future__ import annotations

_installed = False


def install() -> None:
    """Patch moto in place. Call once, before the server handles its first request."""
    global _installed
    if _installed:
        return
    from . import (alarm_paging, appmesh, budgets, cloudmap, dashboards, ec2_paging, ecs, elbv2, iam,
                   metrics, misc, scalable_target_tagging, scalable_targets, scaling_policies, tagging)

    appmesh.install()
    ecs.install()
    cloudmap.install()
    misc.install()
    alarm_paging.install()
    ec2_paging.install()
    dashboards.install()
    metrics.install()
    budgets.install()
    elbv2.install()
    scaling_policies.install()
    tagging.install()
    scalable_target_tagging.install()
    scalable_targets.install()
    iam.install()
    _installed = True


def wrap(app):  # type: ignore[no-untyped-def]
    from .middleware import MatbakhMiddleware

    return MatbakhMiddleware(app)
