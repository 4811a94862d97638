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
    # Aliases: this project's spellings, then AUTOMATIC1111's own (its k-diffusion names, `k_..._ka` for Karras).
    Sampler("DPM++ 2M Karras", "DPMSolverMultistepScheduler",
            (("algorithm_type", "dpmsolver++"), ("use_karras_sigmas", True)), ("dpmpp_2m_karras", "k_dpmpp_2m_ka")),
    Sampler("DPM++ 2M", "DPMSolverMultistepScheduler", (("algorithm_type", "dpmsolver++"),),
            ("dpmpp_2m", "k_dpmpp_2m")),
    Sampler("Euler", "EulerDiscreteScheduler", (), ("euler", "k_euler")),
    Sampler("Euler a", "EulerAncestralDiscreteScheduler", (),
            ("euler_a", "euler_ancestral", "k_euler_a", "k_euler_ancestral")),
    Sampler("DDIM", "DDIMScheduler", (), ("ddim",)),
    Sampler("PNDM", "PNDMScheduler", (), ("pndm", "PLMS")),
)
DEFAULT_SAMPLER = "DPM++ 2M Karras"
SAMPLER_NAMES = tuple(s.name for s in SAMPLERS)
ABSENT_A1111_SAMPLERS = {
    "LMS": ("k_lms",), "LMS Karras": ("k_lms_ka",), "Heun": ("k_heun",), "DPM2": ("k_dpm_2",),
    "DPM2 Karras": ("k_dpm_2_ka",), "DPM2 a": ("k_dpm_2_a",), "DPM2 a Karras": ("k_dpm_2_a_ka",),
    "DPM++ 2S a": ("k_dpmpp_2s_a",), "DPM++ 2S a Karras": ("k_dpmpp_2s_a_ka",), "DPM++ SDE": ("k_dpmpp_sde",),
    "DPM++ SDE Karras": ("k_dpmpp_sde_ka",), "DPM++ 2M SDE": ("k_dpmpp_2m_sde", "k_dpmpp_2m_sde_ka"),
    "DPM fast": ("k_dpm_fast",), "DPM adaptive": ("k_dpm_ad",), "UniPC": (),
}
"""AUTOMATIC1111 samplers (and their aliases) that have no scheduler here: refused by their A1111 name, rather than
mapped to another sampler that would draw something else."""


A1111_SCHEDULES = {"automatic": "Automatic", "karras": "Karras", "normal": "Normal"}
"""AUTOMATIC1111 1.9+'s schedule types (its request's `scheduler` field, by name and label) that have a sampler here:
Automatic is each sampler's own schedule, Karras the Karras sigmas, Normal the model's own steps."""
A1111_KARRAS_BY_DEFAULT = {"DPM++ 2M": "DPM++ 2M Karras"}
"""The samplers whose Automatic schedule in A1111 1.9+ is Karras (its `'scheduler': 'karras'` sampler option)."""


def _key(name: str) -> str:
    """How names are compared: case, underscores and runs of spaces do not matter ("dpm++_2m  KARRAS")."""
    return " ".join(name.replace("_", " ").split()).lower()


_BY_NAME = {_key(key): s for s in SAMPLERS for key in (s.name, *s.aliases)}
_ABSENT = {_key(key): name for name, aliases in ABSENT_A1111_SAMPLERS.items() for key in (name, *aliases)}


def find_sampler(name: str) -> Sampler:
    sampler = _BY_NAME.get(_key(name))
    if sampler is None:
        absent = _ABSENT.get(_key(name))
        what = f"sampler {name!r} is AUTOMATIC1111's {absent}, which this server does not have" if absent \
            else f"unknown sampler {name!r}"
        raise ShoegenError(f"{what}; available: {', '.join(SAMPLER_NAMES)}")
    return sampler


def a1111_sampler(sampler_name: str, schedule: str | None) -> str:
    """AUTOMATIC1111's sampler and schedule type as one sampler name here, as A1111 1.9+ combines them: a schedule in
    the sampler's name wins ("DPM++ 2M Karras"); no schedule is a client from before 1.9, whose names already say
    theirs; Automatic is the sampler's own (Karras for DPM++ 2M). ShoegenError for a schedule with no sampler here;
    an unknown sampler is returned as it is, for the request's check to refuse."""
    if schedule is None:
        return sampler_name
    wanted = _key(schedule)
    if wanted not in A1111_SCHEDULES:
        raise ShoegenError(f"schedule type {schedule!r} is not available here; available: "
                           f"{', '.join(A1111_SCHEDULES.values())}")
    name = _key(sampler_name)
    if any(name.endswith(" " + other) for other in A1111_SCHEDULES if other != "automatic"):
        return sampler_name
    if name not in _BY_NAME:
        return sampler_name  # refused as a sampler, by the request's own check
    sampler = _BY_NAME[name].name
    if wanted == "automatic":
        return A1111_KARRAS_BY_DEFAULT.get(sampler, sampler)
    if wanted == "normal":
        return sampler
    karras = _BY_NAME.get(_key(f"{sampler} Karras"))
    if karras is None:
        with_karras = [s.name.removesuffix(" Karras") for s in SAMPLERS if s.name.endswith(" Karras")]
        raise ShoegenError(f"sampler {sampler!r} has no Karras schedule here; Karras goes with: "
                           f"{', '.join(with_karras)}")
    return karras.name
