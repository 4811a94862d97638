"""Prompt handling: AUTOMATIC1111's `<lora:name:weight>` tags, and the CLIP token limit made explicit."""

from __future__ import annotations

import re
from dataclasses import dataclass

LORA_TAG = re.compile(r"<lora:([^:>]+)(?::([-+]?\d*\.?\d+))?>")


@dataclass(frozen=True)
class LoraRef:
    name: str
    weight: float = 1.0


def extract_lora_tags(prompt: str) -> tuple[str, list[LoraRef]]:
    """The prompt without its `<lora:...>` tags, and the adapters they name (weight 1 when omitted)."""
    refs = [LoraRef(m.group(1).strip(), float(m.group(2)) if m.group(2) else 1.0) for m in LORA_TAG.finditer(prompt)]
    cleaned = re.sub(r"\s{2,}", " ", LORA_TAG.sub("", prompt)).strip().strip(",").strip()
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
