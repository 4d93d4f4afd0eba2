from fastapi.testclient import TestClient

from app.main import NAME, app

client = TestClient(app)


def test_health() -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_about_names_the_service() -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json()["name"] == NAME == "${{ values.name }}"
