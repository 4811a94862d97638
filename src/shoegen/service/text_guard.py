"""Refuse NUL characters (U+0000) in a request's text with a 422 naming where they are, before any route sees it.

No text this service keeps may hold one: PostgreSQL's text and JSON columns refuse them (a raw 500, or a job whose
images cannot be stored and that is retried until its worker gives up), and SQLite's LIKE stops at them (a search
for "%00" matched every image). One rule at the edge, for the path, the query and JSON bodies, instead of one check
per field. JSON bodies are read whole here (the body limit, outside this, bounds them) and handed on unchanged."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL = "\x00"
MESSAGE = "text may not contain NUL characters (\\u0000, %00)"


def nul_location(value: Any, location: tuple = ()) -> tuple | None:
    """Where in a parsed JSON value a string (or a key) holds a NUL character, or None."""
    if isinstance(value, str):
        return location if NUL in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return (*location, key)
        if (found := nul_location(item, (*location, key))) is not None:
            return found
    return None


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    return content_type.split(b";")[0].strip().lower().endswith(b"json")


class RefuseNulCharacters:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope.get("path", ""):
            await _refuse(send, ["path"])
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            if NUL in name or NUL in value:
                await _refuse(send, ["query", name.replace(NUL, "")])
                return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if b"\\u0000" in body:  # a cheap test first; parsed only to rule out an escaped backslash and to name the field
            try:
                location = nul_location(json.loads(body))
            except ValueError:
                location = None  # not JSON: the route's own parsing says so
            if location is not None:
                await _refuse(send, ["body", *location])
                return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)


async def _refuse(send: Send, location: list) -> None:
    body = json.dumps({"detail": [{"loc": location, "msg": MESSAGE, "type": "string_nul_character"}]}).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
