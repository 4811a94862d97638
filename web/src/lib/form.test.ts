import { describe, expect, it } from 'vitest';
import type { GalleryImagePublic } from '../api/types';
import { galleryImage } from '../test/fetchMock';
import { DEFAULT_FORM, appendPhrase, formFromImage, parametersText, toRequest, validateForm } from './form';

const valid = { ...DEFAULT_FORM, prompt: 'white sneakers', width: '64', height: '64' };

describe('validateForm', () => {
  it('accepts the defaults with a prompt', () => {
    expect(validateForm(valid)).toEqual({});
  });

  it('names every field outside the UI ranges', () => {
    const errors = validateForm({ ...valid, prompt: '  ', numImages: '11', steps: '24', guidance: '15.5',
      seedMode: 'fixed', seed: '-1', width: '100', height: '' });
    expect(errors).toEqual({
      prompt: 'Describe the photo you want.',
      numImages: 'Number of images must be between 1 and 10.',
      steps: 'Steps must be between 25 and 100.',
      guidance: 'Guidance must be between 5 and 15.',
      seed: 'Seed must be between 0 and 4294967295.',
      width: 'Width must be a multiple of 8.',
      height: 'Height is required.',
    });
    expect(validateForm({ ...valid, steps: '30.5' }).steps).toBe('Steps must be a whole number.');
    expect(validateForm({ ...valid, model: 'shoes', loraWeight: '5' }).loraWeight).toMatch(/between -4 and 4/);
  });

  it('ignores the seed box while the seed is random', () => {
    expect(validateForm({ ...valid, seedMode: 'random', seed: 'garbage' })).toEqual({});
  });
});

describe('toRequest', () => {
  it('builds the contract’s body; the model’s weight goes through `loras`', () => {
    expect(toRequest({ ...valid, model: 'shoes/checkpoint-8', loraWeight: '0.7', seedMode: 'fixed', seed: '42',
      numImages: '2', steps: '25', guidance: '6' })).toEqual({
      prompt: 'white sneakers', negative_prompt: DEFAULT_FORM.negativePrompt, model_name: 'shoes/checkpoint-8',
      loras: [{ name: 'shoes/checkpoint-8', weight: 0.7 }], num_images: 2, num_inference_steps: 25,
      guidance_scale: 6, seed: 42, sampler: 'DPM++ 2M Karras', width: 64, height: 64, strength: 0.75,
    });
    expect(toRequest(valid)).toMatchObject({ model_name: null, loras: [], seed: null });
  });
});

describe('formFromImage ("use these settings")', () => {
  it('reproduces the image: prompt, model, weight, seed and settings', () => {
    const image = galleryImage('a') as GalleryImagePublic;
    const { form, notes } = formFromImage(image, { ...valid, numImages: '3' }, 'tiny');
    expect(form).toEqual({ ...valid, prompt: 'photo of shoe a', negativePrompt: 'blurry', model: 'shoes/checkpoint-8',
      loraWeight: '0.8', numImages: '3', steps: '40', guidance: '9', seedMode: 'fixed', seed: '1234',
      sampler: 'Euler a', width: '64', height: '64' });
    expect(notes).toEqual([]);
    expect(toRequest(form)).toMatchObject({ seed: 1234, model_name: 'shoes/checkpoint-8', num_inference_steps: 40 });
  });

  it('maps the base model to the empty choice and brings outside values into range, saying so', () => {
    const image = galleryImage('b', { model: 'tiny', loras: [], steps: 2, guidance_scale: 20 }) as GalleryImagePublic;
    const { form, notes } = formFromImage(image, valid, 'tiny');
    expect(form).toMatchObject({ model: '', loraWeight: '1', steps: '25', guidance: '15' });
    expect(notes).toHaveLength(2);
  });
});

describe('helpers', () => {
  it('appendPhrase adds comma-separated phrases once', () => {
    expect(appendPhrase('', 'black')).toBe('black');
    expect(appendPhrase('sneakers,', 'black')).toBe('sneakers, black');
    expect(appendPhrase('black sneakers', 'black')).toBe('black sneakers');
  });

  it('parametersText writes AUTOMATIC1111 infotext', () => {
    expect(parametersText(galleryImage('c') as GalleryImagePublic)).toBe(
      'photo of shoe c\nNegative prompt: blurry\nSteps: 40, Sampler: Euler a, CFG scale: 9, Seed: 1234, Size: 64x64, ' +
      'Model: shoes/checkpoint-8, Lora weights: shoes/checkpoint-8: 0.8');
  });
});
