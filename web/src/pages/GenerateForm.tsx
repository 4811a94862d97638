// The generation form: prompt with suggestions, model and LoRA weight, sampling settings, seed and size.
// Validates against the UI's ranges before sending; a 422 from the server is shown next to its field.
import { useId, useRef, useState } from 'react';
import { ApiError, toApiError } from '../api/http';
import type { GenerateCreate, ModelPublic } from '../api/types';
import { ErrorNotice } from '../components/ErrorNotice';
import { Field, RangeField, describedBy } from '../components/Field';
import {
  API_FIELD_TO_FORM, LIMITS, MAX_SEED, SIZES, appendPhrase, randomSeed, toRequest, validateForm,
  type FormErrors, type FormField, type GenerateForm as FormState,
} from '../lib/form';
import { PRESET_GROUPS, PROMPT_TEMPLATE } from '../lib/presets';
import { DiceIcon } from '../components/Icons';
import { modelLabel } from '../state/studio';

export interface GenerateFormProps {
  value: FormState;
  onChange: (next: FormState) => void;
  models: ModelPublic[];
  baseModel: string | null;
  samplers: string[];
  /** Captions of the selected run's training data, offered as whole prompts. */
  captions?: string[];
  onSubmit: (body: GenerateCreate) => Promise<void>;
  onEnterKey?: () => void;
  busy?: boolean;
}

const FIELD_ORDER: FormField[] = ['prompt', 'negativePrompt', 'model', 'loraWeight', 'numImages', 'steps', 'guidance',
  'seed', 'sampler', 'width', 'height'];

function sizeOptions(current: string): number[] {
  const value = Number(current);
  return Number.isInteger(value) && value > 0 && !SIZES.includes(value) ? [...SIZES, value].sort((a, b) => a - b)
    : SIZES;
}

export function GenerateForm({ value, onChange, models, baseModel, samplers, captions = [], onSubmit, onEnterKey,
  busy }: GenerateFormProps) {
  const uid = useId().replace(/:/g, '');
  const id = (name: string) => `gen-${uid}-${name}`;
  const [errors, setErrors] = useState<FormErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [showAllCaptions, setShowAllCaptions] = useState(false);
  // Suggestions start open where there is room for them, folded on phones.
  const [ideasOpen, setIdeasOpen] = useState(() => globalThis.matchMedia?.('(max-width: 640px)').matches !== true);
  const formRef = useRef<HTMLFormElement>(null);

  const set = <K extends FormField>(field: K, fieldValue: FormState[K]) => {
    onChange({ ...value, [field]: fieldValue });
    if (errors[field]) setErrors({ ...errors, [field]: undefined });
  };

  const focusFirstError = (found: FormErrors) => {
    const first = FIELD_ORDER.find((f) => found[f]);
    if (first) requestAnimationFrame(() => document.getElementById(id(first))?.focus());
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const found = validateForm(value);
    setErrors(found);
    setServerError(null);
    if (Object.values(found).some(Boolean)) {
      focusFirstError(found);
      return;
    }
    setSubmitting(true);
    try {
      await onSubmit(toRequest(value));
    } catch (error) {
      const apiError = toApiError(error);
      setServerError(apiError);
      const fromServer: FormErrors = {};
      for (const fieldError of apiError.fieldErrors) {
        const field = API_FIELD_TO_FORM[fieldError.field.split('.')[0]];
        if (field && !fromServer[field]) fromServer[field] = fieldError.message;
      }
      if (apiError.kind === 'not_found' && value.model) fromServer.model = apiError.message;
      setErrors(fromServer);
      focusFirstError(fromServer);
    } finally {
      setSubmitting(false);
    }
  };

  const adapters = models.filter((m) => m.type !== 'base');
  const modelKnown = !value.model || adapters.some((m) => m.name === value.model);
  const count = Number(value.numImages) || 1;
  const shownCaptions = showAllCaptions ? captions : captions.slice(0, 4);

  return (
    <form ref={formRef} className="gen-form" onSubmit={submit} noValidate aria-label="Generation settings">
      <Field id={id('prompt')} label="Prompt" error={errors.prompt}
        hint="Describe the product photo: color, material, style, view and background.">
        <textarea id={id('prompt')} name="prompt" rows={4} value={value.prompt} maxLength={4000}
          placeholder="A professional product photo of brown suede loafers, side view, centered on white background"
          aria-invalid={errors.prompt ? true : undefined}
          aria-describedby={describedBy(id('prompt'), errors.prompt, 'hint')}
          onChange={(e) => set('prompt', e.target.value)} />
      </Field>

      <details className="suggestions" open={ideasOpen}
        onToggle={(e) => setIdeasOpen((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>Prompt ideas</summary>
        <div className="chip-groups">
          <div className="chip-group">
            <span className="chip-label">Start</span>
            <div className="chip-list">
              <button type="button" className="chip" onClick={() => set('prompt', PROMPT_TEMPLATE)}
                aria-label="Use the catalogue caption template as the prompt">Catalogue template</button>
            </div>
          </div>
          {PRESET_GROUPS.map((group) => (
            <div className="chip-group" key={group.label} role="group" aria-label={`${group.label} suggestions`}>
              <span className="chip-label">{group.label}</span>
              <div className="chip-list">
                {group.phrases.map((phrase) => (
                  <button type="button" key={phrase} className="chip" aria-label={`Add “${phrase}” to the prompt`}
                    onClick={() => set('prompt', appendPhrase(value.prompt, phrase))}>{phrase}</button>
                ))}
              </div>
            </div>
          ))}
          {captions.length > 0 && (
            <div className="chip-group captions" role="group" aria-label="Captions from the training data">
              <span className="chip-label">From the training data</span>
              <div className="chip-list">
                {shownCaptions.map((caption) => (
                  <button type="button" key={caption} className="chip chip-caption" title={caption}
                    aria-label={`Use training caption: ${caption}`} onClick={() => set('prompt', caption)}>
                    {caption}
                  </button>
                ))}
                {captions.length > 4 && (
                  <button type="button" className="chip chip-more" onClick={() => setShowAllCaptions(!showAllCaptions)}>
                    {showAllCaptions ? 'Show fewer' : `Show ${captions.length - 4} more`}
                  </button>
                )}
              </div>
            </div>
          )}
        </div>
      </details>

      <Field id={id('negativePrompt')} label="Negative prompt" error={errors.negativePrompt}>
        <textarea id={id('negativePrompt')} name="negative_prompt" rows={2} value={value.negativePrompt}
          aria-invalid={errors.negativePrompt ? true : undefined}
          aria-describedby={describedBy(id('negativePrompt'), errors.negativePrompt)}
          onChange={(e) => set('negativePrompt', e.target.value)} />
      </Field>

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
        <Field id={id('sampler')} label="Sampler" error={errors.sampler}>
          <select id={id('sampler')} name="sampler" value={value.sampler}
            aria-invalid={errors.sampler ? true : undefined} aria-describedby={describedBy(id('sampler'), errors.sampler)}
            onChange={(e) => set('sampler', e.target.value)}>
            {[...new Set([...samplers, value.sampler])].map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </Field>
      </fieldset>

      <fieldset className="form-section">
        <legend>Seed and size</legend>
        <div className="field">
          <span className="label-like" id={id('seed-mode-label')}>Seed</span>
          <div className="seed-row" role="radiogroup" aria-labelledby={id('seed-mode-label')}>
            <label className="radio">
              <input type="radio" name={id('seed-mode')} value="random" checked={value.seedMode === 'random'}
                onChange={() => set('seedMode', 'random')} /> Random
            </label>
            <label className="radio">
              <input type="radio" name={id('seed-mode')} value="fixed" checked={value.seedMode === 'fixed'}
                onChange={() => onChange({ ...value, seedMode: 'fixed', seed: value.seed || String(randomSeed()) })} />
              Fixed
            </label>
            <label htmlFor={id('seed')} className="visually-hidden">Seed value</label>
            <input id={id('seed')} name="seed" type="number" min={0} max={MAX_SEED} step={1} inputMode="numeric"
              className="seed-input" value={value.seedMode === 'fixed' ? value.seed : ''}
              placeholder={value.seedMode === 'random' ? 'random' : ''} disabled={value.seedMode === 'random'}
              aria-invalid={errors.seed ? true : undefined} aria-describedby={describedBy(id('seed'), errors.seed)}
              onChange={(e) => set('seed', e.target.value)} />
            <button type="button" className="btn btn-small" aria-label="New random seed"
              onClick={() => onChange({ ...value, seedMode: 'fixed', seed: String(randomSeed()) })}>
              <DiceIcon /> New seed</button>
          </div>
          {errors.seed && <p id={`${id('seed')}-error`} className="field-error">{errors.seed}</p>}
        </div>
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
      </fieldset>

      <ErrorNotice error={serverError} onEnterKey={onEnterKey} onDismiss={() => setServerError(null)} />
      <div className="form-submit">
        <button type="submit" className="btn btn-primary btn-large" disabled={submitting || busy}>
          {submitting ? 'Submitting…' : `Generate ${count} image${count === 1 ? '' : 's'}`}
        </button>
      </div>
    </form>
  );
}
