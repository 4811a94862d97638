"""The persistent gallery: list, search, get, image file, delete, ZIP and metadata export."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import FileResponse, StreamingResponse

from shoegen.service.deps import Services, ServicesDep, require_api_key
from shoegen.service.schemas import GalleryExportCreate, GalleryImagePublic, GalleryImagesPublic, PresetName
from shoegen.storage import ImageFilter, SortOrder, StoredImage

router = APIRouter(prefix="/api/gallery", dependencies=[Depends(require_api_key)])


def image_public(image: StoredImage) -> GalleryImagePublic:
    return GalleryImagePublic(**dict(image.params), id=image.id, created_at=image.created_at, job_id=image.job_id,
                              image_url=f"/api/gallery/{image.id}/image", scores=image.scores)


def _in_utc_range(name: str, value: datetime | None) -> datetime | None:
    """A bound the database can store: one whose UTC conversion leaves year 1..9999 is refused (422)."""
    if value is None:
        return None
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"{name}: out of range in UTC") from None
    return value


def _filter(body: GalleryExportCreate) -> ImageFilter:
    return ImageFilter(ids=body.ids, model=body.model, search=body.q,
                       created_after=_in_utc_range("created_after", body.created_after),
                       created_before=_in_utc_range("created_before", body.created_before))


@router.get("", response_model=GalleryImagesPublic,
            summary="Images, newest first or best score first, filtered and paginated")
def list_images(
    services: ServicesDep,
    model: str | None = Query(None, max_length=300, description="only this model"),
    q: str | None = Query(None, max_length=500, description="words that must all appear in the prompt"),
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    job_id: str | None = Query(None, max_length=64),
    passes: PresetName | None = Query(None, description="only images that pass this marketplace preset "
                                                        "(GET /api/presets); unscored images do not"),
    min_score: float | None = Query(None, ge=0.0, le=1.0, allow_inf_nan=False,
                                    description="only images whose composite catalogue score is at least this; "
                                                "unscored do not"),
    sort: SortOrder = Query("newest", description="newest first, or best composite score first (unscored last)"),
    offset: int = Query(0, ge=0, le=10**9),
    limit: int = Query(50, ge=1, le=200),
) -> GalleryImagesPublic:
    where = ImageFilter(model=model, search=q, created_after=_in_utc_range("created_after", created_after),
                        created_before=_in_utc_range("created_before", created_before), job_id=job_id,
                        passes=passes, min_score=min_score)
    page = services.gallery.list(where, offset=offset, limit=limit, sort=sort)
    return GalleryImagesPublic(items=[image_public(i) for i in page.items], total=page.total, offset=page.offset,
                               limit=page.limit)


@router.get("/models", response_model=list[str], summary="Models that appear in the gallery")
def gallery_models(services: ServicesDep) -> list[str]:
    return services.gallery.models()


def _zip_response(services: Services, where: ImageFilter) -> StreamingResponse:
    # Spooled: small exports stay in memory, large ones go to a temporary file, never all in RAM.
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 2**20)
    services.gallery.export_zip(spool, where)
    spool.seek(0)

    def chunks():
        with spool:
            while chunk := spool.read(1 << 16):
                yield chunk

    return StreamingResponse(chunks(), media_type="application/zip",
                             headers={"Content-Disposition": 'attachment; filename="shoegen-gallery.zip"'})


@router.post("/export", summary="ZIP of the given ids, or of a filter: PNGs + metadata.json",
             response_class=StreamingResponse, responses={200: {"content": {"application/zip": {}}}})
def export_zip(body: GalleryExportCreate, services: ServicesDep) -> StreamingResponse:
    return _zip_response(services, _filter(body))


@router.post("/metadata", response_model=list[dict], summary="Metadata JSON of the given ids, or of a filter")
def export_metadata(body: GalleryExportCreate, services: ServicesDep) -> list[dict]:
    return services.gallery.export_metadata(_filter(body))


def _find(services: Services, image_id: str) -> StoredImage:
    image = services.gallery.get(image_id)
    if image is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no image {image_id!r} in the gallery")
    return image


@router.get("/{image_id}", response_model=GalleryImagePublic, summary="One image's record")
def get_image(image_id: str, services: ServicesDep) -> GalleryImagePublic:
    return image_public(_find(services, image_id))


@router.get("/{image_id}/image", response_class=FileResponse, summary="The PNG file (parameters embedded)",
            responses={200: {"content": {"image/png": {}}}})
def get_image_file(image_id: str, services: ServicesDep) -> FileResponse:
    _find(services, image_id)
    path = services.gallery.image_path(image_id)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the file of image {image_id!r} is missing")
    return FileResponse(path, media_type="image/png", filename=f"{image_id}.png")


@router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an image and its file")
def delete_image(image_id: str, services: ServicesDep) -> None:
    _find(services, image_id)
    services.gallery.delete([image_id])
