"""AWS's published API rate quotas, as token buckets per account and region (issue #23).

AWS throttles each account's API requests per region with token buckets: a bucket holds at
most `burst` tokens, refills `rate` tokens per second, and every request takes one; a request
that finds the bucket empty is answered with the service's throttling error and takes nothing.
The fault proxy (harness/fault_proxy.py, `quotas=QuotaModel()`) enforces these so that the
benchmark and the chaos suite meet the limit real AWS sets.

Sources (the published figures; where a page gives only a rate per second, the burst is taken
to be one second's worth, the most a bucket refilled at that rate can be said to hold):
  ECS          API reference, "Request throttling for the Amazon ECS API" (burst / refill)
  CloudWatch   "CloudWatch service quotas" (transactions per second)
  Logs         "CloudWatch Logs quotas" (transactions per second)
  ELB v2       Elastic Load Balancing user guide, "API throttling" (burst / refill, and an
               account-wide bucket every ELB request also takes a token from)
Cloud Map, Application Auto Scaling and App Mesh publish no figures: their requests are not
throttled by this model (said, not guessed). Operations of a listed service that the pages do
not list are not throttled either.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

# (signing name, operation) -> (burst, refill per second)
PUBLISHED: dict[tuple[str, str], tuple[float, float]] = {
    # ECS: burst / refill.
    ("ecs", "DescribeServices"): (100, 20),
    ("ecs", "ListServices"): (100, 20),
    ("ecs", "DescribeTaskDefinition"): (50, 20),
    ("ecs", "RegisterTaskDefinition"): (20, 1),
    ("ecs", "DeregisterTaskDefinition"): (20, 1),
    ("ecs", "ListTagsForResource"): (50, 20),
    # CloudWatch: transactions per second.
    ("monitoring", "DescribeAlarms"): (9, 9),
    ("monitoring", "GetDashboard"): (10, 10),
    ("monitoring", "ListTagsForResource"): (10, 10),
    ("monitoring", "PutMetricAlarm"): (3, 3),
    # CloudWatch Logs: transactions per second. ListTagsLogGroup is the older name of the same
    # read (deprecated in favour of ListTagsForResource) and is counted alike.
    ("logs", "ListTagsForResource"): (5, 5),
    ("logs", "ListTagsLogGroup"): (5, 5),
    ("logs", "PutRetentionPolicy"): (5, 5),
    ("logs", "DescribeLogGroups"): (10, 10),
}
# ELB v2: every Describe* has its own 40 / 10 bucket, and every request of the service also
# takes a token from the account-wide 40 / 10 bucket.
ELB = "elasticloadbalancing"
ELB_DESCRIBE = (40, 10)
ELB_ACCOUNT = (40, 10)


def buckets_for(service: str, operation: str) -> list[str]:
    """The names of the buckets a request takes a token from (none: not throttled)."""
    out = []
    if (service, operation) in PUBLISHED:
        out.append(f"{service}:{operation}")
    if service == ELB:
        if operation.startswith("Describe"):
            out.append(f"{ELB}:{operation}")
        out.append(f"{ELB}:*")
    return out


def figures(bucket: str) -> tuple[float, float]:
    service, _, operation = bucket.partition(":")
    if service == ELB:
        return ELB_ACCOUNT if operation == "*" else ELB_DESCRIBE
    return PUBLISHED[(service, operation)]


@dataclass
class Bucket:
    burst: float
    rate: float
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now


@dataclass
class QuotaModel:
    """Buckets by name, created full on first use. `take` is atomic across buckets: a request
    takes a token from each of its buckets, or from none when any is empty."""

    clock: "callable" = time.monotonic  # type: ignore[valid-type]
    buckets: dict[str, Bucket] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, service: str, operation: str) -> str | None:
        """None when the request may go on; else the name of the empty bucket."""
        names = buckets_for(service, operation)
        if not names:
            return None
        with self._lock:
            now = self.clock()
            held = []
            for name in names:
                b = self.buckets.get(name)
                if b is None:
                    burst, rate = figures(name)
                    b = self.buckets[name] = Bucket(burst, rate, burst, now)
                b.refill(now)
                held.append(b)
            for name, b in zip(names, held):
                if b.tokens < 1:
                    self.throttled[name] = self.throttled.get(name, 0) + 1
                    return name
            for b in held:
                b.tokens -= 1
            return None

    def reset(self) -> None:
        with self._lock:
            self.buckets.clear()
            self.throttled.clear()


def floor_seconds(calls: dict[str, int]) -> dict[str, float]:
    """The lower bound the quotas set on the wall time of a run that makes `calls` (AWS
    operation "service:Operation" -> count, as the benchmark counts them), per bucket: the
    calls beyond the burst divided by the refill rate. The run's floor is the largest."""
    per_bucket: dict[str, int] = {}
    for key, n in calls.items():
        service, _, operation = key.partition(":")
        for name in buckets_for(service, operation):
            per_bucket[name] = per_bucket.get(name, 0) + n
    out = {}
    for name, n in per_bucket.items():
        burst, rate = figures(name)
        if n > burst:
            out[name] = round((n - burst) / rate, 2)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))
