import { describe, expect, it } from 'vitest';
import { DEFAULT_FORM, LIMITS } from '../../lib/form';
import {
  DEFAULT_PHOTO_SETTINGS, fitWithin, formatSize, resultSizeText, toPhotoRequest, validatePhoto, workingSize,
  type PhotoSettings,
} from './photo';
import { validatePhotoSearch } from './search';

const TINY = { width: 64, height: 64 };
const SD15 = { width: 512, height: 512 };
const settings = (over: Partial<PhotoSettings> = {}): PhotoSettings =>
  ({ ...DEFAULT_PHOTO_SETTINGS, prompt: 'on a wooden table, morning light', steps: '4', ...over });

describe('result sizes (the server’s rules)', () => {
  it('works at the base’s native side, the photo’s shape kept, in multiples of 8', () => {
    expect(workingSize(225, 300, SD15)).toEqual({ width: 384, height: 512 });
    expect(workingSize(1800, 2400, SD15)).toEqual({ width: 384, height: 512 });
    expect(workingSize(64, 64, TINY)).toEqual({ width: 64, height: 64 });
    expect(workingSize(300, 100, TINY)).toEqual({ width: 64, height: 64 }); // never under 64
  });

  it('extends the photo along one side to each format', () => {
    expect(formatSize(64, 64, TINY, '16:9')).toEqual({ width: 112, height: 64 });
    expect(formatSize(64, 64, TINY, '4:5')).toEqual({ width: 64, height: 80 });
    expect(formatSize(225, 300, SD15, '1:1')).toEqual({ width: 512, height: 512 });
    expect(formatSize(225, 300, SD15, '3:4')).toEqual({ width: 384, height: 512 });
    expect(formatSize(512, 512, SD15, '16:9')).toEqual({ width: 912, height: 512 });
  });

  it('says the size in words', () => {
    const plain = { fill: 'scene', hires: false } as const;
    expect(resultSizeText({ mode: 'outpaint', format: '16:9', ...plain }, { width: 64, height: 64 }, TINY))
      .toBe('112 × 64 px');
    expect(resultSizeText({ mode: 'background', format: '16:9', ...plain }, { width: 225, height: 300 }, SD15))
      .toBe('384 × 512 px');
    // High resolution doubles it, but a white format (nothing generated) stays as it is.
    expect(resultSizeText({ mode: 'background', format: '16:9', fill: 'scene', hires: true },
      { width: 225, height: 300 }, SD15)).toBe('768 × 1024 px');
    expect(resultSizeText({ mode: 'outpaint', format: '16:9', fill: 'white', hires: true },
      { width: 64, height: 64 }, TINY)).toBe('112 × 64 px');
  });

  it('brings a large photo down before sending it', () => {
    expect(fitWithin(1800, 2400, 1024)).toEqual({ width: 768, height: 1024 });
    expect(fitWithin(225, 300, 1024)).toEqual({ width: 225, height: 300 });
  });
});

describe('checks', () => {
  it('asks for a photo, a description and, to repaint, a marked area', () => {
    expect(validatePhoto(settings({ prompt: ' ' }), false, 0)).toMatchObject({ photo: expect.any(String),
      prompt: 'Describe the scene you want.' });
    expect(validatePhoto(settings({ mode: 'inpaint' }), true, 0).mask).toMatch(/Paint over the area/);
    expect(validatePhoto(settings(), true, 0)).toEqual({}); // background finds the product itself
    expect(validatePhoto(settings({ mode: 'outpaint', fill: 'white', prompt: '' }), true, 0)).toEqual({});
  });

  it('holds the contract’s bounds', () => {
    const errors = validatePhoto(settings({ steps: String(LIMITS.steps.max + 1), seedMode: 'fixed', seed: '-1',
      outline: true, outlineModel: '', outlineScale: '3' }), true, 0.2);
    expect(errors.steps).toBe(`Steps must be between ${LIMITS.steps.min} and ${LIMITS.steps.max}.`);
    expect(Object.keys(errors).sort()).toEqual(['outlineModel', 'outlineScale', 'seed', 'steps']);
  });
});

describe('the job request', () => {
  it('background: the photo and the edited mask, the blur; no format fields', () => {
    const body = toPhotoRequest(settings({ seedMode: 'fixed', seed: '7' }), 'data:photo', 'data:mask');
    expect(body).toMatchObject({ mode: 'background', prompt: 'on a wooden table, morning light', init_image: 'data:photo',
      mask_image: 'data:mask', mask_blur: 4, num_images: 1, num_inference_steps: 4, seed: 7, model_name: null,
      negative_prompt: DEFAULT_FORM.negativePrompt, controlnets: [] });
    expect(body.aspect_ratio).toBeUndefined();
    expect(body.hires_scale).toBeUndefined();
    expect(toPhotoRequest(settings(), 'data:photo', null).mask_image).toBeNull(); // found by the server
    expect(toPhotoRequest(settings({ hires: true }), 'data:photo', null).hires_scale).toBe(2);
    expect(toPhotoRequest(settings({ mode: 'outpaint', fill: 'white', hires: true }), 'data:photo', null).hires_scale)
      .toBeUndefined();
  });

  it('outpaint: the format, placement and fill, never a mask; a white fill needs no prompt', () => {
    const body = toPhotoRequest(settings({ mode: 'outpaint', format: '16:9', fill: 'white', placement: 'center',
      prompt: '' }), 'data:photo', 'data:mask');
    expect(body).toMatchObject({ mode: 'outpaint', aspect_ratio: '16:9', outpaint_fill: 'white', placement: 'center',
      mask_image: null });
    expect(body.prompt).toBe('product photo on a plain white background');
  });

  it('inpaint: what to start from, how much to change, inside or outside; a model with its weight', () => {
    const body = toPhotoRequest(settings({ mode: 'inpaint', prompt: 'red laces', maskedContent: 'latent_noise',
      strength: '0.6', repaintOutside: true, model: 'shoes/checkpoint-8', loraWeight: '0.8' }), 'data:p', 'data:m');
    expect(body).toMatchObject({ mode: 'inpaint', masked_content: 'latent_noise', strength: 0.6, mask_invert: true,
      mask_image: 'data:m', model_name: 'shoes/checkpoint-8', loras: [{ name: 'shoes/checkpoint-8', weight: 0.8 }] });
  });

  it('follow the outline: one Canny ControlNet on the photo', () => {
    const body = toPhotoRequest(settings({ outline: true, outlineModel: ' tiny ', outlineScale: '0.7' }), 'p', null);
    expect(body.controlnets).toEqual([{ model: 'tiny', preprocessor: 'canny', scale: 0.7, start: 0, end: 1, image: null }]);
  });
});

describe('the address', () => {
  it('keeps a known mode and format, drops anything else', () => {
    expect(validatePhotoSearch({ mode: 'outpaint', format: '16:9' })).toEqual({ mode: 'outpaint', format: '16:9' });
    expect(validatePhotoSearch({ mode: 'txt2img', format: '2:1' })).toEqual({ mode: undefined, format: undefined });
  });
});
