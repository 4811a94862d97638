"""The engine through its one entry point, `Engine.generate`, on the tiny base with two trained adapters."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from shoegen.config.generation import MAX_REQUEST_SEED as MAX_SEED
from shoegen.config.samplers import SAMPLERS
from shoegen.config.validation import build_settings
from shoegen.engine.engine import Engine, GenerationCancelled, GenerationRequest
from shoegen.errors import ShoegenError

PROMPT = "A professional product photo of black casual shoes, centered on white background"
REQUEST = GenerationRequest(prompt=PROMPT, num_inference_steps=2, width=64, height=64, seed=7)


def request(**changes) -> GenerationRequest:
    """REQUEST with some fields changed, validated as every caller's request is (a ShoegenError naming the field)."""
    return build_settings(GenerationRequest, {**dict(REQUEST), **changes}, what=None, sentences=True)


def generate(engine: Engine, **changes):
    return engine.generate(request(**changes))


def pixels(engine: Engine, **changes) -> np.ndarray:
    return np.asarray(generate(engine, **changes).images[0].image)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b)


@pytest.fixture(scope="module")
def init_image(sample_dataset) -> Image.Image:
    first = sorted((sample_dataset / "images").iterdir())[0]
    return Image.open(first).convert("RGB").resize((64, 64))


def test_the_same_request_gives_the_same_pixels(engine):
    first = generate(engine)
    second = generate(engine)
    image = first.images[0].image
    assert image.size == (64, 64) and image.mode == "RGB"
    assert np.asarray(image).std() > 0  # a real picture, not a blank that would trivially compare equal
    assert same(np.asarray(image), np.asarray(second.images[0].image))


def test_switching_adapters_gives_each_adapter_its_own_pixels_back(engine):
    base = pixels(engine)
    a_first = pixels(engine, model_name="shoesA")
    b = pixels(engine, model_name="shoesB")
    a_again = pixels(engine, model_name="shoesA")
    base_again = pixels(engine)
    assert same(a_first, a_again)
    assert same(base, base_again)
    assert not same(a_first, b)
    assert not same(a_first, base)
    assert not same(b, base)


@pytest.mark.filterwarnings("ignore:Already found a `peft_config`")  # holding two adapters is the point
def test_folded_adapters_draw_what_diffusers_draws_with_the_adapters_unfused(engine, models_dir):
    """The engine folds adapters into the weights; plain diffusers runs them as LoRA branches. Same picture."""
    import torch

    from shoegen.config.samplers import DEFAULT_SAMPLER, find_sampler
    from shoegen.engine.samplers import make_scheduler
    from shoegen.models.resolve import load_pipeline
    from shoegen.training.runs import find_adapter

    pipe = load_pipeline("tiny")
    for name in ("shoesA", "shoesB"):
        entry = find_adapter(models_dir, name)
        pipe.load_lora_weights(str(entry.path.parent), weight_name=entry.path.name, adapter_name=name)
    pipe.set_adapters(["shoesA", "shoesB"], adapter_weights=[0.7, 0.4])
    pipe.scheduler = make_scheduler(find_sampler(DEFAULT_SAMPLER), pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    expected = pipe(prompt=PROMPT, num_inference_steps=REQUEST.num_inference_steps, guidance_scale=REQUEST.guidance_scale,
                    width=64, height=64, generator=[torch.Generator("cpu").manual_seed(REQUEST.seed)]).images[0]
    actual = pixels(engine, prompt=f"{PROMPT} <lora:shoesA:0.7> <lora:shoesB:0.4>")
    assert not same(actual, pixels(engine, model_name="shoesA"))  # both adapters count
    assert np.abs(actual.astype(int) - np.asarray(expected).astype(int)).max() <= 1  # float rounding only


def test_checkpoints_are_models_of_their_own(engine):
    final = pixels(engine, model_name="shoesA")
    early = pixels(engine, model_name="shoesA/checkpoint-4")
    last = pixels(engine, model_name="shoesA/checkpoint-8")
    assert not same(early, final)
    assert same(last, final)  # the final weights are those of the last step


def test_lora_tag_in_the_prompt_applies_at_its_weight_and_is_stripped(engine):
    base = pixels(engine)
    full = pixels(engine, model_name="shoesA")
    result = generate(engine, prompt=f"{PROMPT}, <lora:shoesA:0.5>")
    half = np.asarray(result.images[0].image)
    assert not same(half, base)
    assert not same(half, full)
    metadata = result.images[0].params.to_dict()
    assert metadata["prompt"] == PROMPT
    assert result.images[0].params.prompt == PROMPT
    assert metadata["loras"] == [{"name": "shoesA", "weight": 0.5}]
    # A tag at weight 1 is the same thing as choosing the adapter as the model.
    assert same(pixels(engine, prompt=f"<lora:shoesA:1> {PROMPT}"), full)


def test_unknown_adapter_is_a_shoegen_error(engine):
    for changes in ({"model_name": "nope"}, {"prompt": f"{PROMPT} <lora:nope:1>"}, {"model_name": "../shoesA"}):
        with pytest.raises(ShoegenError, match="unknown model"):
            generate(engine, **changes)


@pytest.fixture(scope="module")
def one_slot_engine(models_dir) -> Engine:
    return Engine("tiny", models_dir, device="cpu", max_adapters=1)


def test_lru_eviction_with_one_slot_still_gives_the_right_pixels(engine, one_slot_engine):
    expected_a = pixels(engine, model_name="shoesA")
    expected_b = pixels(engine, model_name="shoesB")
    small = one_slot_engine
    assert same(pixels(small, model_name="shoesA"), expected_a)
    assert small.loaded_adapters() == ["shoesA"]
    assert same(pixels(small, model_name="shoesB"), expected_b)
    assert small.loaded_adapters() == ["shoesB"]
    assert same(pixels(small, model_name="shoesA"), expected_a)
    assert small.loaded_adapters() == ["shoesA"]


def test_a_request_with_more_adapters_than_cache_slots_still_generates(engine, one_slot_engine):
    changes = {"model_name": "shoesA", "prompt": f"{PROMPT} <lora:shoesB:0.5>"}
    assert same(pixels(one_slot_engine, **changes), pixels(engine, **changes))
    # The next request that needs room evicts what it does not use.
    assert same(pixels(one_slot_engine, model_name="shoesB"), pixels(engine, model_name="shoesB"))
    assert one_slot_engine.loaded_adapters() == ["shoesB"]


def test_images_get_seed_seed_plus_one_and_each_depends_only_on_its_seed(engine):
    result = generate(engine, seed=100, num_images=2)
    assert [image.seed for image in result.images] == [100, 101]
    assert [image.params.seed for image in result.images] == [100, 101]
    second_in_batch = np.asarray(result.images[1].image).astype(int)
    alone = pixels(engine, seed=101).astype(int)
    other_seed = np.asarray(result.images[0].image).astype(int)
    # Same noise; a batch of two may round differently from a batch of one by a unit in the last place.
    assert np.abs(second_in_batch - alone).max() <= 2
    assert np.abs(other_seed - alone).mean() > 10


def test_a_missing_seed_is_drawn_and_reported(engine):
    first = generate(engine, seed=None).images[0]
    second = generate(engine, seed=None).images[0]
    assert 0 <= first.seed <= MAX_SEED
    assert first.params.seed == first.seed == first.params.seed
    assert first.seed != second.seed  # two draws from 2**32 values
    assert same(np.asarray(first.image), pixels(engine, seed=first.seed))


def test_sampler_aliases_and_case_resolve_to_the_canonical_name(engine):
    by_alias = generate(engine, sampler="euler_a").images[0]
    assert by_alias.params.sampler == "Euler a"
    assert same(pixels(engine, sampler="EULER A"), np.asarray(by_alias.image))


def test_unknown_sampler_is_a_shoegen_error(engine):
    with pytest.raises(ShoegenError, match="unknown sampler"):
        generate(engine, sampler="Heun++ 9000")


def progress_of(engine: Engine, **changes) -> list[tuple[int, int]]:
    events: list[tuple[int, int]] = []
    engine.generate(request(**changes), on_progress=lambda step, total, preview: events.append((step, total)))
    return events


@pytest.mark.parametrize("sampler", [s.name for s in SAMPLERS])
def test_every_sampler_runs_by_name_and_reports_steps_one_to_n(engine, sampler):
    events: list[tuple[int, int]] = []
    result = engine.generate(request(sampler=sampler, num_inference_steps=3),
                             on_progress=lambda step, total, preview: events.append((step, total)))
    image = result.images[0]
    assert image.image.size == (64, 64) and np.asarray(image.image).std() > 0
    assert image.params.sampler == sampler
    # N is the denoising iterations the sampler really runs: the requested steps, one more for PNDM.
    expected_total = 4 if sampler == "PNDM" else 3
    assert events == [(i, expected_total) for i in range(1, expected_total + 1)]


def test_img2img_starts_from_the_init_image(engine, init_image):
    txt2img = pixels(engine, num_inference_steps=4)
    result = generate(engine, num_inference_steps=4, init_image=init_image, strength=0.5)
    img2img = np.asarray(result.images[0].image)
    assert img2img.shape == (64, 64, 3)
    assert not same(img2img, txt2img)
    assert result.images[0].params.strength == 0.5
    # The less it repaints, the closer it stays to the photo it started from.
    source = np.asarray(init_image).astype(float)
    light = np.asarray(generate(engine, num_inference_steps=8, init_image=init_image, strength=0.25).images[0].image)
    heavy = np.asarray(generate(engine, num_inference_steps=8, init_image=init_image, strength=1.0).images[0].image)
    assert np.abs(light - source).mean() < np.abs(heavy - source).mean()


def test_img2img_says_when_it_stretches_the_start_image_to_another_shape(engine, init_image):
    assert generate(engine, num_inference_steps=2, init_image=init_image.resize((96, 96))).warnings == []
    wide = generate(engine, num_inference_steps=2, init_image=init_image.resize((100, 37)))
    assert wide.warnings == ["the start image (100x37) was stretched to 64x64, another shape; ask for 176x64 to keep "
                             "its shape"]
    kept = generate(engine, num_inference_steps=2, init_image=init_image.resize((100, 37)), width=176, height=64)
    assert not any("start image" in note for note in kept.warnings)  # 100x37 and 176x64: one shape within 2 %


def test_img2img_progress_counts_only_the_steps_it_runs(engine, init_image):
    assert progress_of(engine, num_inference_steps=4, init_image=init_image, strength=0.5) == [(1, 2), (2, 2)]


def test_img2img_with_no_effective_step_is_refused_clearly(engine, init_image):
    with pytest.raises(ShoegenError, match="strength"):
        generate(engine, num_inference_steps=2, init_image=init_image, strength=0.3)


def test_progress_and_cancellation_between_steps(engine):
    steps: list[int] = []
    with pytest.raises(GenerationCancelled):
        engine.generate(request(num_inference_steps=10), on_progress=lambda step, total, preview: steps.append(step),
                        should_cancel=lambda: len(steps) >= 2)
    assert steps == [1, 2]
    # The engine is usable afterwards and unaffected by the interrupted run.
    assert same(pixels(engine), pixels(engine))


def test_long_prompt_reports_its_truncation(engine):
    long_prompt = ", ".join(["red suede ankle boots with white laces and a chunky rubber sole"] * 8)
    metadata = generate(engine, prompt=long_prompt).images[0].params.extra
    truncated = metadata["prompt_truncated"]
    assert truncated["tokens"] > 75
    assert truncated["limit"] == 75
    assert truncated["dropped_text"]
    assert "prompt_truncated" not in generate(engine).images[0].params.extra


@pytest.mark.parametrize(("field", "value"), [("width", 65), ("height", 100), ("width", 56), ("height", 2056)])
def test_sizes_that_are_not_multiples_of_8_in_range_are_refused(engine, field, value):
    with pytest.raises(ShoegenError, match=field):
        generate(engine, **{field: value})


def test_models_lists_runs_and_checkpoints_but_nothing_outside_the_folder(engine, escape_names):
    entries = {m.name: (m.type, m.step) for m in engine.list_models()}
    assert entries == {
        "tiny": ("base", None),
        "shoesA": ("final", None), "shoesA/checkpoint-4": ("checkpoint", 4), "shoesA/checkpoint-8": ("checkpoint", 8),
        "shoesB": ("final", None), "shoesB/checkpoint-4": ("checkpoint", 4), "shoesB/checkpoint-8": ("checkpoint", 8),
    }
    for name in escape_names:
        with pytest.raises(ShoegenError, match="unknown model"):
            generate(engine, model_name=name)


def test_clip_skip_reads_an_earlier_text_encoder_layer_and_is_recorded(engine):
    """Clip skip 2 (AUTOMATIC1111's count) conditions on the text encoder's second-to-last layer, passed through
    the final layer norm: the picture diffusers draws from those embeddings."""
    import torch

    skip_two = generate(engine, clip_skip=2).images[0]
    assert skip_two.params.clip_skip == 2
    assert not same(np.asarray(skip_two.image), pixels(engine))
    pipe = engine.load()

    def second_to_last(text: str) -> torch.Tensor:
        tokens = pipe.tokenizer([text], padding="max_length", max_length=pipe.tokenizer.model_max_length,
                                truncation=True, return_tensors="pt").input_ids
        return pipe.text_encoder.final_layer_norm(pipe.text_encoder(tokens, output_hidden_states=True).hidden_states[-2])

    with torch.no_grad():
        expected = pipe(prompt_embeds=second_to_last(PROMPT), negative_prompt_embeds=second_to_last(""),
                        num_inference_steps=REQUEST.num_inference_steps, guidance_scale=REQUEST.guidance_scale,
                        width=64, height=64, generator=[torch.Generator("cpu").manual_seed(REQUEST.seed)]).images[0]
    assert np.abs(np.asarray(skip_two.image).astype(int) - np.asarray(expected).astype(int)).max() <= 1


def test_clip_skip_beyond_the_text_encoders_layers_is_refused_clearly(engine):
    layers = engine.load().text_encoder.config.num_hidden_layers
    with pytest.raises(ShoegenError, match=f"at most {layers}"):
        generate(engine, clip_skip=layers + 1)


def test_the_default_size_is_the_bases_native_size_and_far_sizes_are_flagged(engine, caplog):
    assert engine.native_size() == (64, 64)  # the tiny base, like the demo base, works at 64 px
    native = generate(engine, width=None, height=None)
    assert native.images[0].image.size == (64, 64) and native.warnings == []
    assert (native.images[0].params.width, native.images[0].params.height) == (64, 64)
    with caplog.at_level("WARNING", logger="shoegen.engine"):
        far = generate(engine, width=256, height=64, num_inference_steps=1)
        generate(engine, width=256, height=64, num_inference_steps=1)
    assert far.warnings and "far from this base's native 64x64" in far.warnings[0]
    assert [r.message for r in caplog.records].count(far.warnings[0]) == 1  # said once, not per image


def test_requests_are_checked_against_the_base_without_loading_it(tiny_base, configs_only, tmp_path, init_image):
    """What an API-only replica does: it never loads the base, yet knows its native size and refuses what the base
    cannot do, from the base's configuration files (folders of configurations alone here: no weights to load)."""
    engine = Engine("tiny")
    assert engine.native_size() == (64, 64)
    with pytest.raises(ShoegenError, match="clip_skip 3: this base's text encoder has 2 layers"):
        engine.check(request(clip_skip=3))
    big = Engine(str(configs_only(tiny_base, tmp_path / "big", {"sample_size": 128})))  # a 1024 px base
    assert big.native_size() == (1024, 1024)
    with pytest.raises(ShoegenError, match="hires fix would make 1024x1024 x 4 = 4096x4096"):
        big.check(request(width=None, height=None, hires_scale=4))
    inpainting = Engine(str(configs_only(tiny_base, tmp_path / "inpainting", {"in_channels": 9})))
    with pytest.raises(ShoegenError, match="is an inpainting checkpoint"):
        inpainting.check(request())
    inpainting.check(request(mode="background", init_image=init_image))
    assert not engine.is_loaded and not big.is_loaded and not inpainting.is_loaded
