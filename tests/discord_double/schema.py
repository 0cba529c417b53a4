"""Validate request bodies against Discord's published OpenAPI request schemas.

The schemas are a subset of ``specs/openapi.json`` from discord/discord-api-spec (MIT, see
``LICENSE-discord-api-spec`` beside this file), copied here so tests never read anything
outside the repository. Discord marks that spec as possibly inaccurate, so a schema error is
recorded as a violation to look at, never used to reject a request; where the spec is known to
disagree with what discord.py legitimately sends, the check is relaxed below (with the reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SPEC_PATH = Path(__file__).with_name("discord-openapi-subset.json")


@cache
def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = json.load(fh)
    return spec


def route_keys() -> list[str]:
    """The ``"METHOD /path/{param}"`` keys the subset has schemas for."""
    return list(load_spec()["x-routes"])


@cache
def _validator(schema_name: str) -> Any:
    spec = load_spec()
    if schema_name not in spec["components"]["schemas"]:
        raise KeyError(schema_name)
    # The whole document is the root resource, so "#/components/schemas/..." refs resolve.
    root = {"components": spec["components"], "$ref": f"#/components/schemas/{schema_name}"}
    return Draft202012Validator(root)


# A relaxation: (why, predicate over a jsonschema error). Errors matching one are dropped.
Relaxation = tuple[str, Callable[[Any], bool]]


def _attachment_index_id(error: Any) -> bool:
    # discord.py (File.to_dict) sends a NEW attachment's id as the integer index n of its
    # multipart part ``files[n]``, as Discord's docs describe; the spec types every
    # attachment id as a snowflake string.
    path = list(error.absolute_path)
    return (
        len(path) >= 3
        and path[-3] == "attachments"
        and isinstance(path[-2], int)
        and path[-1] == "id"
        and error.validator == "type"
        and isinstance(error.instance, int)
        and not isinstance(error.instance, bool)
    )


RELAXATIONS: list[Relaxation] = [
    (
        "new attachments are referenced by integer index (discord.py File.to_dict)",
        _attachment_index_id,
    ),
]


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "<body>"
    return f"{where}: {error.message[:300]}"


def _relaxed(error: Any) -> bool:
    """A relaxed error; an anyOf / oneOf failure is relaxed when one of its branches failed
    only on relaxed errors (e.g. a webhook body whose only fault is an integer attachment id:
    jsonschema reports it as "not valid under any of the given schemas")."""
    if any(pred(error) for _, pred in RELAXATIONS):
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        return any(all(_relaxed(sub) for sub in errs) for errs in branches.values())
    return False


def _errors(schema_name: str, body: Any) -> list[str]:
    validator = _validator(schema_name)
    out: list[str] = []
    for err in validator.iter_errors(body):
        if _relaxed(err):
            continue
        # For anyOf/oneOf failures point at the most relevant branch error.
        best = best_match([err]) or err
        if _relaxed(best):
            continue
        out.append(_describe(best))
    return out


def validate_route(route_key: str, body: Any) -> list[str]:
    """Errors of ``body`` against the schema of ``route_key`` (e.g. ``"POST /channels/
    {channel_id}/messages"``); ``[]`` when valid or when the subset has no schema for it."""
    routes: Mapping[str, str] = load_spec()["x-routes"]
    name = routes.get(route_key)
    if name is None:
        return []
    return _errors(name, body)


def validate_callback(body: Any) -> list[str]:
    """Errors of an interaction callback body, checked against the schema of its type."""
    callbacks: Mapping[str, str] = load_spec()["x-callbacks"]
    ctype = body.get("type") if isinstance(body, Mapping) else None
    name = callbacks.get(str(ctype))
    if name is None:
        return [f"type: unknown interaction callback type {ctype!r}"]
    return _errors(name, body)
