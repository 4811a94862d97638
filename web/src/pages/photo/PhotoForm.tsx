// The settings and the Generate button: checks them, builds the job request from the photo, the edited mask
// and the settings, and shows the server's refusal beside the field it names.
import { useId, useState } from 'react';
import { ApiError, toApiError } from '../../api/http';
import type { GenerateCreate, HelperModelPublic, ModelPublic } from '../../api/types';
import { ErrorNotice } from '../../components/ErrorNotice';
import { describedBy, Field } from '../../components/Field';
import { MAX_PROMPT_LENGTH, type NativeSize } from '../../lib/form';
import { maskToPng } from './decode';
import type { LoadedPhoto } from './decode';
import { AdvancedFields, ExtraFields } from './ExtraFields';
import { ModeFields, type PhotoFieldsProps } from './ModeFields';
import { needsPrompt, toPhotoRequest, validatePhoto, type PhotoErrors, type PhotoField, type PhotoSettings } from './photo';
import type { MaskEditor } from './useMaskEditor';

const API_FIELD: Record<string, PhotoField> = {
  prompt: 'prompt', num_inference_steps: 'steps', seed: 'seed', mask_blur: 'maskBlur', strength: 'strength',
  controlnets: 'outlineModel', init_image: 'photo', mask_image: 'mask', loras: 'loraWeight',
  hires_upscaler: 'hiresUpscaler', hires_strength: 'hiresStrength',
};

export function PhotoForm({ value, set, photo, editor, models, baseModel, nativeSize, helpers, onSubmit, onEnterKey }: {
  value: PhotoSettings;
  set: PhotoFieldsProps['set'];
  photo: LoadedPhoto | null;
  editor: MaskEditor;
  models: ModelPublic[];
  baseModel: string | null;
  nativeSize: NativeSize | null;
  /** GET /api/controlnets and GET /api/upscalers. */
  helpers: { controlnets: HelperModelPublic[]; upscalers: HelperModelPublic[] };
  onSubmit: (body: GenerateCreate) => Promise<void>;
  onEnterKey: () => void;
}) {
  const uid = useId().replace(/:/g, '');
  const id = (name: string) => `photo-${uid}-${name}`;
  const [errors, setErrors] = useState<PhotoErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const setField: PhotoFieldsProps['set'] = (field, fieldValue) => {
    set(field, fieldValue);
    if (field in errors) setErrors((current) => ({ ...current, [field]: undefined }));
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setServerError(null);
    const found = validatePhoto(value, photo !== null, editor.share);
    setErrors(found);
    if (!photo || Object.values(found).some(Boolean)) return;
    const mask = editor.current();
    setSubmitting(true);
    try {
      await onSubmit(toPhotoRequest(value, photo.dataUrl, mask ? maskToPng(mask) : null));
    } catch (error) {
      const apiError = toApiError(error);
      setServerError(apiError);
      const fromServer: PhotoErrors = {};
      for (const fieldError of apiError.fieldErrors) {
        const field = API_FIELD[fieldError.field.split('.')[0]];
        if (field && !fromServer[field]) fromServer[field] = fieldError.message;
      }
      setErrors(fromServer);
    } finally {
      setSubmitting(false);
    }
  };

  const fields: PhotoFieldsProps = { value, errors, id, set: setField };
  const promptLabel = value.mode === 'inpaint' ? 'What should be there' : 'Describe the new scene';
  return (
    <form className="gen-form photo-form" onSubmit={submit} noValidate aria-label="Product photo settings">
      {(errors.photo || errors.mask) && <p className="field-error" role="alert">{errors.photo ?? errors.mask}</p>}
      <ModeFields {...fields} photoSize={photo} native={nativeSize} />
      <Field id={id('prompt')} label={promptLabel} error={errors.prompt}
        hint={needsPrompt(value) ? 'Plain words work: the place, the surface, the light.' : 'Not needed for a plain background.'}>
        <textarea id={id('prompt')} rows={3} value={value.prompt} maxLength={MAX_PROMPT_LENGTH}
          placeholder={value.mode === 'inpaint' ? 'red laces' : 'on a wooden table, morning light'}
          aria-invalid={errors.prompt ? true : undefined} aria-describedby={describedBy(id('prompt'), errors.prompt, 'hint')}
          onChange={(e) => setField('prompt', e.target.value)} />
      </Field>
      <ExtraFields {...fields} baseModel={baseModel} {...helpers} />
      <AdvancedFields {...fields} models={models} baseModel={baseModel} />
      <ErrorNotice error={serverError} onEnterKey={onEnterKey} onDismiss={() => setServerError(null)} />
      <div className="form-submit">
        <button type="submit" className="btn btn-primary btn-large" disabled={submitting}>
          {submitting ? 'Submitting…' : 'Generate'}
        </button>
      </div>
    </form>
  );
}
