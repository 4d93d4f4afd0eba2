"""The HTTP API of ${{ values.name }}.

Run it with `uvicorn app.main:app --reload`; the interactive API docs are at /docs.
"""

from fastapi import FastAPI

NAME = "${{ values.name }}"
DESCRIPTION = ${{ values.description | dump }}

app = FastAPI(title=NAME, description=DESCRIPTION, version="0.1.0")


@app.get("/")
def about() -> dict[str, str]:
    """What this service is."""
    return {"name": NAME, "description": DESCRIPTION}


@app.get("/healthz")
def health() -> dict[str, str]:
    """Liveness check for the load balancer and the orchestrator."""
    return {"status": "ok"}
