"""Pages by offset, as the extensions that page a moto answer hand them out.

The token is the offset of the page's first item as text; a token that is not one is refused with
the service's own error (`refuse`, which raises). Shared by ECS ListServices and Application Auto
Scaling's DescribeScalableTargets and DescribeScalingPolicies.
"""

from __future__ import annotations

from typing import Callable, NoReturn, Sequence, TypeVar

T = TypeVar("T")


def page_of(items: Sequence[T], token: str | None, size: int,
            refuse: Callable[[str], NoReturn]) -> tuple[Sequence[T], str | None]:
    """The page of `size` items that `token` starts (the first without one), and the next page's
    token (None on the last page)."""
    try:
        start = int(token) if token else 0
    except ValueError:
        refuse(f"Invalid NextToken {token!r}")
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
