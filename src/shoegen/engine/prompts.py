"""Prompt handling: AUTOMATIC1111's `<lora:name:weight>` tags, and the CLIP token limit made explicit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from shoegen.config.generation import LoraWeight
from shoegen.errors import ShoegenError

LORA_TAG = re.compile(r"<lora:([^:>]+)(?::([-+]?\d*\.?\d+))?>")
LORA_TAG_START = re.compile(r"<lora:[^>]{0,60}>?", re.IGNORECASE)
"""What is left of a tag LORA_TAG does not read (`<lora:shoes:abc>`, `<LoRA:shoes>`, `<lora:shoes`): refused, not
sent to the text encoder as words."""


def extract_lora_tags(prompt: str) -> tuple[str, list[LoraWeight]]:
    """The prompt without its `<lora:...>` tags, and the adapters they name (weight 1 when omitted)."""
    refs = []
    for match in LORA_TAG.finditer(prompt):
        try:
            refs.append(LoraWeight(name=match.group(1).strip(), weight=float(match.group(2) or 1.0)))
        except ValidationError as error:
            problem = error.errors()[0]
            raise ShoegenError(f"{match.group(0)} in the prompt: the adapter's {problem['loc'][0]} "
                               f"{problem['msg'][0].lower()}{problem['msg'][1:]}") from None
    remainder = LORA_TAG.sub("", prompt)
    malformed = LORA_TAG_START.search(remainder)
    if malformed:
        raise ShoegenError(f"{malformed.group(0)} in the prompt: an adapter tag is written <lora:NAME> or "
                           "<lora:NAME:WEIGHT> with a number as the weight, e.g. <lora:shoes:0.8>")
    cleaned = re.sub(r"\s{2,}", " ", remainder).strip().strip(",").strip()
    return cleaned, refs


@dataclass(frozen=True)
class TokenReport:
    tokens: int
    limit: int
    dropped_text: str

    @property
    def truncated(self) -> bool:
        return self.tokens > self.limit


def token_report(tokenizer, text: str) -> TokenReport:
    """How many CLIP tokens `text` needs, and which words fall beyond the encoder's window."""
    ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
    limit = tokenizer.model_max_length - 2  # start and end tokens take two of the positions
    dropped = tokenizer.decode(ids[limit:]) if len(ids) > limit else ""
    return TokenReport(len(ids), limit, dropped)
