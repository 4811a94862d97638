"""The studio's datasets: upload (one ZIP or many files), register a server folder, list, report, captions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from shoegen.data import library as lib
from shoegen.data import uploads
from shoegen.data.formats import SharedCaptionFile
from shoegen.data.library import CAPTION_TEMPLATES, DatasetInfo, DatasetLibrary
from shoegen.data.uploads import UploadLimits
from shoegen.service.dataset_schemas import (
    CaptionTemplateAppliedPublic,
    CaptionTemplateCreate,
    CaptionTemplatePublic,
    DatasetCaptionUpdate,
    DatasetDetailPublic,
    DatasetItemPublic,
    DatasetItemsPublic,
    DatasetRegister,
    DatasetsPublic,
    DatasetUploadPublic,
)
from shoegen.service.deps import ServicesDep, require_api_key
from shoegen.service.multipart import MultipartError, read_multipart

router = APIRouter(prefix="/api/datasets", dependencies=[Depends(require_api_key)])
# Paths below /api/datasets that are routes, not dataset names.
RESERVED_NAMES = frozenset({"caption-templates", "register"})
_STATUS = {
    lib.DatasetNotFound: status.HTTP_404_NOT_FOUND,
    lib.FileNotInDataset: status.HTTP_404_NOT_FOUND,
    lib.DatasetNameTaken: status.HTTP_409_CONFLICT,
    lib.NotDeletable: status.HTTP_409_CONFLICT,
    SharedCaptionFile: status.HTTP_409_CONFLICT,
    lib.OutsideRoot: status.HTTP_400_BAD_REQUEST,
    uploads.BadUpload: status.HTTP_400_BAD_REQUEST,
    uploads.UploadTooLarge: status.HTTP_413_CONTENT_TOO_LARGE,
    uploads.UnsupportedFile: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}
_UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["name", "files"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": f"^{lib.NAME_PATTERN.pattern}$"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": "one .zip, or many files; a file name may carry a relative path "
                                 "(images/1.png, captions.json, 10_shoes/a.txt)"},
    }}}}}


def get_library(services: ServicesDep) -> DatasetLibrary:
    settings = services.settings
    return DatasetLibrary(settings.datasets_root, UploadLimits(
        max_file_bytes=settings.max_dataset_file_bytes, max_files=settings.max_dataset_files,
        max_total_bytes=settings.max_upload_bytes, max_image_pixels=settings.max_image_pixels))


LibraryDep = Annotated[DatasetLibrary, Depends(get_library)]


@contextmanager
def http_errors() -> Iterator[None]:
    """The library's errors as HTTP answers; anything it refuses and is not listed is a 422."""
    try:
        yield
    except lib.DatasetError as error:
        code = next((code for kind, code in _STATUS.items() if isinstance(error, kind)),
                    status.HTTP_422_UNPROCESSABLE_CONTENT)
        raise HTTPException(code, str(error)) from None


def _public(info: DatasetInfo) -> dict:
    return {**info.__dict__, "rejected": [item.__dict__ for item in info.rejected]}


def _name(name: str) -> str:
    if name in RESERVED_NAMES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"name {name}: reserved, choose another")
    return name


@router.get("", response_model=DatasetsPublic, summary="Datasets with their size, layout and check status")
def list_datasets(library: LibraryDep) -> DatasetsPublic:
    with http_errors():
        return DatasetsPublic.model_validate({"datasets": [_public(info) for info in library.list()]})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DatasetUploadPublic,
             openapi_extra={"requestBody": _UPLOAD_BODY},
             summary="Upload a dataset: a name field and files (one .zip, or images with captions in any layout)")
async def upload_dataset(request: Request, library: LibraryDep) -> DatasetUploadPublic:
    with http_errors(), library.upload() as staging:
        try:
            fields = await read_multipart(request, staging.receive)
        except MultipartError as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
        if "name" not in fields:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "name: missing; send the dataset's name as a form field beside the files")
        name = _name(fields["name"])
        info = await run_in_threadpool(library.publish, staging, name)
    return DatasetUploadPublic.model_validate(_public(info))


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=DatasetUploadPublic,
             summary="List a folder inside the datasets root (on the server) as a dataset")
def register_dataset(body: DatasetRegister, library: LibraryDep) -> DatasetUploadPublic:
    with http_errors():
        return DatasetUploadPublic.model_validate(_public(library.register(_name(body.name), body.path)))


@router.get("/caption-templates", response_model=list[CaptionTemplatePublic],
            summary="Caption templates to start from (the original system's is one)")
def caption_templates() -> list[CaptionTemplatePublic]:
    return [CaptionTemplatePublic(name=name, template=template) for name, template in CAPTION_TEMPLATES.items()]


@router.get("/{name}", response_model=DatasetDetailPublic,
            summary="A dataset with its check report (every skipped file named, with why) and rejected uploads")
def get_dataset(name: str, library: LibraryDep) -> DatasetDetailPublic:
    with http_errors():
        return DatasetDetailPublic.model_validate({**_public(library.info(name)), "report": library.report(name)})


@router.get("/{name}/items", response_model=DatasetItemsPublic, summary="The dataset's images with their captions")
def list_items(name: str, library: LibraryDep, offset: int = Query(0, ge=0, le=10**9),
               limit: int = Query(100, ge=1, le=500)) -> DatasetItemsPublic:
    with http_errors():
        items, total = library.items(name, offset, limit)
    return DatasetItemsPublic(total=total, items=[
        DatasetItemPublic(file=item.file, caption=item.caption,
                          image_url=f"/api/datasets/{quote(name)}/files/{quote(item.file)}") for item in items])


@router.get("/{name}/files/{file:path}", response_class=FileResponse,
            responses={200: {"content": {"image/*": {}}}}, summary="One image of the dataset (only listed images)")
def dataset_file(name: str, file: str, library: LibraryDep) -> FileResponse:
    with http_errors():
        return FileResponse(library.image_file(name, file))


@router.put("/{name}/captions", response_model=DatasetItemPublic,
            summary="Set one image's caption, written in the dataset's own layout",
            responses={409: {"description": "another image shares its caption file (shoe.jpg beside shoe.png)"}})
def set_caption(name: str, body: DatasetCaptionUpdate, library: LibraryDep) -> DatasetItemPublic:
    with http_errors():
        item = library.set_caption(name, body.file, body.caption)
    return DatasetItemPublic(file=item.file, caption=item.caption,
                             image_url=f"/api/datasets/{quote(name)}/files/{quote(item.file)}")


@router.post("/{name}/caption-template", response_model=CaptionTemplateAppliedPublic,
             summary="Rewrite every caption from a template filled from each image's metadata")
def apply_caption_template(name: str, body: CaptionTemplateCreate,
                           library: LibraryDep) -> CaptionTemplateAppliedPublic:
    with http_errors():
        return CaptionTemplateAppliedPublic(updated=library.apply_template(name, body.template))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove an uploaded dataset, or unregister a registered folder (its files stay)",
               responses={409: {"description": "a training run that is queued, running or stopping reads it (or, "
                                             "for an upload, a folder inside it), a registered dataset lies inside "
                                             "the upload, or the folder was placed in the root by hand"}})
def delete_dataset(name: str, library: LibraryDep, services: ServicesDep) -> Response:
    with http_errors():
        # An upload's files go: so do those of a dataset registered inside it, which a run may read.
        busy = services.training.using_dataset(library.folder(name), inside=library.removes_files(name))
        if busy:
            runs = ", ".join(f"{run!r} ({state})" for run, state in sorted(busy.items()))
            many = len(busy) > 1
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"dataset {name}: training run{'s' if many else ''} {runs} still "
                                f"read{'' if many else 's'} it; stop {'them' if many else 'it'} or let "
                                f"{'them' if many else 'it'} finish, then delete the dataset")
        library.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
