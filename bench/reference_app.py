"""The same-run reference of ``bench/api_load.py``: a minimal FastAPI endpoint.

``POST /api/v1/predict`` parses the same small JSON body as txguard's route with a pydantic
model (the transaction's fields, their types and limits) and returns a small JSON document;
``GET /api/v1/health`` answers ``{"status": "ok"}``. Served by uvicorn with the options
``txguard serve`` uses (a factory, log level warning, no access log), so the difference in
throughput is what txguard's route does on top of FastAPI's own path.

    python bench/reference_app.py --port 8001 [--workers 1]
"""

import argparse
import sys
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class TransactionIn(BaseModel):
    """The fields the load test sends, typed as txguard types them."""

    model_config = ConfigDict(extra="forbid")

    transaction_id: Identifier
    amount: float = Field(ge=0, allow_inf_nan=False)
    timestamp: AwareDatetime | None = None
    card_id: Identifier | None = None
    terminal_id: Identifier | None = None


def create_app() -> FastAPI:
    """The reference application."""
    app = FastAPI(title="reference")

    @app.post("/api/v1/predict")
    async def predict(body: TransactionIn) -> dict[str, object]:
        return {"transaction_id": body.transaction_id, "decision": "approve", "risk_score": 0}

    @app.get("/api/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))  # the workers import this module by name
    uvicorn.run(
        "reference_app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
