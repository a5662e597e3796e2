"""Every input is bounded at the edge: out-of-range numbers, NUL bytes and path-like ids get 422, never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.gateway.app import create_app


def _unbounded(where: str, schema: dict[str, Any], found: list[str], components: dict[str, Any]) -> None:
    if "$ref" in schema:  # a nested model: its fields in turn
        for name, field in components[schema["$ref"].rsplit("/", 1)[1]].get("properties", {}).items():
            _unbounded(f"{where}.{name}", field, found, components)
    for alternative in schema.get("anyOf", []):
        _unbounded(where, alternative, found, components)
    kind = schema.get("type")
    if kind == "integer" and not {"maximum", "exclusiveMaximum", "enum", "const"} & set(schema):
        found.append(f"integer without a maximum: {where}")
    if kind == "string" and not {"maxLength", "pattern", "enum", "const", "format", "contentMediaType"} & set(schema):
        found.append(f"string without a length, pattern or values: {where}")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"array without maxItems: {where}")
        _unbounded(f"{where}[]", schema.get("items", {}), found, components)


def test_every_parameter_and_body_field_of_the_openapi_document_is_bounded():
    document = create_app().openapi()
    components = document["components"]["schemas"]
    found: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _unbounded(f"{method.upper()} {path} {parameter['name']}", parameter["schema"], found, components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                _unbounded(f"{method.upper()} {path} body", content["schema"], found, components)
    assert found == []


BAD_REQUESTS = [
    ("post", "/api/v1/hospitals", {"json": {"id": "", "name": "x"}}, "id"),
    ("post", "/api/v1/hospitals", {"json": {"id": "../etc", "name": "x"}}, "id"),
    ("post", "/api/v1/hospitals", {"json": {"id": "a/b", "name": "x"}}, "id"),
    ("post", "/api/v1/hospitals", {"json": {"id": "fine-id", "name": "nul\u0000byte"}}, "name"),
    ("post", "/api/v1/federations", {"json": {"id": "fed-x", "task": "heart-mlp", "recipe": {"k": "v\u0000"}}},
     "recipe"),
    ("post", "/api/v1/federations", {"json": {"id": "fed-y", "task": "heart-mlp", "calibration_rounds": 2**31}},
     "calibration_rounds"),
    ("get", "/api/v1/submissions", {"params": {"round": str(2**63)}}, "round"),
    ("get", "/api/v1/submissions", {"params": {"round": "0"}}, "round"),
    ("get", "/api/v1/submissions", {"params": {"hospital": "\u0000"}}, "hospital"),
    ("get", "/api/v1/submissions", {"params": {"offset": str(2**31)}}, "offset"),
    ("get", f"/api/v1/ledger/entries/{2**63}", {}, "index"),
    ("get", "/api/v1/ledger/proofs/inclusion", {"params": {"index": str(2**40)}}, "index"),
    ("get", "/api/v1/submissions/not-a-uuid", {}, "submission_id"),
    ("get", "/api/v1/hospitals/a%00b", {}, "hospital_id"),
    ("delete", f"/api/v1/keys/{2**40}", {}, "key_id"),
    ("post", "/api/v1/federations/heart-mlp/calibrations", {"json": {"run": 1, "rounds": [0]}}, "rounds"),
    ("post", "/api/v1/federations/heart-mlp/calibrations", {"json": {"run": 2**31, "rounds": [1]}}, "run"),
]


@pytest.mark.parametrize(("method", "path", "request_args", "field"), BAD_REQUESTS,
                         ids=[f"{m} {p} {f}" for m, p, _, f in BAD_REQUESTS])
def test_out_of_range_input_is_refused_with_422_naming_the_field(gateway, operator_headers, method, path,
                                                                  request_args, field):
    response = httpx.request(method, f"{gateway}{path}", headers=operator_headers, **request_args)

    assert response.status_code == 422, response.text
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}


def test_a_submission_round_past_the_database_integer_is_refused(gateway, new_hospital):
    hospital = new_hospital()
    response = httpx.post(f"{gateway}/api/v1/submissions", headers=hospital.headers,
                          data={"round": str(2**31), "task": "heart-mlp"}, files={"file": ("u", b"x")})

    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "round"]
