// The product-photo page's settings, the size its result will have, and the job request they become. Bounds
// and defaults come from the contract (FIELD_RULES through lib/form), the sizes from the server's rules.
import type { GenerateCreate } from '../../api/types';
import { FIELD_RULES } from '../../client';
import {
  DEFAULT_FORM, DEFAULT_HIRES, hiresRequest, LIMITS, MAX_PROMPT_LENGTH, MAX_SEED, MODE_DEFAULTS, outputSize,
  validateHires, type GenerateForm, type HiresSettings,
} from '../../lib/form';

const REQUEST = FIELD_RULES.GenerateCreate;
const CONTROLNET = FIELD_RULES.ControlNetCreate;

export const PHOTO_MODES = ['background', 'outpaint', 'inpaint'] as const;
export type PhotoMode = (typeof PHOTO_MODES)[number];
export const FORMATS = ['1:1', '4:5', '3:4', '16:9'] as const;
export type PhotoFormat = (typeof FORMATS)[number];
export type MaskedContent = GenerateCreate['masked_content'];

export const MODE_TEXT: Record<PhotoMode, { label: string; hint: string }> = {
  background: { label: 'New background', hint: 'Keep the product exactly as it is and put it in a new scene.' },
  outpaint: { label: 'Extend to a format', hint: 'Widen the photo to a marketplace format; the photo stays as it is.' },
  inpaint: { label: 'Repaint an area', hint: 'Paint over the part to change and describe what should be there.' },
};

export const MASKED_CONTENT_TEXT: Record<MaskedContent, string> = {
  original: 'The photo, changed gently',
  fill: 'The colours around it',
  latent_noise: 'Something new (most change)',
  latent_nothing: 'A flat grey start',
};

export const LIMITS_PHOTO = {
  maskBlur: { min: REQUEST.mask_blur.minimum ?? 0, max: REQUEST.mask_blur.maximum ?? 64 },
  strength: { min: 0.05, max: REQUEST.strength.maximum ?? 1 },
  outlineScale: { min: CONTROLNET.scale.minimum ?? 0, max: CONTROLNET.scale.maximum ?? 2 },
};

/** The form's values, as typed. Mode and format live in the address (search.ts). */
export interface PhotoSettings extends Pick<GenerateForm, 'model' | 'loraWeight' | 'steps' | 'seedMode' | 'seed'>,
  HiresSettings {
  prompt: string;
  mode: PhotoMode;
  format: PhotoFormat;
  placement: GenerateCreate['placement'];
  fill: GenerateCreate['outpaint_fill'];
  maskedContent: MaskedContent;
  maskBlur: string;
  strength: string;
  /** inpaint: repaint everything but the marked area. */
  repaintOutside: boolean;
  outline: boolean;
  outlineModel: string;
  outlineScale: string;
}

export const DEFAULT_PHOTO_SETTINGS: PhotoSettings = {
  prompt: '',
  mode: 'background',
  format: '4:5',
  placement: MODE_DEFAULTS.placement,
  fill: 'white', // a catalogue format by default; "scene" asks for a prompt
  maskedContent: MODE_DEFAULTS.masked_content,
  maskBlur: String(MODE_DEFAULTS.mask_blur),
  strength: String(REQUEST.strength.default),
  repaintOutside: false,
  outline: false,
  outlineModel: '',
  outlineScale: String(CONTROLNET.scale.default),
  ...DEFAULT_HIRES,
  model: DEFAULT_FORM.model,
  loraWeight: DEFAULT_FORM.loraWeight,
  steps: DEFAULT_FORM.steps,
  seedMode: 'random',
  seed: '',
};

/** Why "High resolution 2x" cannot be used with these settings, or null when it can. */
export function hiresUnavailable(settings: Pick<PhotoSettings, 'mode' | 'fill'>): string | null {
  return needsPrompt(settings) ? null
    : 'A white format generates nothing to refine: the photo is only padded, at the size shown.';
}

/** The ControlNet offered first: the built-in test one on the tiny base, Canny edges for SD1.5 otherwise. */
export function defaultOutlineModel(baseModel: string | null): string {
  return baseModel === 'tiny' ? 'tiny' : 'lllyasviel/control_v11p_sd15_canny';
}

// ------------------------------------------------------------------------------------------------ sizes

/** The photo's shape with its longer side at the base's native side, in multiples of 8 (the server's rule). */
export function workingSize(width: number, height: number, native: { width: number; height: number }):
  { width: number; height: number } {
  const scale = Math.max(native.width, native.height) / Math.max(width, height);
  const side = (value: number) => Math.max(64, Math.round((value * scale) / 8) * 8);
  return { width: side(width), height: side(height) };
}

/** Outpaint's canvas for a format "W:H": the photo at its working size, extended along one side. */
export function formatSize(width: number, height: number, native: { width: number; height: number },
  format: string): { width: number; height: number } {
  const working = workingSize(width, height, native);
  const [across, down] = format.split(':').map(Number);
  if (working.width * down < working.height * across) {
    return { width: Math.max(working.width, Math.round((working.height * across) / down / 8) * 8),
      height: working.height };
  }
  return { width: working.width, height: Math.max(working.height, Math.round((working.width * down) / across / 8) * 8) };
}

/** The size the result will have, e.g. "112 × 64 px". */
export function resultSizeText(settings: Pick<PhotoSettings, 'mode' | 'format' | 'fill' | 'hires'>,
  photo: { width: number; height: number }, native: { width: number; height: number }): string {
  const first = settings.mode === 'outpaint' ? formatSize(photo.width, photo.height, native, settings.format)
    : workingSize(photo.width, photo.height, native);
  const size = outputSize(first.width, first.height, settings.hires && hiresUnavailable(settings) === null);
  return `${size.width} × ${size.height} px`;
}

/** The size a decoded photo is brought down to before it is sent: the server works at about the base's size. */
export function fitWithin(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

// ------------------------------------------------------------------------------------- checks, request

export type PhotoField = 'photo' | 'mask' | 'prompt' | 'steps' | 'seed' | 'maskBlur' | 'strength' | 'outlineModel' |
  'outlineScale' | 'loraWeight' | 'hiresUpscaler' | 'hiresStrength';
export type PhotoErrors = Partial<Record<PhotoField, string>>;

function numberIn(text: string, label: string, range: { min: number; max: number }, integer: boolean): string | null {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) return `${label} must be a number.`;
  if (integer && !Number.isInteger(value)) return `${label} must be a whole number.`;
  if (value < range.min || value > range.max) return `${label} must be between ${range.min} and ${range.max}.`;
  return null;
}

/** Whether the mode draws anything from the prompt (a white outpaint only pads the photo). */
export function needsPrompt(settings: Pick<PhotoSettings, 'mode' | 'fill'>): boolean {
  return !(settings.mode === 'outpaint' && settings.fill === 'white');
}

export function validatePhoto(settings: PhotoSettings, photo: boolean, markedShare: number): PhotoErrors {
  const errors: PhotoErrors = {};
  const put = (field: PhotoField, message: string | null) => {
    if (message) errors[field] = message;
  };
  if (!photo) errors.photo = 'Add a product photo first.';
  if (needsPrompt(settings) && !settings.prompt.trim()) errors.prompt = 'Describe the scene you want.';
  if (settings.prompt.length > MAX_PROMPT_LENGTH) errors.prompt = `At most ${MAX_PROMPT_LENGTH} characters.`;
  if (settings.mode === 'inpaint' && photo && markedShare === 0) {
    errors.mask = 'Paint over the area to repaint (or press “Find product”).';
  }
  put('steps', numberIn(settings.steps, 'Steps', LIMITS.steps, true));
  if (settings.seedMode === 'fixed') put('seed', numberIn(settings.seed, 'Seed', { min: 0, max: MAX_SEED }, true));
  if (settings.model) put('loraWeight', numberIn(settings.loraWeight, 'LoRA weight', LIMITS.loraWeight, false));
  if (settings.mode !== 'outpaint') put('maskBlur', numberIn(settings.maskBlur, 'Edge softness', LIMITS_PHOTO.maskBlur, true));
  if (settings.mode === 'inpaint') put('strength', numberIn(settings.strength, 'Amount of change', LIMITS_PHOTO.strength, false));
  if (settings.outline) {
    if (!settings.outlineModel.trim()) errors.outlineModel = 'Name the ControlNet model.';
    put('outlineScale', numberIn(settings.outlineScale, 'Outline strength', LIMITS_PHOTO.outlineScale, false));
  }
  if (hiresUnavailable(settings) === null) Object.assign(errors, validateHires(settings));
  return errors;
}

/**
 * The job request for valid settings. `photo` is the photo as a data URL; `mask` the edited mask (white =
 * marked) or null when nothing is marked: background then finds the product itself; outpaint takes no mask.
 */
export function toPhotoRequest(settings: PhotoSettings, photo: string, mask: string | null): GenerateCreate {
  const model = settings.model || null;
  const { mode } = settings;
  const body: GenerateCreate = {
    // A plain outpaint generates nothing: its record says so rather than keep a scene typed for another mode.
    prompt: needsPrompt(settings) ? settings.prompt.trim() : 'product photo on a plain white background',
    negative_prompt: DEFAULT_FORM.negativePrompt,
    model_name: model,
    loras: model ? [{ name: model, weight: Number(settings.loraWeight) }] : [],
    num_images: 1,
    num_inference_steps: Number(settings.steps),
    guidance_scale: Number(DEFAULT_FORM.guidance),
    sampler: DEFAULT_FORM.sampler,
    clip_skip: Number(DEFAULT_FORM.clipSkip),
    seed: settings.seedMode === 'fixed' ? Number(settings.seed) : null,
    strength: mode === 'inpaint' ? Number(settings.strength) : Number(REQUEST.strength.default),
    ...MODE_DEFAULTS,
    ...hiresRequest({ ...settings, hires: settings.hires && hiresUnavailable(settings) === null }),
    mode,
    init_image: photo,
    mask_image: mode === 'outpaint' ? null : mask,
  };
  if (mode !== 'outpaint') body.mask_blur = Number(settings.maskBlur);
  if (mode === 'inpaint') {
    body.masked_content = settings.maskedContent;
    body.mask_invert = settings.repaintOutside;
  }
  if (mode === 'outpaint') {
    body.aspect_ratio = settings.format;
    body.placement = settings.placement;
    body.outpaint_fill = settings.fill;
  }
  if (settings.outline) {
    body.controlnets = [{ model: settings.outlineModel.trim(), preprocessor: 'canny',
      scale: Number(settings.outlineScale), start: 0, end: 1, image: null }];
  }
  return body;
}
