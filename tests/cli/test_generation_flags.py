"""`shoegen generate`'s flags, the API's schema and the engine's request come from one model: a bound or a
default written anywhere else would make them disagree, and this test fail."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from shoegen.cli.generate import FLAGS, request_from_args
from shoegen.cli.main import build_parser
from shoegen.engine.engine import GenerationRequest
from shoegen.errors import ShoegenError


@pytest.fixture(scope="module")
def api_fields() -> dict:
    from shoegen.config.service import ServiceSettings
    from shoegen.service.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        settings = ServiceSettings(base_model="tiny", data_dir=Path(folder), models_dir=Path(folder), warm_up=False)
        schema = create_app(settings).openapi()
    return schema["components"]["schemas"]["GenerateCreate"]["properties"]


@pytest.fixture(scope="module")
def help_text() -> str:
    return build_parser()._subparsers._group_actions[0].choices["generate"].format_help()


def numeric_bounds(field: dict) -> tuple[float | None, float | None]:
    variants = field.get("anyOf", [field])
    low = next((v.get("minimum", v.get("exclusiveMinimum")) for v in variants if "maximum" in v), None)
    return low, next((v["maximum"] for v in variants if "maximum" in v), None)


def flag_help(help_text: str, flag: str) -> str:
    """The help paragraph of one flag, on one line."""
    paragraph = re.split(rf"(?<![\w-]){re.escape(flag)}[ ,]", help_text.split("options:", 1)[1], maxsplit=1)[1]
    return " ".join(re.split(r"\n  -", paragraph, maxsplit=1)[0].split())


def parse(*flags: str):
    args = build_parser().parse_args(["generate", "a red boot", "--base-model", "tiny", *flags])
    return request_from_args(args, args.prompt)


@pytest.fixture(scope="module")
def start_image(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("start") / "photo.png"
    Image.new("RGB", (64, 64), "white").save(path)
    return path


def acting_with(field: str, start_image: Path) -> list[str]:
    """The flags a field's flag acts with (typed without them, it is refused): --strength repaints a start image,
    the hires fix's settings need --hires, a mode's settings that mode."""
    from shoegen.cli.generate import MODE_OPTIONS

    if field == "strength":
        return ["--init-image", str(start_image)]
    if field in MODE_OPTIONS:
        return ["--mode", MODE_OPTIONS[field][0], "--init-image", str(start_image)]
    return ["--hires", "2"] if field.startswith("hires_") and field != "hires_scale" else []


@pytest.mark.parametrize("field", [name for name in FLAGS if name != "loras"])
def test_bounds_and_defaults_agree_between_the_api_the_cli_and_the_engine(field, api_fields, help_text, start_image):
    context = acting_with(field, start_image)
    api = api_fields[field]
    flag = FLAGS[field][-1]
    described = flag_help(help_text, flag)
    engine_default = GenerationRequest.model_fields[field].default
    assert api.get("default") == engine_default
    assert getattr(parse(), field) == engine_default  # no flag typed: the engine's default
    if engine_default not in (None, ""):
        assert f"(default: {engine_default})" in described
    low, high = numeric_bounds(api)
    if high is None:
        return
    shown = re.search(r"Range: (?:above )?(-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)", described)
    assert shown is not None and (float(shown[1]), float(shown[2])) == (low, high)
    # The CLI accepts exactly the API's range: its highest value, and refuses one step beyond it.
    step = 8 if field in ("width", "height") else 1
    kind = type(GenerationRequest.model_fields[field].default or 0)
    highest, beyond = kind(high), kind(high + step)
    assert getattr(parse(*context, flag, str(highest)), field) == highest
    with pytest.raises(ShoegenError, match=re.escape(flag.lstrip("-"))):
        parse(*context, flag, str(beyond))
    with pytest.raises(ValueError):
        GenerationRequest(prompt="a red boot", **{field: beyond})


def test_a_bad_flag_value_is_one_line_naming_the_flag():
    with pytest.raises(ShoegenError) as raised:
        parse("--steps", "151")
    assert str(raised.value) == "--steps must be at most 150, got 151"


@pytest.mark.parametrize(("flags", "message"), [
    (["--sampler", "Euler b"], "--sampler: unknown sampler 'Euler b'; available: DPM++ 2M Karras,"),
    (["--mode", "outpaint", "--format", "abc"], "--format must have the expected form (e.g. 1:1, 4:5, 16:9), got abc"),
])
def test_a_value_of_the_wrong_form_reads_as_one_sentence(flags, message):
    with pytest.raises(ShoegenError) as raised:
        parse(*flags)
    assert str(raised.value).startswith(message) and ", got Euler b" not in str(raised.value)


@pytest.mark.parametrize("command", [["generate", "a red boot"], ["batch", "prompts.txt"], ["grid", "--prompts", "a",
                                     "--models", "b"], ["serve"], ["doctor"]])
def test_the_base_model_has_one_name_everywhere_and_the_original_one_too(command, monkeypatch):
    monkeypatch.delenv("SHOEGEN_BASE_MODEL", raising=False)
    for flag in ("--base-model", "--pretrained_model_name_or_path"):
        assert build_parser().parse_args([*command, flag, "tiny"]).base_model == "tiny"
