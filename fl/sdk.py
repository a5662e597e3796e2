"""AuraClient: a small Python client of AURA's gateway (submit updates, open rounds, read verdicts)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.signing import HEADER, Signed, new_nonce, sign

# A submission is finished when its verdict is in the ledger, or when it ended in `error`
# (which the sweeper may give before the ledger stage ever ran).
FINISHED_STATUS = "recorded"


class AuraError(Exception):
    """The gateway refused a request (HTTP status, AURA's stable code, its message), or was unreachable (status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"gateway refused ({status} {code}): {message}" if status else
                         f"gateway unreachable ({code}): {message}")
        self.status = status
        self.code = code
        self.message = message


class VerdictTimeout(Exception):
    """Some submissions had no final verdict within the time allowed."""

    def __init__(self, pending: list[str], finished: dict[str, dict[str, Any]]) -> None:
        super().__init__(f"no verdict within the time allowed for {len(pending)} submission(s): {', '.join(pending)}")
        self.pending = pending
        self.finished = finished


def _error_of(response: httpx.Response) -> AuraError:
    """The gateway's code and message from an error response, whatever shape its body has."""
    code, message = f"http_{response.status_code}", response.text.strip() or response.reason_phrase
    try:
        detail = response.json().get("detail", message)
    except ValueError:
        detail = message
    if isinstance(detail, dict):
        code, message = str(detail.get("code", code)), str(detail.get("message", detail))
    elif isinstance(detail, list):  # FastAPI's request validation errors
        code = "invalid_request"
        message = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in detail)
    else:
        message = str(detail)
    return AuraError(response.status_code, code, message)


class AuraClient:
    """Talks to one AURA gateway with one API key; `for_key` gives a client sharing the connection.

    With a `signing_key` (the hospital's Ed25519 private key) every submission is signed; the
    hospital id the signature names is asked of the gateway once, unless given.
    """

    def __init__(self, url: str, key: str, *, timeout: float = 30.0, http: httpx.Client | None = None,
                 signing_key: Ed25519PrivateKey | None = None, hospital: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.signing_key = signing_key
        self._hospital = hospital
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)

    def for_key(self, key: str, *, signing_key: Ed25519PrivateKey | None = None,
                hospital: str | None = None) -> AuraClient:
        """The same gateway and connection pool, another key (e.g. a hospital's, with its signing key)."""
        return AuraClient(self.url, key, http=self._http, signing_key=signing_key, hospital=hospital)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> AuraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, headers={"X-API-Key": self.key, **(headers or {})}, **kwargs)
        except httpx.TransportError as exc:  # refused, reset, timed out: status 0, so callers fail closed
            raise AuraError(0, type(exc).__name__, f"{self.url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error_of(response)
        return response.json()

    def submit(self, data: bytes, *, round: int, task: str | None = None, federation: str | None = None,
               run: int | None = None, num_examples: int | None = None, idempotency_key: str | None = None,
               filename: str = "update.safetensors") -> dict[str, Any]:
        """Submit an update (safetensors bytes) for a round of a federation (or a task's default one)."""
        form: dict[str, str] = {"round": str(round)}
        form |= {k: str(v) for k, v in (("task", task), ("federation", federation), ("run", run)) if v is not None}
        if num_examples is not None:
            form["num_examples"] = str(num_examples)
        # Retrying with the same key is safe: AURA returns the first response (an RFC 8941 string).
        headers = {"Idempotency-Key": '"' + idempotency_key.replace("\\", "\\\\").replace('"', '\\"') + '"'} \
            if idempotency_key is not None else {}
        if self.signing_key is not None:  # signed afresh on every call: a nonce is good for one request
            signed = Signed(hospital=self.hospital(), federation=federation, task=task, run=run, round=round,
                            sha256=hashlib.sha256(data).hexdigest(), signed_at=int(time.time()), nonce=new_nonce())
            headers[HEADER] = sign(self.signing_key, signed)
        files = {"file": (filename, data, "application/octet-stream")}
        result: dict[str, Any] = self._request("POST", "/api/v1/submissions", data=form, files=files, headers=headers)
        return result

    def hospital(self) -> str:
        """The hospital this client's key belongs to."""
        if self._hospital is None:
            hospital = self._request("GET", "/api/v1/me").get("hospital_id")
            if not hospital:
                raise AuraError(403, "not_a_hospital", "this key belongs to no hospital, so it cannot sign updates")
            self._hospital = str(hospital)
        return self._hospital

    def register_signing_key(self, hospital_id: str, public_key: str) -> dict[str, Any]:
        """Register a hospital's Ed25519 public key (admin key; base64 raw or PEM)."""
        result: dict[str, Any] = self._request("POST", f"/api/v1/hospitals/{hospital_id}/signing-keys",
                                               json={"public_key": public_key})
        return result

    def change_federation(self, federation_id: str, **settings: Any) -> dict[str, Any]:
        """Change a federation's settings, e.g. require_signatures=True (operator key)."""
        result: dict[str, Any] = self._request("PATCH", f"/api/v1/federations/{federation_id}", json=settings)
        return result

    def submission(self, submission_id: str) -> dict[str, Any]:
        """One submission with its status, verdict, reasons and evidence."""
        result: dict[str, Any] = self._request("GET", f"/api/v1/submissions/{submission_id}")
        return result

    def wait(self, submission_ids: Iterable[str], *, timeout: float, poll: float = 0.25,
             on_finished: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
        """Poll until every submission is finished (calling `on_finished` for each); VerdictTimeout otherwise."""
        pending = list(dict.fromkeys(submission_ids))
        finished: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending:
            for submission_id in list(pending):
                body = self.submission(submission_id)
                if body.get("status") == FINISHED_STATUS or body.get("verdict") == "error":
                    finished[submission_id] = body
                    pending.remove(submission_id)
                    if on_finished is not None:
                        on_finished(submission_id, body)
            if not pending:
                break
            if time.monotonic() >= deadline:
                raise VerdictTimeout(pending, finished)
            time.sleep(poll)
        return finished

    def tasks(self) -> list[dict[str, Any]]:
        """The registered tasks with their open rounds."""
        result: list[dict[str, Any]] = self._request("GET", "/api/v1/tasks")
        return result

    def open_rounds(self, task: str) -> list[int]:
        """The rounds of `task` that have a registered global model."""
        for entry in self.tasks():
            if entry["name"] == task:
                return [int(r) for r in entry["rounds"]]
        raise AuraError(404, "unknown_task", f"the gateway knows no task {task!r}")

    def open_round(self, task: str, round: int, data: bytes) -> dict[str, Any]:
        """Register the global model (safetensors bytes) a round starts from (operator key)."""
        files = {"file": ("global.safetensors", data, "application/octet-stream")}
        result: dict[str, Any] = self._request("POST", f"/api/v1/tasks/{task}/rounds/{round}", files=files)
        return result

    def create_federation(self, federation_id: str, task: str, *, name: str = "", recipe: dict[str, Any] | None = None,
                          calibration_rounds: int = 0, require_signatures: bool = False) -> dict[str, Any]:
        """Create a federation (operator key); its run 1 starts with no round open."""
        body = {"id": federation_id, "task": task, "name": name, "recipe": recipe or {},
                "calibration_rounds": calibration_rounds, "require_signatures": require_signatures}
        result: dict[str, Any] = self._request("POST", "/api/v1/federations", json=body)
        return result

    def federation(self, federation_id: str) -> dict[str, Any]:
        """A federation with its runs, their open rounds and the calibration in force."""
        result: dict[str, Any] = self._request("GET", f"/api/v1/federations/{federation_id}")
        return result

    def start_run(self, federation_id: str, *, calibration_rounds: int = 0) -> int:
        """Start the federation's next run (operator key); its number."""
        result = self._request("POST", f"/api/v1/federations/{federation_id}/runs",
                               json={"calibration_rounds": calibration_rounds})
        return int(result["run"])

    def open_federation_round(self, federation_id: str, run: int, round: int, data: bytes) -> dict[str, Any]:
        """Open a round of a run with its global model (safetensors bytes; operator key; rounds open in order)."""
        files = {"file": ("global.safetensors", data, "application/octet-stream")}
        result: dict[str, Any] = self._request("POST", f"/api/v1/federations/{federation_id}/runs/{run}/rounds/{round}",
                                               files=files)
        return result

    def calibrate(self, federation_id: str, *, run: int, rounds: list[int], note: str = "") -> dict[str, Any]:
        """Fit the federation's next calibration from rounds you vouch are honest (operator key)."""
        result: dict[str, Any] = self._request("POST", f"/api/v1/federations/{federation_id}/calibrations",
                                               json={"run": run, "rounds": rounds, "note": note})
        return result

    def create_hospital(self, hospital_id: str, name: str) -> str:
        """Register a hospital (admin key) and return its API key."""
        return str(self._request("POST", "/api/v1/hospitals", json={"id": hospital_id, "name": name})["api_key"])

    def verify_ledger(self) -> dict[str, Any]:
        """Recompute the ledger on the gateway; its report (`ok`, `size`, ...)."""
        result: dict[str, Any] = self._request("POST", "/api/v1/ledger/verify")
        return result

    def health(self) -> bool:
        """True when the gateway answers its health check."""
        try:
            return self._http.get("/api/v1/health").status_code == 200
        except httpx.HTTPError:
            return False

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET any API path (operator tools, tests)."""
        return self._request("GET", path, params=params)
