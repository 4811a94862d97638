// The generation form: prompt with suggestions, model and LoRA weight, sampling settings, seed and size.
// Validates against the UI's ranges before sending; a 422 from the server is shown next to its field.
import { useId, useState } from 'react';
import { ApiError, toApiError } from '../../api/http';
import type { GenerateCreate, HelperModelPublic, ModelPublic } from '../../api/types';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field, describedBy } from '../../components/Field';
import {
  API_FIELD_TO_FORM, MAX_PROMPT_LENGTH, toRequest, type NativeSize, validateForm, type FormErrors, type FormField, type GenerateForm as FormState,
} from '../../lib/form';
import { ModelSection, SamplingSection, SeedSizeSection, type SectionProps } from './FormSections';
import { PromptIdeas } from './PromptIdeas';

export interface GenerateFormProps {
  value: FormState;
  onChange: (next: FormState) => void;
  models: ModelPublic[];
  baseModel: string | null;
  /** The base's native size, to flag sizes far from it. */
  nativeSize?: NativeSize | null;
  samplers: string[];
  /** The hires fix's upscalers (GET /api/upscalers); the built-in Lanczos is offered without it. */
  upscalers?: HelperModelPublic[];
  /** Captions of the selected run's training data, offered as whole prompts. */
  captions?: string[];
  onSubmit: (body: GenerateCreate) => Promise<void>;
  onEnterKey?: () => void;
}

const FIELD_ORDER: FormField[] = ['prompt', 'negativePrompt', 'model', 'loraWeight', 'numImages', 'steps', 'guidance',
  'clipSkip', 'seed', 'sampler', 'width', 'height', 'hiresUpscaler', 'hiresStrength'];

export function GenerateForm({ value, onChange, models, baseModel, nativeSize = null, samplers, upscalers = [],
  captions = [], onSubmit, onEnterKey }: GenerateFormProps) {
  const uid = useId().replace(/:/g, '');
  const id = (name: string) => `gen-${uid}-${name}`;
  const [errors, setErrors] = useState<FormErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);

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

  const count = Number(value.numImages) || 1;
  const section: SectionProps = { value, errors, id, set, onChange };

  return (
    <form className="gen-form" onSubmit={submit} noValidate aria-label="Generation settings">
      <Field id={id('prompt')} label="Prompt" error={errors.prompt}
        hint="Describe the product photo: color, material, style, view and background.">
        <textarea id={id('prompt')} name="prompt" rows={4} value={value.prompt} maxLength={MAX_PROMPT_LENGTH}
          placeholder="A professional product photo of brown suede loafers, side view, centered on white background"
          aria-invalid={errors.prompt ? true : undefined}
          aria-describedby={describedBy(id('prompt'), errors.prompt, 'hint')}
          onChange={(e) => set('prompt', e.target.value)} />
      </Field>

      <PromptIdeas prompt={value.prompt} captions={captions} onPrompt={(prompt) => set('prompt', prompt)} />

      <Field id={id('negativePrompt')} label="Negative prompt" error={errors.negativePrompt}>
        <textarea id={id('negativePrompt')} name="negative_prompt" rows={2} value={value.negativePrompt}
          aria-invalid={errors.negativePrompt ? true : undefined}
          aria-describedby={describedBy(id('negativePrompt'), errors.negativePrompt)}
          onChange={(e) => set('negativePrompt', e.target.value)} />
      </Field>

      <ModelSection {...section} models={models} baseModel={baseModel} />
      <SamplingSection {...section} samplers={samplers} />
      <SeedSizeSection {...section} nativeSize={nativeSize} upscalers={upscalers} />

      <ErrorNotice error={serverError} onEnterKey={onEnterKey} onDismiss={() => setServerError(null)} />
      <div className="form-submit">
        <button type="submit" className="btn btn-primary btn-large" disabled={submitting}>
          {submitting ? 'Submitting…' : `Generate ${count} image${count === 1 ? '' : 's'}`}
        </button>
      </div>
    </form>
  );
}
