"""The built dashboard at /: its files, index.html for deep links, and no shadowing of the API."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway.routers import health
from services.gateway.spa import mount_dashboard


def _built(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root>dashboard</div>")
    (tmp_path / "assets" / "app.js").write_text("console.log('app')")
    return tmp_path


def _client(tmp_path):
    app = FastAPI()
    app.include_router(health.router)
    mount_dashboard(app, _built(tmp_path))
    return TestClient(app)


def test_deep_link_serves_index_html(tmp_path):
    response = _client(tmp_path).get("/submissions/3f2a")

    assert response.status_code == 200 and "dashboard" in response.text


def test_assets_are_served_and_missing_assets_stay_404(tmp_path):
    client = _client(tmp_path)

    assert client.get("/assets/app.js").text == "console.log('app')"
    assert client.get("/assets/gone.js").status_code == 404


def test_api_routes_and_api_misses_are_not_shadowed(tmp_path):
    client = _client(tmp_path)

    assert client.get("/api/v1/health").json() == {"status": "ok"}
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and "dashboard" not in missing.text
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_nothing_is_mounted_before_the_dashboard_is_built(tmp_path):
    app = FastAPI()
    mount_dashboard(app, tmp_path)

    assert TestClient(app).get("/").status_code == 404


def test_the_dashboard_api_and_docs_get_their_security_headers(tmp_path):
    from services.gateway.headers import SecurityHeaders

    app = FastAPI()
    app.include_router(health.router)
    mount_dashboard(app, _built(tmp_path))
    app.add_middleware(SecurityHeaders)
    client = TestClient(app)

    page, api, docs = client.get("/submissions/3f2a"), client.get("/api/v1/health"), client.get("/docs")
    for response in (page, api, docs):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "content-security-policy" not in docs.headers  # Swagger UI loads from its CDN with an inline start-up
    assert "strict-transport-security" not in page.headers
    assert "strict-transport-security" in TestClient(app, base_url="https://aura.example").get("/").headers
