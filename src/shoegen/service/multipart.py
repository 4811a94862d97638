"""Reading a multipart/form-data body as it streams in, each file's bytes handed straight to a sink.

FastAPI's UploadFile would first spool every part (in memory up to 1 MiB each, so thousands of small photos
stay in memory) and cap a form at 1000 files; a dataset upload is up to max_upload_bytes in up to
max_dataset_files files, so its bytes go from the socket to the staging folder in chunks, nothing held."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

MAX_FIELD_BYTES = 4096


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...

    def close(self) -> None: ...


class MultipartError(ValueError):
    """The body is not a well-formed multipart/form-data body; the message says what is wrong."""


class _PartReader:
    """python-multipart's callbacks: headers gathered per part, file data written, text fields kept."""

    def __init__(self, open_file: Callable[[str], Sink]):
        self.open_file = open_file
        self.fields: dict[str, str] = {}
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._header_name = self._header_value = b""
        self._field: str | None = None
        self._text = bytearray()
        self._sink: Sink | None = None

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value_data, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data,
                "on_part_end": self._part_end, "on_end": self._end}

    def _begin(self) -> None:
        self._headers, self._field, self._text, self._sink = {}, None, bytearray(), None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise MultipartError("a part without a name in its Content-Disposition header")
        self._field = _text(options[b"name"])
        if b"filename" in options:
            self._sink = self.open_file(_text(options[b"filename"]))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            self._sink.write(data[start:end])
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise MultipartError(f"field {self._field}: over {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
        elif self._field is not None:
            if self._field in self.fields:  # which one was meant cannot be known: neither is taken
                raise MultipartError(f"field {self._field}: sent twice")
            self.fields[self._field] = _text(bytes(self._text))

    def _end(self) -> None:
        self.ended = True


def _text(raw: bytes) -> str:
    # Browsers send names and file names as UTF-8 whatever the form's charset.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def read_multipart(request: Request, open_file: Callable[[str], Sink]) -> dict[str, str]:
    """Streams `request`'s body, calling `open_file(filename)` for each file part and writing its bytes to the
    sink it returns; returns the text fields. Errors raised by a sink stop the reading and propagate."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise MultipartError("send the dataset as multipart/form-data (a name field and files)")
    reader = _PartReader(open_file)
    parser = MultipartParser(options[b"boundary"], reader.callbacks())
    try:
        async for chunk in request.stream():
            if chunk:
                # The sinks write to disk: off the event loop, one chunk at a time.
                await run_in_threadpool(parser.write, chunk)
        await run_in_threadpool(parser.finalize)
    except FormParserError as error:
        raise MultipartError(f"the multipart body is malformed ({error})") from error
    if not reader.ended:
        raise MultipartError("the multipart body ended before its closing boundary")
    return reader.fields
