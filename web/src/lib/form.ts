// The generate form: its state (strings, as typed), validation against the UI's ranges, the request body
// it becomes, and the way back from a stored image ("use these settings").
import type { GalleryImagePublic, GenerateCreate } from '../api/types';

export const MAX_SEED = 2 ** 32 - 1;
export const LIMITS = {
  numImages: { min: 1, max: 10 },
  steps: { min: 25, max: 100 },
  guidance: { min: 5, max: 15 },
  loraWeight: { min: -4, max: 4 },
};
export const SIZES = [64, 128, 256, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024];

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
  width: string;
  height: string;
}

export type FormField = keyof GenerateForm;
export type FormErrors = Partial<Record<FormField, string>>;

export const DEFAULT_FORM: GenerateForm = {
  prompt: '',
  negativePrompt: 'blurry, low quality, watermark, text, cropped',
  model: '',
  loraWeight: '1',
  numImages: '4',
  steps: '30',
  guidance: '7.5',
  seedMode: 'random',
  seed: '',
  sampler: 'DPM++ 2M Karras',
  width: '512',
  height: '512',
};

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
  width: 'width',
  height: 'height',
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
  else if (form.prompt.length > 4000) errors.prompt = 'The prompt is limited to 4,000 characters.';
  if (form.negativePrompt.length > 4000) errors.negativePrompt = 'The negative prompt is limited to 4,000 characters.';
  check('numImages', numberIn(form.numImages, 'Number of images', LIMITS.numImages.min, LIMITS.numImages.max, true));
  check('steps', numberIn(form.steps, 'Steps', LIMITS.steps.min, LIMITS.steps.max, true));
  check('guidance', numberIn(form.guidance, 'Guidance', LIMITS.guidance.min, LIMITS.guidance.max, false));
  if (form.model) {
    check('loraWeight', numberIn(form.loraWeight, 'LoRA weight', LIMITS.loraWeight.min, LIMITS.loraWeight.max,
      false));
  }
  if (form.seedMode === 'fixed') check('seed', numberIn(form.seed, 'Seed', 0, MAX_SEED, true));
  for (const field of ['width', 'height'] as const) {
    const label = field === 'width' ? 'Width' : 'Height';
    const message = numberIn(form[field], label, 64, 2048, true);
    check(field, message ?? (Number(form[field]) % 8 ? `${label} must be a multiple of 8.` : null));
  }
  if (!form.sampler) errors.sampler = 'Pick a sampler.';
  return errors;
}

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
    width: Number(form.width),
    height: Number(form.height),
    strength: 0.75,
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
  const model = image.model && image.model !== baseModel ? image.model : '';
  const weight = image.loras.find((lora) => (lora as { name?: string }).name === model) as
    { weight?: number } | undefined;
  const steps = clamp(image.steps, LIMITS.steps.min, LIMITS.steps.max);
  if (steps !== image.steps) notes.push(`Steps set to ${steps} (the image used ${image.steps}; this form allows ` +
    `${LIMITS.steps.min}–${LIMITS.steps.max}).`);
  const guidance = clamp(image.guidance_scale, LIMITS.guidance.min, LIMITS.guidance.max);
  if (guidance !== image.guidance_scale) notes.push(`Guidance set to ${guidance} (the image used ` +
    `${image.guidance_scale}).`);
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
      width: String(image.width),
      height: String(image.height),
    },
    notes,
  };
}

/** AUTOMATIC1111's "infotext", the format other Stable Diffusion tools paste. */
export function parametersText(image: GalleryImagePublic): string {
  const settings: [string, string | number | null][] = [
    ['Steps', image.steps],
    ['Sampler', image.sampler],
    ['CFG scale', image.guidance_scale],
    ['Seed', image.seed],
    ['Size', `${image.width}x${image.height}`],
    ['Model', image.model],
    ['Denoising strength', image.strength ?? null],
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
