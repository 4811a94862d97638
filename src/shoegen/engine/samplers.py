"""The diffusers scheduler of a sampler (the sampler table itself is `config.samplers`)."""

from __future__ import annotations

from shoegen.config.samplers import Sampler


def make_scheduler(sampler: Sampler, base_config):
    import diffusers

    return getattr(diffusers, sampler.scheduler_class).from_config(base_config, **dict(sampler.options))
