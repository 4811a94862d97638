"""Refuse oversize request bodies (413) before the application reads them, whatever Content-Length says.

One limit for every route, and routes (exact paths) with a limit of their own: the dataset upload takes
gigabytes, which no JSON route should. A body sent without a length (chunked) is counted as it streams through,
never held here, so a large limit costs no memory."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _BodyTooLarge(Exception):
    """Raised into the application when it reads past the limit; the answer becomes a 413 on the way out."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None):
        self.app, self.max_bytes = app, max_bytes
        self.path_limits = {path.rstrip("/"): limit for path, limit in (path_limits or {}).items()}

    def limit_for(self, path: str) -> int:
        return self.path_limits.get(path.rstrip("/"), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send, limit)
                return
            # The server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        received, exceeded, responded = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if exceeded:
                return  # whatever the application made of the interrupted body (a 400, a 500), the answer is 413
            responded = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not responded:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": f"request body too large: over {limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
