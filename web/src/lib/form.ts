// The generate form: its state (strings, as typed), validation against the API's ranges, the request body
// it becomes, and the way back from a stored image ("use these settings"). Every bound and default comes
// from the OpenAPI contract (FIELD_RULES, generated), never from a copy here.
import type { GalleryImagePublic, GenerateCreate } from '../api/types';
import { FIELD_RULES, type FieldRule } from '../client';

const REQUEST = FIELD_RULES.GenerateCreate;

function range(rule: FieldRule): { min: number; max: number } {
  return { min: rule.minimum ?? rule.exclusiveMinimum ?? 0, max: rule.maximum ?? Number.MAX_SAFE_INTEGER };
}

function defaultOf(rule: FieldRule): string {
  return String(rule.default);
}

export const MAX_SEED = range(REQUEST.seed).max;
export const LIMITS = {
  numImages: range(REQUEST.num_images),
  steps: range(REQUEST.num_inference_steps),
  guidance: range(REQUEST.guidance_scale),
  loraWeight: range(FIELD_RULES.LoraWeight.weight),
  clipSkip: range(REQUEST.clip_skip),
  side: range(REQUEST.width),
  hiresStrength: range(REQUEST.hires_strength),
};
/** "High resolution 2x": the hires fix's factor, in the studio. */
export const HIRES_SCALE = 2;
export const SIZE_STEP = REQUEST.width.multipleOf ?? 8;
export const MAX_PROMPT_LENGTH = REQUEST.prompt.maxLength ?? 4000;
/** The sizes offered in the menus (within the API's range); any other multiple of 8 can come from an image. */
export const SIZES = [64, 128, 256, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024]
  .filter((size) => size >= LIMITS.side.min && size <= LIMITS.side.max);

export interface GenerateForm {
  prompt: string;
  negativePrompt: string;
  /** '' is the base model. */
  model: string;
  loraWeight: string;
  numImages: string;
  steps: string;
  guidance: string;
  seedMode: 'random' | 'fixed';
  seed: string;
  sampler: string;
  clipSkip: string;
  width: string;
  height: string;
  /** The hires fix: generate at width x height, upscale 2x, refine. */
  hires: boolean;
  hiresUpscaler: string;
  hiresStrength: string;
}

/** The hires fix's fields, shared by the generate and product-photo forms. */
export type HiresSettings = Pick<GenerateForm, 'hires' | 'hiresUpscaler' | 'hiresStrength'>;

export const DEFAULT_HIRES: HiresSettings = {
  hires: false,
  hiresUpscaler: defaultOf(REQUEST.hires_upscaler),
  hiresStrength: defaultOf(REQUEST.hires_strength),
};

export type FormField = keyof GenerateForm;
export type FormErrors = Partial<Record<FormField, string>>;

/** The API's defaults, but for two studio choices: four variations per click (the API's single image suits
 * scripts) and a negative prompt to start from. The size is the base's native one (`withNativeSize`). */
export const DEFAULT_FORM: GenerateForm = {
  prompt: '',
  negativePrompt: 'blurry, low quality, watermark, text, cropped',
  model: '',
  loraWeight: defaultOf(FIELD_RULES.LoraWeight.weight),
  numImages: '4',
  steps: defaultOf(REQUEST.num_inference_steps),
  guidance: defaultOf(REQUEST.guidance_scale),
  seedMode: 'random',
  seed: '',
  sampler: defaultOf(REQUEST.sampler),
  clipSkip: defaultOf(REQUEST.clip_skip),
  width: '',
  height: '',
  ...DEFAULT_HIRES,
};

/** The form at the base's native size, unless a size was chosen already. */
export function withNativeSize(form: GenerateForm, native: NativeSize): GenerateForm {
  return form.width || form.height ? form : { ...form, width: String(native.width), height: String(native.height) };
}

/** The base's native size, and how far from it (a factor either way) a size is flagged: GET /api/models. */
export interface NativeSize {
  width: number;
  height: number;
  far: number;
}

/** A sentence when the form's size is far from the base's native size (the server warns too), or null. */
export function sizeWarning(form: GenerateForm, native: NativeSize | null): string | null {
  const width = Number(form.width);
  const height = Number(form.height);
  if (!native || !width || !height) return null;
  const ratios = [width / native.width, height / native.height];
  if (Math.max(...ratios) <= native.far && Math.min(...ratios) >= 1 / native.far) return null;
  return `This base model draws at ${native.width}×${native.height}; at ${width}×${height} expect noise or ` +
    'repeated products.';
}

/** Request fields (as the API names them in 422 errors) → the form field that shows the error. */
export const API_FIELD_TO_FORM: Record<string, FormField> = {
  prompt: 'prompt',
  negative_prompt: 'negativePrompt',
  model_name: 'model',
  loras: 'loraWeight',
  num_images: 'numImages',
  num_inference_steps: 'steps',
  guidance_scale: 'guidance',
  seed: 'seed',
  sampler: 'sampler',
  clip_skip: 'clipSkip',
  width: 'width',
  height: 'height',
  hires_scale: 'hires',
  hires_upscaler: 'hiresUpscaler',
  hires_strength: 'hiresStrength',
};

export function randomSeed(): number {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return buffer[0];
}

function numberIn(text: string, label: string, min: number, max: number, integer: boolean): string | null {
  if (text.trim() === '') return `${label} is required.`;
  const value = Number(text);
  if (!Number.isFinite(value)) return `${label} must be a number.`;
  if (integer && !Number.isInteger(value)) return `${label} must be a whole number.`;
  if (value < min || value > max) return `${label} must be between ${min} and ${max}.`;
  return null;
}

export function validateForm(form: GenerateForm): FormErrors {
  const errors: FormErrors = {};
  const check = (field: FormField, message: string | null) => {
    if (message) errors[field] = message;
  };
  if (!form.prompt.trim()) errors.prompt = 'Describe the photo you want.';
  else if (form.prompt.length > MAX_PROMPT_LENGTH) {
    errors.prompt = `The prompt is limited to ${MAX_PROMPT_LENGTH.toLocaleString('en')} characters.`;
  }
  if (form.negativePrompt.length > MAX_PROMPT_LENGTH) {
    errors.negativePrompt = `The negative prompt is limited to ${MAX_PROMPT_LENGTH.toLocaleString('en')} characters.`;
  }
  check('numImages', numberIn(form.numImages, 'Number of images', LIMITS.numImages.min, LIMITS.numImages.max, true));
  check('steps', numberIn(form.steps, 'Steps', LIMITS.steps.min, LIMITS.steps.max, true));
  check('guidance', numberIn(form.guidance, 'Guidance', LIMITS.guidance.min, LIMITS.guidance.max, false));
  check('clipSkip', numberIn(form.clipSkip, 'Clip skip', LIMITS.clipSkip.min, LIMITS.clipSkip.max, true));
  if (form.model) {
    check('loraWeight', numberIn(form.loraWeight, 'LoRA weight', LIMITS.loraWeight.min, LIMITS.loraWeight.max,
      false));
  }
  if (form.seedMode === 'fixed') check('seed', numberIn(form.seed, 'Seed', 0, MAX_SEED, true));
  for (const field of ['width', 'height'] as const) {
    const label = field === 'width' ? 'Width' : 'Height';
    const message = numberIn(form[field], label, LIMITS.side.min, LIMITS.side.max, true);
    check(field, message ?? (Number(form[field]) % SIZE_STEP ? `${label} must be a multiple of ${SIZE_STEP}.` : null));
  }
  if (!form.sampler) errors.sampler = 'Pick a sampler.';
  Object.assign(errors, validateHires(form));
  return errors;
}

/** The hires fix's checks: a refinement strength above 0 and at most 1 (the contract's bounds), an upscaler. */
export function validateHires(settings: HiresSettings): Partial<Record<keyof HiresSettings, string>> {
  if (!settings.hires) return {};
  const errors: Partial<Record<keyof HiresSettings, string>> = {};
  const strength = Number(settings.hiresStrength);
  const { max } = LIMITS.hiresStrength;
  if (settings.hiresStrength.trim() === '' || !Number.isFinite(strength) || strength <= LIMITS.hiresStrength.min ||
    strength > max) {
    errors.hiresStrength = `Refinement must be above ${LIMITS.hiresStrength.min} and at most ${max}.`;
  }
  if (!settings.hiresUpscaler) errors.hiresUpscaler = 'Pick an upscaler.';
  return errors;
}

/** The request fields of the hires fix: the settings when it is on, the contract's defaults when it is off. */
export function hiresRequest(settings: HiresSettings): Pick<GenerateCreate, 'hires_scale' | 'hires_upscaler' |
  'hires_strength'> {
  if (!settings.hires) return { hires_upscaler: MODE_DEFAULTS.hires_upscaler, hires_strength: MODE_DEFAULTS.hires_strength };
  return { hires_scale: HIRES_SCALE, hires_upscaler: settings.hiresUpscaler, hires_strength: Number(settings.hiresStrength) };
}

/** The size a request's images come out at: twice width x height with the hires fix (in multiples of 8, as the
 * server rounds). */
export function outputSize(width: number, height: number, hires: boolean): { width: number; height: number } {
  if (!hires) return { width, height };
  const twice = (value: number) => Math.max(64, Math.round((value * HIRES_SCALE) / 8) * 8);
  return { width: twice(width), height: twice(height) };
}

/** The contract's defaults for the fields of the modes that keep a photo (a txt2img request leaves them so). */
export const MODE_DEFAULTS: Pick<GenerateCreate, 'mask_blur' | 'masked_content' | 'mask_invert' | 'outpaint_fill' |
  'placement' | 'hires_strength' | 'hires_upscaler' | 'controlnets'> = {
  mask_blur: Number(REQUEST.mask_blur.default),
  masked_content: REQUEST.masked_content.default as GenerateCreate['masked_content'],
  mask_invert: Boolean(REQUEST.mask_invert.default),
  outpaint_fill: REQUEST.outpaint_fill.default as GenerateCreate['outpaint_fill'],
  placement: REQUEST.placement.default as GenerateCreate['placement'],
  hires_strength: Number(REQUEST.hires_strength.default),
  hires_upscaler: defaultOf(REQUEST.hires_upscaler),
  controlnets: [],
};

/** The job request for a valid form (validate first). */
export function toRequest(form: GenerateForm): GenerateCreate {
  const model = form.model || null;
  return {
    prompt: form.prompt.trim(),
    negative_prompt: form.negativePrompt.trim(),
    model_name: model,
    // The adapter named by model_name is applied at weight 1; naming it again in `loras` sets its weight.
    loras: model ? [{ name: model, weight: Number(form.loraWeight) }] : [],
    num_images: Number(form.numImages),
    num_inference_steps: Number(form.steps),
    guidance_scale: Number(form.guidance),
    seed: form.seedMode === 'fixed' ? Number(form.seed) : null,
    sampler: form.sampler,
    clip_skip: Number(form.clipSkip),
    width: Number(form.width),
    height: Number(form.height),
    strength: Number(REQUEST.strength.default),
    ...MODE_DEFAULTS,
    ...hiresRequest(form),
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * The form that reproduces `image` (same seed, model, weights and settings); the number of images is kept.
 * Values outside this form's ranges are brought inside them, and each change is described in `notes`.
 */
export function formFromImage(image: GalleryImagePublic, current: GenerateForm, baseModel: string | null):
  { form: GenerateForm; notes: string[] } {
  const notes: string[] = [];
  const model = image.model_name && image.model_name !== baseModel ? image.model_name : '';
  const weight = image.loras.find((lora) => (lora as { name?: string }).name === model) as
    { weight?: number } | undefined;
  const steps = clamp(image.num_inference_steps, LIMITS.steps.min, LIMITS.steps.max);
  if (steps !== image.num_inference_steps) notes.push(`Steps set to ${steps} (the image used ` +
    `${image.num_inference_steps}; this form allows ${LIMITS.steps.min}–${LIMITS.steps.max}).`);
  const guidance = clamp(image.guidance_scale, LIMITS.guidance.min, LIMITS.guidance.max);
  if (guidance !== image.guidance_scale) notes.push(`Guidance set to ${guidance} (the image used ` +
    `${image.guidance_scale}).`);
  // A hires image was drawn at a smaller size first: that size, and the fix switched on.
  const settings = (image.extra?.mode_settings ?? {}) as { hires_scale?: number; hires_upscaler?: string;
    hires_strength?: number };
  const scale = settings.hires_scale ?? null;
  const firstSide = (side: number) => (scale ? Math.max(LIMITS.side.min, Math.round(side / scale / SIZE_STEP) * SIZE_STEP)
    : side);
  if (scale !== null && scale !== HIRES_SCALE) notes.push(`High resolution doubles the size; the image was upscaled ` +
    `${scale}x.`);
  return {
    form: {
      ...current,
      prompt: image.prompt,
      negativePrompt: image.negative_prompt,
      model,
      loraWeight: String(weight?.weight ?? 1),
      steps: String(steps),
      guidance: String(guidance),
      seedMode: 'fixed',
      seed: String(image.seed),
      sampler: image.sampler,
      clipSkip: String(image.clip_skip),
      width: String(firstSide(image.width)),
      height: String(firstSide(image.height)),
      hires: scale !== null,
      hiresUpscaler: scale !== null ? settings.hires_upscaler ?? DEFAULT_HIRES.hiresUpscaler : current.hiresUpscaler,
      hiresStrength: scale !== null ? String(settings.hires_strength ?? DEFAULT_HIRES.hiresStrength)
        : current.hiresStrength,
    },
    notes,
  };
}

/** AUTOMATIC1111's "infotext", the format other Stable Diffusion tools paste. */
export function parametersText(image: GalleryImagePublic): string {
  const settings: [string, string | number | null][] = [
    ['Steps', image.num_inference_steps],
    ['Sampler', image.sampler],
    ['CFG scale', image.guidance_scale],
    ['Seed', image.seed],
    ['Size', `${image.width}x${image.height}`],
    ['Model', image.model_name],
    ['Denoising strength', image.strength ?? null],
    ['Clip skip', image.clip_skip > 1 ? image.clip_skip : null],
    ['Lora weights', image.loras.map((l) => {
      const lora = l as { name?: string; weight?: number };
      return `${lora.name}: ${lora.weight}`;
    }).join(', ') || null],
  ];
  const line = settings.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}: ${v}`).join(', ');
  const negative = image.negative_prompt ? `\nNegative prompt: ${image.negative_prompt}` : '';
  return `${image.prompt}${negative}\n${line}`;
}

/** Append a phrase to a comma-separated prompt, unless it is already there. */
export function appendPhrase(prompt: string, phrase: string): string {
  const trimmed = prompt.trim().replace(/,\s*$/, '');
  if (!trimmed) return phrase;
  if (trimmed.toLowerCase().includes(phrase.toLowerCase())) return trimmed;
  return `${trimmed}, ${phrase}`;
}
