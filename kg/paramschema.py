"""A benchmark's typed parameters: the JSON Schema in its ``fwc:parameterSchema`` (in
claims/benchmarks.ttl), compiled once, and the problems a check's ``fwc:parameters`` have with it.

Only a small subset of JSON Schema is accepted (types, ranges, lists, enums, descriptions): the
schema is compiled into Python by fastjsonschema, so nothing outside that subset, and no property
name that is not a plain identifier, reaches the generated code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

KEYWORDS = frozenset(
    {
        "$schema", "type", "description", "properties", "required", "additionalProperties",
        "items", "minItems", "maxItems", "uniqueItems", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "enum", "const", "anyOf", "minLength",
        "maxLength", "pattern", "default",
    }
)  # fmt: skip
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


class SchemaProblem(ValueError):
    """A parameter schema that is not JSON, or not of the accepted subset."""


Validator = Callable[[Any], Any]


@lru_cache(maxsize=64)
def compile_schema(text: str) -> tuple[Validator, dict[str, Any]]:
    """The validator of a parameter schema and the schema itself; SchemaProblem says what is wrong."""
    import fastjsonschema

    try:
        schema = json.loads(text)
    except json.JSONDecodeError as e:
        raise SchemaProblem(f"is not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise SchemaProblem('must be a JSON Schema of an object: {"type": "object", ...}')
    _check_subset(schema, "the schema")
    try:
        return fastjsonschema.compile(schema, use_default=False), schema
    except Exception as e:  # noqa: BLE001 - any failure to compile is a problem of the schema
        raise SchemaProblem(f"does not compile ({e})") from None


def _check_subset(node: Any, where: str) -> None:
    if not isinstance(node, dict):
        raise SchemaProblem(f"{where} must be a JSON object")
    unknown = sorted(set(node) - KEYWORDS)
    if unknown:
        raise SchemaProblem(
            f"{where} uses {', '.join(unknown)}, which parameter schemas do not: use only"
            f" {', '.join(sorted(KEYWORDS))}"
        )
    types = node.get("type", [])
    for t in types if isinstance(types, list) else [types]:
        if t not in _TYPES:
            raise SchemaProblem(f"{where} has unknown type {t!r}")
    for key in ("properties",):
        props = node.get(key, {})
        if not isinstance(props, dict):
            raise SchemaProblem(f"{where}: {key} must be an object")
        for name, sub in props.items():
            if not _NAME.fullmatch(name):
                raise SchemaProblem(f"{where}: parameter name {name!r} is not snake_case")
            _check_subset(sub, name)
    for name in node.get("required", []):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SchemaProblem(f"{where}: required names {name!r}, which is not snake_case")
    if "items" in node:
        _check_subset(node["items"], f"{where} items")
    for i, sub in enumerate(node.get("anyOf", [])):
        _check_subset(sub, f"{where} anyOf[{i}]")
    if isinstance(node.get("additionalProperties"), dict):
        _check_subset(node["additionalProperties"], f"{where} additionalProperties")


def names(schema: dict[str, Any]) -> set[str]:
    """The parameter names a schema describes."""
    return set(schema.get("properties", {}))


def problem(validator: Validator, schema: dict[str, Any], params: dict[str, Any]) -> str | None:
    """What is wrong with `params` under the schema, in one phrase, or None."""
    import fastjsonschema

    try:
        validator(params)
    except fastjsonschema.JsonSchemaValueException as e:
        field = (e.name or "data").replace("data.", "", 1).replace("data", "the parameters", 1)
        reason = _reason(e)
        if e.rule == "required" and isinstance(e.value, dict):
            missing = [n for n in schema.get("required", []) if n not in e.value]
            field = ", ".join(missing) or field
            reason = "is required" if len(missing) == 1 else "are required"
        prop = schema.get("properties", {}).get(field.split("[")[0].split(".")[0], {})
        if e.rule == "anyOf" or not reason:
            reason = "is not valid"
        found = json.dumps(e.value, ensure_ascii=False)
        found = found if len(found) <= 60 else found[:57] + "..."
        want = f"; {field.split('[')[0]} is {prop['description']}" if "description" in prop else ""
        return f"{field} {reason} (found {found}){want}"
    return None


def _reason(e: Any) -> str:
    message = str(e.message)
    prefix = (e.name or "data") + " "
    return message[len(prefix) :] if message.startswith(prefix) else message
