"""AuraClient turns every way the gateway can say no into an AuraError with a code and a message."""

from __future__ import annotations

import httpx
import pytest

from fl.sdk import AuraClient, AuraError, _error_of
from tests.conftest import free_port


def _response(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", "http://aura/api/v1/submissions"))


@pytest.mark.parametrize(("status", "body", "code", "message"), [
    (415, {"detail": {"code": "pickle_refused", "message": "this is a Python pickle"}}, "pickle_refused",
     "this is a Python pickle"),
    (409, {"detail": "round 3 of heart-mlp already has a different global model"}, "http_409",
     "round 3 of heart-mlp already has a different global model"),
    (422, {"detail": [{"loc": ["body", "round"], "msg": "Field required"}]}, "invalid_request",
     "body.round: Field required"),
])
def test_the_gateways_code_and_message_are_kept_whatever_shape_its_error_has(status, body, code, message):
    error = _error_of(_response(status, body))

    assert (error.status, error.code, error.message) == (status, code, message)
    assert str(error) == f"gateway refused ({status} {code}): {message}"


def test_an_unreachable_gateway_is_an_aura_error_with_status_zero():
    client = AuraClient(f"http://127.0.0.1:{free_port()}", "aura_key", timeout=2)

    with pytest.raises(AuraError) as caught:
        client.submit(b"bytes", task="heart-mlp", round=1)

    assert caught.value.status == 0 and "unreachable" in str(caught.value)
