"""SD1.5's CLIP tokenizer, built offline from the BPE table that ships inside the open_clip_torch wheel.

The `open_clip_torch` package is installed with `--no-deps` only for this one file: its own dependencies
(torchvision, timm) would replace the CPU torch with a multi-GB CUDA build. We never import it.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import json
from pathlib import Path

from shoegen.errors import ShoegenError

BPE_FILE_NAME = "bpe_simple_vocab_16e6.txt.gz"
CLIP_VOCAB_SIZE = 49408
MODEL_MAX_LENGTH = 77
START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"


def find_bpe_table() -> Path:
    """The gzip BPE merges table inside the installed open_clip_torch distribution."""
    try:
        files = importlib.metadata.files("open_clip_torch") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for packaged in files:
        if packaged.name == BPE_FILE_NAME:
            return Path(packaged.locate())
    raise ShoegenError(
        f"The CLIP vocabulary ({BPE_FILE_NAME}) was not found. It ships inside the open_clip_torch wheel; "
        "install that wheel alone with `pip install --no-deps open_clip_torch` (its dependencies would pull "
        "a CUDA build of torch), or run `make install`."
    )


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte-to-printable-character table that the BPE merges are written in."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def write_tokenizer_files(folder: Path) -> None:
    """Write `vocab.json`, `merges.txt` and the tokenizer configs that `CLIPTokenizer.from_pretrained`
    reads, with the token ids SD1.5's tokenizer uses (same construction as CLIP's SimpleTokenizer)."""
    lines = gzip.open(find_bpe_table(), "rt", encoding="utf-8").read().split("\n")
    # CLIP uses the first 48,894 merges of the table: 256 bytes x2 (+ "</w>") + merges + 2 specials.
    merges = [tuple(line.split()) for line in lines[1 : 49152 - 256 - 2 + 1]]
    byte_chars = list(_byte_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars] + ["".join(m) for m in merges]
    tokens += [START_TOKEN, END_TOKEN]
    if len(tokens) != CLIP_VOCAB_SIZE:
        raise ShoegenError(f"{BPE_FILE_NAME} gave {len(tokens)} tokens, expected {CLIP_VOCAB_SIZE}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    special = {"bos_token": START_TOKEN, "eos_token": END_TOKEN, "unk_token": END_TOKEN, "pad_token": END_TOKEN}
    config = {"model_max_length": MODEL_MAX_LENGTH, "do_lower_case": True, "tokenizer_class": "CLIPTokenizer"}
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, **special}, indent=2))
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
