"""Gallery scores: stored with an image or later, read back, filtered by preset and score, sorted best first,
and deleted with their image (tests/storage/test_migrations.py adds them to databases made before they existed)."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from shoegen.config.generation import ImageParams
from shoegen.config.scores import CatalogueScores
from shoegen.storage import Gallery, ImageFilter

ParamsFactory = Callable[..., ImageParams]
RunSql = Callable[..., list]


def scores(score: float, *, main_image: bool = False, catalogue: bool = True) -> CatalogueScores:
    """Scores with a given composite and preset verdicts (the other numbers are plausible fillers)."""
    return CatalogueScores(
        width=512, height=512, product_found=True, background=0.98, offset=0.02, fill=0.8, cut_off=False,
        colour="red", colour_distance=12.5, sharpness=40.0, score=score,
        rule_failures={"main-image": [] if main_image else ["longest side is 512 px, needs at least 1000 px"],
                       "catalogue": [] if catalogue else ["product touches the edge of the frame (cut off)"]})


def _ids(gallery: Gallery, where: ImageFilter | None = None, **options) -> list[str]:
    return [image.id for image in gallery.list(where, **options).items]


def test_scores_stored_with_an_image_come_back_everywhere(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    given = scores(0.8, main_image=True)
    stored = gallery.add(small_image, make_params(), scores=given)
    plain = gallery.add(small_image, make_params(seed=2))

    assert stored.scores == given and gallery.get(stored.id).scores == given
    assert gallery.get(plain.id).scores is None
    assert {image.id: image.scores for image in gallery.list().items} == {stored.id: given, plain.id: None}
    exported = {entry["id"]: entry["scores"] for entry in gallery.export_metadata()}
    assert exported[stored.id] == given.model_dump(mode="json") and exported[plain.id] is None


def test_filters_by_preset_and_min_score_leave_unscored_images_out(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    main = gallery.add(small_image, make_params(), scores=scores(0.9, main_image=True))
    catalogue_only = gallery.add(small_image, make_params(), scores=scores(0.6))
    failing = gallery.add(small_image, make_params(), scores=scores(0.3, catalogue=False))
    unscored = gallery.add(small_image, make_params())

    assert _ids(gallery, ImageFilter(passes="main-image")) == [main.id]
    assert set(_ids(gallery, ImageFilter(passes="catalogue"))) == {main.id, catalogue_only.id}
    assert _ids(gallery, ImageFilter(passes="a-preset-added-later")) == []
    assert set(_ids(gallery, ImageFilter(min_score=0.6))) == {main.id, catalogue_only.id}
    assert set(_ids(gallery, ImageFilter(min_score=0.0))) == {main.id, catalogue_only.id, failing.id}
    assert _ids(gallery, ImageFilter(passes="catalogue", min_score=0.7)) == [main.id]
    assert gallery.list(ImageFilter(passes="catalogue")).total == 2
    assert _ids(gallery, ImageFilter(scored=False)) == [unscored.id]
    assert [image.id for image in gallery.iter_images(ImageFilter(passes="main-image"))] == [main.id]


def test_sort_by_score_is_best_first_with_unscored_last(
    gallery: Gallery, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    old_unscored = gallery.add(small_image, make_params())
    low = gallery.add(small_image, make_params(), scores=scores(0.2))
    high = gallery.add(small_image, make_params(), scores=scores(0.9))
    tie = gallery.add(small_image, make_params(), scores=scores(0.2))
    new_unscored = gallery.add(small_image, make_params())

    assert _ids(gallery) == [new_unscored.id, tie.id, high.id, low.id, old_unscored.id]
    by_score = [high.id, tie.id, low.id, new_unscored.id, old_unscored.id]  # ties and unscored: newest first
    assert _ids(gallery, sort="score") == by_score
    assert _ids(gallery, sort="score", offset=1, limit=2) == by_score[1:3]


def test_set_scores_adds_or_replaces_and_deleting_an_image_deletes_them(
    gallery: Gallery, sql: RunSql, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    image = gallery.add(small_image, make_params())
    assert gallery.set_scores(image.id, scores(0.4))
    assert gallery.set_scores(image.id, scores(0.7, main_image=True))
    assert gallery.get(image.id).scores == scores(0.7, main_image=True)
    assert _ids(gallery, ImageFilter(passes="main-image")) == [image.id]
    assert not gallery.set_scores("0" * 32, scores(0.5))

    gallery.delete([image.id])
    left = [sql(f"SELECT count(*) FROM {table}")[0][0] for table in ("images", "image_scores", "image_presets")]
    assert left == [0, 0, 0]


def test_scores_of_another_shape_list_as_unscored(
    gallery: Gallery, sql: RunSql, small_image: Image.Image, make_params: ParamsFactory
) -> None:
    image = gallery.add(small_image, make_params(), scores=scores(0.5))
    sql("UPDATE image_scores SET scores = :shape", shape='{"score": 0.5}')
    assert gallery.get(image.id).scores is None
    assert _ids(gallery, ImageFilter(min_score=0.5)) == [image.id]  # the copied columns still filter
