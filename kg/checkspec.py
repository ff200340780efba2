"""A check of a new claim as plain values, and the text forms `verify claim new` reads them from:
``--param key=value``, ``--params-json`` and ``--check 'ID --option value ...'``, one further
check in one argument, written with the same options as the claim's first check.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from kg import ns
from kg.errors import UsageError
from kg.textutil import did_you_mean

RULE_OPTIONS = ("metric", "better", "subject", "baseline", "threshold", "tolerance", "quantifier")
CHECK_OPTIONS = ("benchmark", "param", "params-json", *RULE_OPTIONS, "stands-in")
COMBINE = ("all", "any")
CHECK_ID_MAX = 60  # as kg/shapes.ttl allows
_OPTION = re.compile(r"--([a-z][a-z-]*)(?:(?:=|\s+)(.*))?", re.S)


@dataclass
class CheckSpec:
    """A check as plain values. A further check (`--check`) holds only what it changes of the
    claim's first check; `all_checks` gives every check in full."""

    id: str
    benchmark: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    replace_parameters: bool = False  # --params-json given: not merged into the first's
    rule: dict[str, Any] = field(default_factory=dict)
    stands_in: str | None = None  # None: the first check's; "": none


def parse_param(text: str) -> tuple[str, Any]:
    """'key=value' as (key, value); the value is read as JSON when it parses (batch_sizes=[1,4],
    year=2020, exact=true), else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--param '{text}' is not key=value: write e.g. --param batch_sizes=[1,4]")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def parse_params(pairs: list[str], params_json: str | None) -> dict[str, Any]:
    """Parameters from --params-json (an object) overlaid with each --param key=value."""
    params: dict[str, Any] = {}
    if params_json:
        try:
            params = json.loads(params_json)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"--params-json is not valid JSON ({e.msg} at character {e.pos})"
            ) from e
        if not isinstance(params, dict):
            raise UsageError('--params-json must be a JSON object, e.g. {"batch_sizes": [1, 8]}')
    for pair in pairs:
        key, value = parse_param(pair)
        params[key] = value
    return params


def parse_check(text: str) -> CheckSpec:
    """A further check from its one-argument form: its id, then check options as the command
    takes them ("xla --subject tf-xla --param tiers=[...] --stands-in some words"); a value runs
    to the next " --"."""
    head, *parts = re.split(r"\s+(?=--[a-z])", text.strip())
    if not is_check_id(head):
        raise UsageError(
            f"--check '{text.strip()}': start with the check's id, kebab-case (at most"
            f" {CHECK_ID_MAX} characters), then what it changes, e.g. --check 'xla --subject tf-xla'"
        )
    where = f"--check {head}"
    if not parts:
        raise UsageError(
            f"{where}: it names no option, so it would repeat the first check: say where it"
            " differs, e.g. --check 'xla --subject tf-xla'"
        )
    check = CheckSpec(head)
    seen: set[str] = set()
    pairs: list[str] = []
    params_json: str | None = None
    for part in parts:
        m = _OPTION.fullmatch(part)
        if m is None:
            raise UsageError(
                f"{where}: cannot read '{part}': write each option as --name value,"
                " e.g. --subject tf-xla"
            )
        name, value = m[1], (m[2] or "").strip()
        if name not in CHECK_OPTIONS:
            flags = ["--" + o for o in CHECK_OPTIONS]
            raise UsageError(
                f"{where}: --{name} is not a check option.{did_you_mean('--' + name, flags)}"
                f" Use {', '.join(flags)}"
            )
        if name in seen and name != "param":
            raise UsageError(f"{where}: --{name} is given twice; give it once")
        seen.add(name)
        if not value and name != "stands-in":
            raise UsageError(f"{where}: --{name} needs a value, e.g. --{name} VALUE")
        if name == "param":
            pairs.append(value)
        elif name == "params-json":
            params_json = value
        elif name == "benchmark":
            check.benchmark = value
        elif name == "stands-in":
            check.stands_in = value
        elif name in ("threshold", "tolerance"):
            check.rule[name] = _number(value, f"{where}: --{name}")
        else:
            check.rule[name] = value
    try:
        check.parameters = parse_params(pairs, params_json)
    except UsageError as e:
        raise UsageError(f"{where}: {e}") from None
    check.replace_parameters = params_json is not None
    return check


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UsageError(f"{what} must be a number, not '{text}'")
    return value


def is_check_id(text: str) -> bool:
    """Whether `text` can be a check's id (kebab-case, as short as kg/shapes.ttl asks)."""
    return ns.is_claim_id(text) and len(text) <= CHECK_ID_MAX
