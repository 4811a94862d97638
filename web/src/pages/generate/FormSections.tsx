// The generate form's fieldsets below the prompts: model and LoRA weight, sampling, seed and size, high resolution.
import { describedBy, Field, RangeField } from '../../components/Field';
import { DiceIcon } from '../../components/Icons';
import type { HelperModelPublic, ModelPublic } from '../../api/types';
import {
  HIRES_SCALE, LIMITS, MAX_SEED, outputSize, randomSeed, sizeWarning, SIZES, type FormErrors, type FormField,
  type GenerateForm, type HiresSettings, type NativeSize,
} from '../../lib/form';
import { modelLabel } from '../../lib/models';

export interface SectionProps {
  value: GenerateForm;
  errors: FormErrors;
  /** The DOM id of a field of this form. */
  id: (name: string) => string;
  set: <K extends FormField>(field: K, fieldValue: GenerateForm[K]) => void;
  onChange: (next: GenerateForm) => void;
}

function sizeOptions(current: string): number[] {
  const value = Number(current);
  return Number.isInteger(value) && value > 0 && !SIZES.includes(value) ? [...SIZES, value].sort((a, b) => a - b)
    : SIZES;
}

type ModelFields = Pick<GenerateForm, 'model' | 'loraWeight'>;
type SeedFields = Pick<GenerateForm, 'seedMode' | 'seed'>;

/** The model picker and its LoRA weight; the product-photo page uses it too, with a form of its own. */
export function ModelSection({ value, errors, id, set, models, baseModel }: {
  value: ModelFields;
  errors: Partial<Record<keyof ModelFields, string>>;
  id: (name: string) => string;
  set: (field: keyof ModelFields, fieldValue: string) => void;
  models: ModelPublic[];
  baseModel: string | null;
}) {
  const adapters = models.filter((m) => m.type !== 'base');
  const modelKnown = !value.model || adapters.some((m) => m.name === value.model);
  return (
    <fieldset className="form-section">
      <legend>Model</legend>
      <div className="grid-2">
        <Field id={id('model')} label="Model / checkpoint" error={errors.model}>
          <select id={id('model')} name="model" value={value.model}
            aria-invalid={errors.model ? true : undefined} aria-describedby={describedBy(id('model'), errors.model)}
            onChange={(e) => set('model', e.target.value)}>
            <option value="">{modelLabel(baseModel ?? 'base', baseModel)}</option>
            {adapters.map((m) => <option key={m.name} value={m.name}>{modelLabel(m, baseModel)}</option>)}
            {!modelKnown && <option value={value.model}>{value.model} (not on this server)</option>}
          </select>
        </Field>
        {value.model ? (
          <RangeField id={id('loraWeight')} label="LoRA weight" value={value.loraWeight} min={0} max={2} step={0.05}
            error={errors.loraWeight} onChange={(v) => set('loraWeight', v)} />
        ) : (
          <div className="field muted-field"><span className="label-like">LoRA weight</span>
            <p className="field-hint">Pick a fine-tuned model to set its strength.</p></div>
        )}
      </div>
    </fieldset>
  );
}

export function SamplingSection({ value, errors, id, set, samplers }: SectionProps & { samplers: string[] }) {
  return (
    <fieldset className="form-section">
      <legend>Sampling</legend>
      <RangeField id={id('numImages')} label="Number of images" value={value.numImages} min={LIMITS.numImages.min}
        max={LIMITS.numImages.max} step={1} error={errors.numImages} onChange={(v) => set('numImages', v)} />
      <RangeField id={id('steps')} label="Steps" value={value.steps} min={LIMITS.steps.min} max={LIMITS.steps.max}
        step={1} error={errors.steps} onChange={(v) => set('steps', v)}
        hint="More steps: finer detail, slower." />
      <RangeField id={id('guidance')} label="Guidance (CFG scale)" value={value.guidance} min={LIMITS.guidance.min}
        max={LIMITS.guidance.max} step={0.5} error={errors.guidance} onChange={(v) => set('guidance', v)}
        hint="How closely the image follows the prompt." />
      <RangeField id={id('clipSkip')} label="Clip skip" value={value.clipSkip} min={LIMITS.clipSkip.min}
        max={LIMITS.clipSkip.max} step={1} error={errors.clipSkip} onChange={(v) => set('clipSkip', v)}
        hint="1 for most models; 2 if your LoRA was trained with Clip skip 2." />
      <Field id={id('sampler')} label="Sampler" error={errors.sampler}>
        <select id={id('sampler')} name="sampler" value={value.sampler}
          aria-invalid={errors.sampler ? true : undefined} aria-describedby={describedBy(id('sampler'), errors.sampler)}
          onChange={(e) => set('sampler', e.target.value)}>
          {[...new Set([...samplers, value.sampler])].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </Field>
    </fieldset>
  );
}

/** Random or fixed seed, with a dice for a fresh one; the product-photo page uses it too. */
export function SeedField({ value, error, id, onChange }: {
  value: SeedFields;
  error?: string;
  id: (name: string) => string;
  onChange: (next: SeedFields) => void;
}) {
  const errors = { seed: error };
  const set = (field: keyof SeedFields, fieldValue: string) => onChange({ ...value, [field]: fieldValue });
  return (
    <div className="field">
      <span className="label-like" id={id('seed-mode-label')}>Seed</span>
      <div className="seed-row" role="radiogroup" aria-labelledby={id('seed-mode-label')}>
        <label className="radio">
          <input type="radio" name={id('seed-mode')} value="random" checked={value.seedMode === 'random'}
            onChange={() => set('seedMode', 'random')} /> Random
        </label>
        <label className="radio">
          <input type="radio" name={id('seed-mode')} value="fixed" checked={value.seedMode === 'fixed'}
            onChange={() => onChange({ seedMode: 'fixed', seed: value.seed || String(randomSeed()) })} />
          Fixed
        </label>
        <label htmlFor={id('seed')} className="visually-hidden">Seed value</label>
        <input id={id('seed')} name="seed" type="number" min={0} max={MAX_SEED} step={1} inputMode="numeric"
          className="seed-input" value={value.seedMode === 'fixed' ? value.seed : ''}
          placeholder={value.seedMode === 'random' ? 'random' : ''} disabled={value.seedMode === 'random'}
          aria-invalid={errors.seed ? true : undefined} aria-describedby={describedBy(id('seed'), errors.seed)}
          onChange={(e) => set('seed', e.target.value)} />
        <button type="button" className="btn btn-small" aria-label="New random seed"
          onClick={() => onChange({ seedMode: 'fixed', seed: String(randomSeed()) })}>
          <DiceIcon /> New seed</button>
      </div>
      {errors.seed && <p id={`${id('seed')}-error`} className="field-error">{errors.seed}</p>}
    </div>
  );
}

export function SeedSizeSection({ value, errors, id, set, onChange, nativeSize, upscalers }: SectionProps & {
  nativeSize: NativeSize | null;
  upscalers: HelperModelPublic[];
}) {
  const warning = sizeWarning(value, nativeSize);
  const width = Number(value.width);
  const height = Number(value.height);
  return (
    <fieldset className="form-section">
      <legend>Seed and size</legend>
      <SeedField value={value} error={errors.seed} id={id}
        onChange={(seed) => (seed.seedMode === value.seedMode ? set('seed', seed.seed) : onChange({ ...value, ...seed }))} />
      <div className="grid-2">
        {(['width', 'height'] as const).map((field) => (
          <Field key={field} id={id(field)} label={field === 'width' ? 'Width' : 'Height'} error={errors[field]}>
            <select id={id(field)} name={field} value={value[field]}
              aria-invalid={errors[field] ? true : undefined} aria-describedby={describedBy(id(field), errors[field])}
              onChange={(e) => set(field, e.target.value)}>
              {sizeOptions(value[field]).map((size) => <option key={size} value={String(size)}>{size} px</option>)}
            </select>
          </Field>
        ))}
      </div>
      {warning && <p className="field-hint size-warning" role="status" data-testid="size-warning">{warning}</p>}
      <HiresFields value={value} errors={errors} id={id} upscalers={upscalers}
        set={(field, fieldValue) => set(field, fieldValue as GenerateForm[typeof field])}
        resultSize={width && height ? outputSizeText(width, height, true) : undefined} />
    </fieldset>
  );
}

/** The hires fix: a checkbox, then the upscaler (the server's list) and how much the upscaled image is refined;
 * the product-photo page uses it too. `unavailable` explains why it cannot be switched on. */
export function HiresFields({ value, errors, id, set, upscalers, resultSize, unavailable = null }: {
  value: HiresSettings;
  /** GET /api/upscalers. */
  upscalers: HelperModelPublic[];
  errors: Partial<Record<keyof HiresSettings, string>>;
  id: (name: string) => string;
  set: <K extends keyof HiresSettings>(field: K, fieldValue: HiresSettings[K]) => void;
  /** The size the images will have, e.g. "1024 × 1024 px". */
  resultSize?: string;
  unavailable?: string | null;
}) {
  const names = upscalers.map((upscaler) => upscaler.name);
  const on = value.hires && !unavailable;
  return (
    <div className="hires-fields">
      <label className="radio">
        <input type="checkbox" checked={on} disabled={unavailable !== null}
          aria-describedby={unavailable ? id('hires-note') : id('hires-hint')}
          onChange={(e) => set('hires', e.target.checked)} /> High resolution {HIRES_SCALE}x
      </label>
      {unavailable ? <p id={id('hires-note')} className="field-hint">{unavailable}</p> : (
        <p id={id('hires-hint')} className="field-hint">
          Draws at the model&apos;s size, then upscales and refines the picture
          {resultSize ? ` to ${resultSize}` : ''}: sharper large images, about {HIRES_SCALE * 2}x the time.
        </p>
      )}
      {on && (
        <div className="sub-fields grid-2">
          <Field id={id('hiresUpscaler')} label="Upscaler" error={errors.hiresUpscaler}
            hint="Lanczos is built in; ESRGAN-family model files in the server's models/upscalers folder appear here.">
            <select id={id('hiresUpscaler')} value={value.hiresUpscaler}
              aria-invalid={errors.hiresUpscaler ? true : undefined}
              aria-describedby={describedBy(id('hiresUpscaler'), errors.hiresUpscaler, 'hint')}
              onChange={(e) => set('hiresUpscaler', e.target.value)}>
              {!names.includes('lanczos') && <option value="lanczos">Lanczos (built in)</option>}
              {upscalers.map((upscaler) => (
                <option key={upscaler.name} value={upscaler.name}>
                  {upscaler.source === 'built-in' ? 'Lanczos (built in)' : upscaler.name}
                </option>
              ))}
              {value.hiresUpscaler && value.hiresUpscaler !== 'lanczos' && !names.includes(value.hiresUpscaler) && (
                <option value={value.hiresUpscaler}>{value.hiresUpscaler} (not on this server)</option>
              )}
            </select>
          </Field>
          <RangeField id={id('hiresStrength')} label="Refinement" value={value.hiresStrength}
            min={0.05} max={LIMITS.hiresStrength.max} step={0.05} error={errors.hiresStrength}
            onChange={(v) => set('hiresStrength', v)}
            hint="Low keeps the first picture; high adds detail and may change it." />
        </div>
      )}
    </div>
  );
}

/** The text of a form's output size, e.g. "1024 × 1024 px" (twice the size with the hires fix). */
export function outputSizeText(width: number, height: number, hires: boolean): string {
  const size = outputSize(width, height, hires);
  return `${size.width} × ${size.height} px`;
}
