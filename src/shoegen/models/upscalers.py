"""Upscaler models for the hires fix, from a local file of MODELS_DIR/upscalers/: the ESRGAN family that most
AUTOMATIC1111 and ComfyUI users have (ESRGAN and its old-format community models such as 4x-UltraSharp,
Real-ESRGAN x4plus / x2plus / anime 6B, and the compact Real-ESRGAN general and anime-video models).

A file is read as weights only: safetensors, or a PyTorch file through `torch.load(weights_only=True)`, which
refuses a pickle that would run code. Its architecture and scale are found from the weights' names and shapes.
Large images are upscaled in tiles with a margin, so memory stays bounded and no seam shows.

Names are looked up, never joined onto paths by a caller: a request cannot point the server at any file.
(spandrel, which knows more architectures, imports torchvision, which the project's CPU torch cannot sit beside.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from shoegen.errors import ShoegenError

UPSCALERS_FOLDER = "upscalers"
"""Upscaler files live in MODELS_DIR/upscalers/<name>.<safetensors|pth|pt|bin|ckpt>."""
SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
"""In order of preference when two files share a name."""
LANCZOS = "lanczos"
"""The built-in upscaler: no model, a Lanczos resize."""
TILE = 192
"""Input pixels per tile side (as AUTOMATIC1111's ESRGAN tile default)."""
TILE_MARGIN = 16
"""Input pixels of context around each tile, cut off after upscaling (more than the models' reach at a seam)."""


class UpscalerUnavailable(ShoegenError):
    """An upscaler that cannot be used here."""


def upscaler_files(models_dir: Path | None) -> dict[str, Path]:
    """The upscaler files of MODELS_DIR/upscalers/ by name (the file's stem)."""
    folder = None if models_dir is None else models_dir / UPSCALERS_FOLDER
    if folder is None or not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    for suffix in reversed(SUFFIXES):  # the preferred suffix is seen last and wins
        for path in sorted(folder.glob(f"*{suffix}")):
            if path.is_file():
                found[path.stem] = path
    return dict(sorted(found.items()))


def upscaler_names(models_dir: Path | None) -> list[str]:
    """Every upscaler a request can name: the built-in Lanczos first."""
    return [LANCZOS, *upscaler_files(models_dir)]


# ----------------------------------------------------------------------------------------- reading weights

def read_weights(path: Path) -> dict:
    """A file's tensors by name, read as weights only: a pickle that would run code is refused."""
    import pickle

    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0]
        raise UpscalerUnavailable(
            f"upscaler {path.name}: refused, the file is a pickle that holds more than weights and would run code "
            f"when loaded ({first[:200]}); use its safetensors version, or convert it where you trust it") from None
    except Exception as error:  # a truncated or foreign file: one readable line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UpscalerUnavailable(f"upscaler {path.name}: could not be read ({first[:200]})") from None
    for wrapper in ("params_ema", "params", "state_dict", "model"):  # Real-ESRGAN and training checkpoints
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise UpscalerUnavailable(f"upscaler {path.name}: the file holds no weights by name")
    return {key.removeprefix("module."): value for key, value in state.items()}


# ------------------------------------------------------------------------------------------ architectures

def _build_rrdbnet(state: dict, name: str):
    """ESRGAN's RRDB network (Real-ESRGAN's layer names)."""
    import torch
    from torch import nn
    from torch.nn import functional

    class DenseBlock(nn.Module):
        def __init__(self, features: int, growth: int):
            super().__init__()
            for index in range(1, 6):
                out = features if index == 5 else growth
                setattr(self, f"conv{index}", nn.Conv2d(features + (index - 1) * growth, out, 3, 1, 1))

        def forward(self, x):
            outputs = [x]
            for index in range(1, 6):
                y = getattr(self, f"conv{index}")(torch.cat(outputs, 1))
                if index == 5:
                    return y * 0.2 + x
                outputs.append(functional.leaky_relu(y, 0.2))

    class Rrdb(nn.Module):
        def __init__(self, features: int, growth: int):
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = (DenseBlock(features, growth) for _ in range(3))

        def forward(self, x):
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RrdbNet(nn.Module):
        def __init__(self, channels_in: int, features: int, blocks: int, growth: int, upsamples: int,
                     unshuffle: int, channels_out: int):
            super().__init__()
            self.unshuffle, self.upsamples = unshuffle, upsamples
            self.conv_first = nn.Conv2d(channels_in, features, 3, 1, 1)
            self.body = nn.Sequential(*(Rrdb(features, growth) for _ in range(blocks)))
            self.conv_body = nn.Conv2d(features, features, 3, 1, 1)
            for index in range(1, upsamples + 1):
                setattr(self, f"conv_up{index}", nn.Conv2d(features, features, 3, 1, 1))
            self.conv_hr = nn.Conv2d(features, features, 3, 1, 1)
            self.conv_last = nn.Conv2d(features, channels_out, 3, 1, 1)

        def forward(self, x):
            feat = functional.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
            feat = self.conv_first(feat)
            feat = feat + self.conv_body(self.body(feat))
            for index in range(1, self.upsamples + 1):
                feat = functional.interpolate(feat, scale_factor=2, mode="nearest")
                feat = functional.leaky_relu(getattr(self, f"conv_up{index}")(feat), 0.2)
            return self.conv_last(functional.leaky_relu(self.conv_hr(feat), 0.2))

    blocks = 1 + max(int(match.group(1)) for key in state if (match := re.match(r"body\.(\d+)\.rdb1\.", key)))
    upsamples = sum(1 for key in state if re.fullmatch(r"conv_up\d+\.weight", key))
    features, channels_in = state["conv_first.weight"].shape[:2]
    unshuffle = {3: 1, 12: 2, 48: 4}.get(channels_in)
    if unshuffle is None:
        raise UpscalerUnavailable(f"upscaler {name}: an RRDB network with {channels_in} input channels (3, 12 or "
                                  "48 expected)")
    model = RrdbNet(channels_in, features, blocks, state["body.0.rdb1.conv1.weight"].shape[0], upsamples, unshuffle,
                    state["conv_last.weight"].shape[0])
    scale = 2 ** upsamples / unshuffle
    return model, state, scale, unshuffle


def _from_old_esrgan(state: dict) -> dict:
    """The original ESRGAN's layer names (`model.0`, `model.1.sub.N.RDB1.conv1.0`, ...) as Real-ESRGAN's."""
    convs = sorted({int(key.split(".")[1]) for key in state if re.match(r"model\.\d+\.(weight|bias)$", key)} - {0})
    *ups, hr, last = convs
    renamed = {}
    for key, value in state.items():
        parts = key.split(".")
        index, kind = int(parts[1]), parts[-1]
        if index == 0:
            renamed[f"conv_first.{kind}"] = value
        elif index == 1 and ".RDB" in key:  # model.1.sub.N.RDBk.convj.0.weight
            renamed[f"body.{parts[3]}.{parts[4].lower()}.{parts[5]}.{kind}"] = value
        elif index == 1:  # the trunk's last convolution: model.1.sub.<blocks>.weight
            renamed[f"conv_body.{kind}"] = value
        elif index in ups:
            renamed[f"conv_up{ups.index(index) + 1}.{kind}"] = value
        else:
            renamed[f"{'conv_hr' if index == hr else 'conv_last'}.{kind}"] = value
    return renamed


def _build_compact(state: dict, name: str):
    """Real-ESRGAN's compact VGG-style network (realesr-general-x4v3, realesr-animevideov3)."""
    from torch import nn
    from torch.nn import functional

    indices = sorted({int(key.split(".")[1]) for key in state if key.startswith("body.")})
    last = indices[-1]
    if any(f"body.{index}.weight" not in state for index in range(0, last + 1)):
        raise UpscalerUnavailable(f"upscaler {name}: a compact network without PReLU activations is not supported")
    features, channels_in = state["body.0.weight"].shape[:2]
    out_channels = state[f"body.{last}.weight"].shape[0]
    scale = int(round((out_channels / channels_in) ** 0.5))
    convs = (last - 2) // 2

    class Compact(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Conv2d(channels_in, features, 3, 1, 1), nn.PReLU(features)]
            for _ in range(convs):
                layers += [nn.Conv2d(features, features, 3, 1, 1), nn.PReLU(features)]
            layers.append(nn.Conv2d(features, out_channels, 3, 1, 1))
            self.body = nn.ModuleList(layers)

        def forward(self, x):
            out = x
            for layer in self.body:
                out = layer(out)
            return functional.pixel_shuffle(out, scale) + functional.interpolate(x, scale_factor=scale,
                                                                                 mode="nearest")

    return Compact(), state, float(scale), 1


# ---------------------------------------------------------------------------------------------- the model

@dataclass
class Upscaler:
    """A loaded upscaler model: `upscaler(image)` is the image `scale` times larger."""

    name: str
    architecture: str
    scale: float
    model: object
    multiple: int
    """Input sides must be multiples of this (pixel-unshuffling networks); the image is padded to it."""

    def to(self, device, dtype=None) -> Upscaler:
        self.model.to(device=device, dtype=dtype)
        return self

    def __call__(self, image: Image.Image) -> Image.Image:
        import torch

        parameter = next(self.model.parameters())
        pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)
        x = pixels.permute(2, 0, 1)[None].to(device=parameter.device, dtype=parameter.dtype)
        height, width = x.shape[-2:]
        factor = int(self.scale)
        out = torch.zeros((1, 3, height * factor, width * factor), dtype=x.dtype, device=x.device)
        with torch.inference_mode():
            for top in range(0, height, TILE):
                for left in range(0, width, TILE):
                    bottom, right = min(top + TILE, height), min(left + TILE, width)
                    # The tile with a margin of context, its sides padded to the network's multiple; only the
                    # tile's own part of the result is kept.
                    above, before = min(top, TILE_MARGIN), min(left, TILE_MARGIN)
                    piece = x[..., top - above:min(height, bottom + TILE_MARGIN),
                              left - before:min(width, right + TILE_MARGIN)]
                    pad_h, pad_w = (-piece.shape[-2]) % self.multiple, (-piece.shape[-1]) % self.multiple
                    if pad_h or pad_w:
                        piece = torch.nn.functional.pad(piece, (0, pad_w, 0, pad_h), mode="replicate")
                    result = self.model(piece)
                    rows, cols = (bottom - top) * factor, (right - left) * factor
                    out[..., top * factor:bottom * factor, left * factor:right * factor] = \
                        result[..., above * factor:above * factor + rows, before * factor:before * factor + cols]
        array = out[0].float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
        return Image.fromarray(array)


def load_upscaler(name: str, models_dir: Path | None) -> Upscaler:
    """The upscaler file of MODELS_DIR/upscalers/ called `name`, its architecture found from its weights."""
    files = upscaler_files(models_dir)
    if name not in files:
        known = ", ".join(upscaler_names(models_dir))
        raise UpscalerUnavailable(f"upscaler {name!r}: not a file of MODELS_DIR/{UPSCALERS_FOLDER}/ (known: "
                                  f"{known}); copy its .safetensors or .pth there")
    path = files[name]
    state = read_weights(path)
    if "model.0.weight" in state:
        state, architecture = _from_old_esrgan(state), "ESRGAN (original layer names)"
        built = _build_rrdbnet(state, path.name)
    elif "conv_first.weight" in state and "body.0.rdb1.conv1.weight" in state:
        architecture, built = "ESRGAN (Real-ESRGAN)", _build_rrdbnet(state, path.name)
    elif "body.0.weight" in state and "body.1.weight" in state:
        architecture, built = "Real-ESRGAN compact", _build_compact(state, path.name)
    else:
        sample = ", ".join(list(state)[:4])
        raise UpscalerUnavailable(f"upscaler {path.name}: not an architecture this service knows (ESRGAN, "
                                  f"Real-ESRGAN, Real-ESRGAN compact); its first weights are {sample}")
    model, weights, scale, multiple = built
    if scale < 1 or scale != int(scale):
        raise UpscalerUnavailable(f"upscaler {path.name}: a {architecture} network of scale {scale:g}; whole "
                                  "factors of 1 or more are supported")
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise UpscalerUnavailable(f"upscaler {path.name}: its weights do not fit a {architecture} network "
                                  f"({first[:200]})") from None
    model.eval().requires_grad_(False)
    return Upscaler(name, architecture, scale, model, multiple)
