"""${{ values.name }}: ${{ values.description }}"""

from acme_observability import setup
from fastapi import FastAPI

setup(service="${{ values.name }}")
app = FastAPI(title="${{ values.name }}")


@app.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
