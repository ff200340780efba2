"""Valid run records for tests: the smallest record kg.records accepts, to be varied."""

from __future__ import annotations

import copy
from typing import Any

ENV = "x86-2core-cpu-test-abc123"


def minimal_record(
    claim_id: str = "c1",
    started: str = "2025-01-02T03:04:05.000000Z",
    env_id: str = ENV,
    record_id: str = "r",
    **extra: Any,
) -> dict[str, Any]:
    """A schema-valid version 2 record of a probe check that held."""
    record = {
        "schema_version": 2,
        "record_id": record_id,
        "claim_id": claim_id,
        "status": "ok",
        "check": {
            "claim_id": claim_id,
            "kind": "capability",
            "benchmark": "onnx-export",
            "module": "verify.benchmarks.probes",
            "benchmark_type": "probe",
            "parameters": {},
            "rule": {
                "metric": "succeeds",
                "better": "higher",
                "subject": "onnx-export",
                "baseline": None,
                "threshold": 1.0,
                "tolerance": 0.0,
                "quantifier": "exists",
            },  # fmt: skip
            "conditions": {"device": "any"},
        },
        "verdict": {"label": "holds", "explanation": "It works."},
        "started": started,
        "ended": started,
        "environment_id": env_id,
        "environment": {
            "cpu": {"model": "test", "arch": "x86_64"},
            "cores_logical": 2,
            "ram_bytes": 2**30,
            "gpus": [],
            "os": {"system": "Linux"},
            "python": "3.11.0",
            "packages": {},
        },  # fmt: skip
        "cells": [],
        "errors": [],
    }
    return {**copy.deepcopy(record), **extra}
