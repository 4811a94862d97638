"""`shoegen gallery rescore`: images stored before scoring existed get their catalogue scores."""

from __future__ import annotations

from pathlib import Path

from shoegen.cli.main import main
from shoegen.config.generation import ImageParams
from shoegen.data.sample import caption_for, draw_shoe_spec, render_shoe
from shoegen.storage import Gallery, ImageFilter


def test_rescore_scores_only_unscored_images_and_skips_missing_files(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    spec = draw_shoe_spec(1, 0)
    params = ImageParams(prompt=caption_for(spec), model_name="tiny", seed=1, num_inference_steps=2,
                         guidance_scale=7.5, sampler="Euler", width=64, height=64)
    with Gallery.for_data_dir(data_dir) as gallery:
        old = gallery.add(render_shoe(spec, 64), params)
        lost = gallery.add(render_shoe(spec, 64), params)
        lost.path.unlink()

    assert main(["gallery", "rescore", "--data-dir", str(data_dir)]) == 0
    assert "scored 1 image " in capsys.readouterr().out
    with Gallery.for_data_dir(data_dir) as gallery:
        scores = gallery.get(old.id).scores
        assert scores is not None and scores.product_found and scores.colour is not None
        assert [image.id for image in gallery.list(ImageFilter(scored=False)).items] == [lost.id]

    assert main(["gallery", "rescore", "--data-dir", str(data_dir)]) == 0  # nothing new to score
    assert "scored 0 images " in capsys.readouterr().out


def test_rescore_of_a_folder_without_a_gallery_says_so_and_makes_none(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SHOEGEN_DATABASE_URL", raising=False)
    assert main(["gallery", "rescore", "--data-dir", str(tmp_path / "typo")]) == 2
    assert f"no gallery database at {tmp_path / 'typo' / 'gallery.db'}" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
