import { describe, expect, it } from 'vitest';
import type { GalleryImagePublic } from '../api/types';
import { galleryImage } from '../test/fetchMock';
import { FIELD_RULES } from '../client';
import {
  DEFAULT_FORM, LIMITS, appendPhrase, formFromImage, outputSize, parametersText, sizeWarning, toRequest, validateForm,
  withNativeSize,
} from './form';

const valid = { ...DEFAULT_FORM, prompt: 'white sneakers', width: '64', height: '64' };

describe('the contract is the form’s only source of bounds and defaults', () => {
  it('takes them from the OpenAPI schema', () => {
    const request = FIELD_RULES.GenerateCreate;
    expect(LIMITS.steps).toEqual({ min: request.num_inference_steps.minimum, max: request.num_inference_steps.maximum });
    expect(LIMITS.guidance).toEqual({ min: request.guidance_scale.minimum, max: request.guidance_scale.maximum });
    expect(LIMITS.clipSkip).toEqual({ min: request.clip_skip.minimum, max: request.clip_skip.maximum });
    expect(DEFAULT_FORM).toMatchObject({ steps: String(request.num_inference_steps.default),
      guidance: String(request.guidance_scale.default), sampler: request.sampler.default,
      clipSkip: String(request.clip_skip.default) });
    // What the service states today, so that a change to it is seen here too.
    expect([LIMITS.steps, LIMITS.guidance, DEFAULT_FORM.steps, DEFAULT_FORM.guidance]).toEqual(
      [{ min: 1, max: 150 }, { min: 0, max: 30 }, '30', '7.5']);
  });

  it('starts at the base’s native size, keeps a chosen one, and flags sizes far from it', () => {
    expect(withNativeSize(DEFAULT_FORM, { width: 64, height: 64, far: 2 })).toMatchObject({ width: '64', height: '64' });
    expect(withNativeSize({ ...DEFAULT_FORM, width: '128', height: '128' }, { width: 64, height: 64, far: 2 }))
      .toMatchObject({ width: '128', height: '128' });
    expect(sizeWarning({ ...valid, width: '128', height: '64' }, { width: 64, height: 64, far: 2 })).toBeNull();
    expect(sizeWarning({ ...valid, width: '512', height: '512' }, { width: 64, height: 64, far: 2 }))
      .toMatch(/draws at 64×64; at 512×512 expect noise/);
    expect(sizeWarning({ ...valid, width: '256', height: '256' }, { width: 512, height: 512, far: 2 })).toBeNull();
    expect(sizeWarning({ ...valid, width: '128', height: '128' }, { width: 512, height: 512, far: 2 })).not.toBeNull();
  });
});

describe('validateForm', () => {
  it('accepts the defaults with a prompt', () => {
    expect(validateForm(valid)).toEqual({});
  });

  it('names every field outside the UI ranges', () => {
    const errors = validateForm({ ...valid, prompt: '  ', numImages: '11', steps: '151', guidance: '30.5',
      clipSkip: '13', seedMode: 'fixed', seed: '-1', width: '100', height: '' });
    expect(errors).toEqual({
      prompt: 'Describe the photo you want.',
      numImages: 'Number of images must be between 1 and 10.',
      steps: 'Steps must be between 1 and 150.',
      guidance: 'Guidance must be between 0 and 30.',
      clipSkip: 'Clip skip must be between 1 and 12.',
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
      guidance_scale: 6, seed: 42, sampler: 'DPM++ 2M Karras', clip_skip: 1, width: 64, height: 64, strength: 0.75,
      mask_blur: 4, masked_content: 'original', mask_invert: false, outpaint_fill: 'scene', placement: 'keep',
      hires_strength: 0.5, hires_upscaler: 'lanczos', controlnets: [],
    });
    expect(toRequest(valid)).toMatchObject({ model_name: null, loras: [], seed: null });
    expect(toRequest(valid).hires_scale).toBeUndefined();
  });

  it('high resolution: twice the size, with the chosen upscaler and refinement', () => {
    const hires = { ...valid, hires: true, hiresUpscaler: '4x-UltraSharp', hiresStrength: '0.3' };
    expect(toRequest(hires)).toMatchObject({ width: 64, height: 64, hires_scale: 2, hires_upscaler: '4x-UltraSharp',
      hires_strength: 0.3 });
    expect(outputSize(64, 64, true)).toEqual({ width: 128, height: 128 });
    expect(validateForm({ ...hires, hiresStrength: '0' }).hiresStrength).toBe('Refinement must be above 0 and at most 1.');
    expect(validateForm({ ...valid, hiresStrength: '0' })).toEqual({}); // ignored while it is off
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

  it('a high-resolution image: its first size, the fix switched on with its upscaler and strength', () => {
    const image = galleryImage('h', { width: 256, height: 128, extra: { mode_settings: { hires_scale: 2,
      hires_strength: 0.4, hires_steps: null, hires_upscaler: 'rrdb-x4' } } }) as GalleryImagePublic;
    const { form, notes } = formFromImage(image, valid, 'tiny');
    expect(form).toMatchObject({ width: '128', height: '64', hires: true, hiresUpscaler: 'rrdb-x4', hiresStrength: '0.4' });
    expect(notes).toEqual([]);
    const wider = galleryImage('w', { width: 192, height: 192, extra: { mode_settings: { hires_scale: 3 } } });
    const three = formFromImage(wider as GalleryImagePublic, valid, 'tiny');
    expect(three.form).toMatchObject({ width: '64', height: '64', hires: true, hiresUpscaler: 'lanczos' });
    expect(three.notes).toEqual(['High resolution doubles the size; the image was upscaled 3x.']);
  });

  it('maps the base model to the empty choice and brings outside values into range, saying so', () => {
    // Earlier versions allowed up to 200 steps; the contract allows 150 and guidance up to 30.
    const image = galleryImage('b', { model_name: 'tiny', loras: [], num_inference_steps: 200, guidance_scale: 35 }) as
      GalleryImagePublic;
    const { form, notes } = formFromImage(image, valid, 'tiny');
    expect(form).toMatchObject({ model: '', loraWeight: '1', steps: '150', guidance: '30' });
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

  it('parametersText and "use these settings" carry clip skip', () => {
    const image = galleryImage('d', { clip_skip: 2 }) as GalleryImagePublic;
    expect(parametersText(image)).toContain('Model: shoes/checkpoint-8, Clip skip: 2, Lora weights');
    expect(toRequest(formFromImage(image, valid, 'tiny').form).clip_skip).toBe(2);
  });
});
