from __future__ import annotations

import torch

from shoegen.data.splits import load_training_examples
from shoegen.training import batches


def test_latent_cache_on_the_cpu_encodes_one_image_at_a_time_with_the_batched_latents(sample_dataset, tiny_base):
    """A CPU gains no speed from batching the VAE, and its memory grows with the batch: the cache is built one image
    per pass, and those latents are the ones a batched pass gives."""
    from diffusers import AutoencoderKL

    examples = batches.assign_buckets(load_training_examples(sample_dataset, min_side=64, validation=None,
                                                             seed=0).train, 64, True)
    vae = AutoencoderKL.from_pretrained(tiny_base, subfolder="vae").requires_grad_(False)
    passes = []
    encode = vae.encode

    def counted(pixels):
        passes.append(pixels.shape[0])
        return encode(pixels)

    vae.encode = counted
    cache = batches.build_latent_cache(examples, vae, random_flip=True, cache_file=None, show_progress=False)
    assert passes == [1] * (2 * len(examples))
    assert set(cache) == {(i, flip) for i in range(len(examples)) for flip in (False, True)}

    together = batches.encode_pixels(vae, torch.stack([batches.load_pixels(e, False) for e in examples[:8]]))
    for i in range(8):
        torch.testing.assert_close(cache[(i, False)], together[i], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(cache[(0, False)], cache[(0, True)])  # the flipped image has its own latents
