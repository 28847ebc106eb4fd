"""The benchmark says which build it measured (scripts/bench.sh, issue #23).

A debug build's peak RSS is about twice a release build's, and the README once compared the
two; the provider's start-up log line names its build, and the benchmark prints it beside the
binary."""

from __future__ import annotations

from pathlib import Path

from harness.bench import build_of


def test_the_benchmark_names_the_build_of_the_binary(provider_binary: Path):
    build = build_of(provider_binary)
    assert build in ("debug", "release"), f"{provider_binary}: start-up log names build {build!r}"
    # cargo's own output directories say which profile made the binary.
    if provider_binary.parent.name in ("debug", "release"):
        assert build == provider_binary.parent.name
