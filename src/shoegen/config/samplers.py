"""Samplers by the names AUTOMATIC1111 users know, and the diffusers scheduler each one stands for.
Pure data: the engine builds the scheduler (`engine.samplers.make_scheduler`)."""

from __future__ import annotations

from dataclasses import dataclass

from shoegen.errors import ShoegenError


@dataclass(frozen=True)
class Sampler:
    name: str
    scheduler_class: str
    options: tuple[tuple[str, object], ...] = ()
    aliases: tuple[str, ...] = ()


SAMPLERS = (
    Sampler("DPM++ 2M Karras", "DPMSolverMultistepScheduler",
            (("algorithm_type", "dpmsolver++"), ("use_karras_sigmas", True)), ("dpmpp_2m_karras",)),
    Sampler("DPM++ 2M", "DPMSolverMultistepScheduler", (("algorithm_type", "dpmsolver++"),), ("dpmpp_2m",)),
    Sampler("Euler", "EulerDiscreteScheduler", (), ("euler",)),
    Sampler("Euler a", "EulerAncestralDiscreteScheduler", (), ("euler_a", "euler_ancestral")),
    Sampler("DDIM", "DDIMScheduler", (), ("ddim",)),
    Sampler("PNDM", "PNDMScheduler", (), ("pndm", "PLMS")),
)
DEFAULT_SAMPLER = "DPM++ 2M Karras"
SAMPLER_NAMES = tuple(s.name for s in SAMPLERS)
_BY_NAME = {key.lower(): s for s in SAMPLERS for key in (s.name, *s.aliases)}


def find_sampler(name: str) -> Sampler:
    sampler = _BY_NAME.get(name.strip().lower())
    if sampler is None:
        raise ShoegenError(f"unknown sampler {name!r}; available: {', '.join(SAMPLER_NAMES)}")
    return sampler
