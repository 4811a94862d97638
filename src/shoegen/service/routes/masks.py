"""POST /api/masks: a product photo in (multipart upload or JSON base64), its product mask out as a PNG."""

from __future__ import annotations

import io

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from shoegen.data.masks import MaskMethod, mask_image, product_mask
from shoegen.errors import ShoegenError
from shoegen.service.deps import ServicesDep, require_api_key
from shoegen.service.images import decode_image, decode_image_bytes

router = APIRouter(prefix="/api/masks", dependencies=[Depends(require_api_key)])

_METHOD_HELP = ("builtin: separates the product from a plain (white or near-white) studio background, its soft "
                "contact shadow left out; no weights. rembg: the rembg package's model, only where the package and "
                "its model file are installed on the server")


class MaskCreate(BaseModel):
    """The JSON form of the request; a multipart upload sends the same fields, `image` as a file."""

    model_config = ConfigDict(extra="forbid")
    image: str = Field(description="the photo, base64 (a data URL too): PNG, JPEG, WebP, ...")
    method: MaskMethod = Field("builtin", description=_METHOD_HELP)


_REQUEST_BODY = {"required": True, "content": {
    "application/json": {"schema": MaskCreate.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "format": "binary", "description": "the photo file"},
        "method": {"type": "string", "enum": ["builtin", "rembg"], "default": "builtin",
                   "description": _METHOD_HELP}}}},
}}
_PNG_RESPONSE = {200: {"content": {"image/png": {}},
                       "description": "the mask, same size as the photo: white (255) on the product, black elsewhere"},
                 413: {"description": "the photo is over the pixel limit (or a decompression bomb)"},
                 422: {"description": "not a readable image, a bad field, or a method not installed here"}}


async def _read_body(request: Request, max_pixels: int) -> tuple[Image.Image, MaskMethod]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload, method = form.get("image"), form.get("method") or "builtin"
        if not isinstance(upload, UploadFile):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "image: a file is required")
        body = _validated({"image": "", "method": method})
        return decode_image_bytes(await upload.read(), max_pixels, "image"), body.method
    try:
        payload = await request.json()
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body: JSON or multipart/form-data") from None
    body = _validated(payload)
    return decode_image(body.image, max_pixels, "image"), body.method


def _validated(payload: object) -> MaskCreate:
    try:
        return MaskCreate.model_validate(payload)
    except ValidationError as error:
        # Name each bad field; never echo the input back (it may be a huge base64 image).
        details = [{"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, details) from None


def _mask_png(image: Image.Image, method: MaskMethod) -> bytes:
    mask: np.ndarray = product_mask(image, method)
    buffer = io.BytesIO()
    mask_image(mask).save(buffer, format="PNG")
    return buffer.getvalue()


@router.post("", response_class=Response, responses=_PNG_RESPONSE, openapi_extra={"requestBody": _REQUEST_BODY},
             summary="The product mask of a photo (white = product), as a PNG of the photo's size")
async def create_mask(request: Request, services: ServicesDep) -> Response:
    image, method = await _read_body(request, services.settings.max_image_pixels)
    try:
        png = await run_in_threadpool(_mask_png, image, method)  # CPU-bound: off the event loop
    except ShoegenError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from None
    return Response(png, media_type="image/png")
