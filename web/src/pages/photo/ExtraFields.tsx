// Optional extras (follow the product's outline with a ControlNet, high resolution) and the advanced settings:
// the model picker of the Generate page, steps and seed, with the contract's bounds.
import { useState } from 'react';
import { describedBy, Field, RangeField } from '../../components/Field';
import type { HelperModelPublic, ModelPublic } from '../../api/types';
import { LIMITS } from '../../lib/form';
import { HiresFields, ModelSection, SeedField } from '../generate/FormSections';
import { defaultOutlineModel, hiresUnavailable, LIMITS_PHOTO } from './photo';
import type { PhotoFieldsProps } from './ModeFields';
import type { PhotoSettings } from './photo';

const ANOTHER = '__another__';
const SOURCE_TEXT: Record<HelperModelPublic['source'] | 'hub', string> = {
  'built-in': 'built-in test model, random weights',
  folder: 'models/controlnets',
  'hub cache': 'downloaded',
  file: 'file',
  hub: 'fetched from the hub on first use',
};

/** The ControlNet: the server's list (and the usual Canny one), or any hub id typed in. */
function OutlineModelField({ value, error, id, onChange, baseModel, available }: {
  value: string;
  available: HelperModelPublic[];
  error?: string;
  id: string;
  onChange: (model: string) => void;
  baseModel: string | null;
}) {
  const suggested = defaultOutlineModel(baseModel);
  const listed: { name: string; source: keyof typeof SOURCE_TEXT }[] = available.some((c) => c.name === suggested)
    ? available : [{ name: suggested, source: 'hub' }, ...available];
  const [another, setAnother] = useState(false);
  const typed = another || (value !== '' && !listed.some((c) => c.name === value));
  return (
    <Field id={id} label="Outline model (ControlNet)" error={error}
      hint="An SD 1.5 ControlNet that follows edges. The list shows those the server has; pick “Another hub model” to name one by its hub id.">
      <select id={id} value={typed ? ANOTHER : value} aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, error, 'hint')}
        onChange={(e) => {
          const chosen = e.target.value;
          setAnother(chosen === ANOTHER);
          onChange(chosen === ANOTHER ? '' : chosen);
        }}>
        {listed.map((c) => <option key={c.name} value={c.name}>{c.name} ({SOURCE_TEXT[c.source]})</option>)}
        <option value={ANOTHER}>Another hub model…</option>
      </select>
      {typed && (
        <input id={`${id}-hub-id`} type="text" value={value} spellCheck={false} aria-label="ControlNet hub id"
          placeholder="owner/name, e.g. lllyasviel/control_v11p_sd15_canny" aria-invalid={error ? true : undefined}
          onChange={(e) => onChange(e.target.value)} />
      )}
    </Field>
  );
}

export function ExtraFields({ value, errors, id, set, baseModel, controlnets, upscalers }: PhotoFieldsProps & {
  baseModel: string | null;
  /** GET /api/controlnets and GET /api/upscalers. */
  controlnets: HelperModelPublic[];
  upscalers: HelperModelPublic[];
}) {
  return (
    <fieldset className="form-section">
      <legend>Extras</legend>
      <label className="radio">
        <input type="checkbox" checked={value.outline} onChange={(e) => {
          set('outline', e.target.checked);
          if (e.target.checked && !value.outlineModel) set('outlineModel', defaultOutlineModel(baseModel));
        }} /> Follow the outline
      </label>
      {value.outline && (
        <div className="sub-fields">
          <OutlineModelField id={id('outlineModel')} value={value.outlineModel} error={errors.outlineModel}
            baseModel={baseModel} available={controlnets} onChange={(model) => set('outlineModel', model)} />
          <RangeField id={id('outlineScale')} label="Outline strength" value={value.outlineScale}
            min={LIMITS_PHOTO.outlineScale.min} max={LIMITS_PHOTO.outlineScale.max} step={0.05} error={errors.outlineScale}
            onChange={(v) => set('outlineScale', v)} hint="The photo's edges guide the new image; 0 turns it off." />
        </div>
      )}
      <HiresFields value={value} errors={errors} id={id} upscalers={upscalers} unavailable={hiresUnavailable(value)}
        set={(field, fieldValue) => set(field, fieldValue as PhotoSettings[typeof field])} />
    </fieldset>
  );
}

export function AdvancedFields({ value, errors, id, set, models, baseModel }: PhotoFieldsProps & {
  models: ModelPublic[];
  baseModel: string | null;
}) {
  return (
    <details className="suggestions advanced">
      <summary>Advanced settings</summary>
      <div className="advanced-body">
        <ModelSection value={value} errors={errors} id={id} set={set} models={models} baseModel={baseModel} />
        <RangeField id={id('steps')} label="Steps" value={value.steps} min={LIMITS.steps.min} max={LIMITS.steps.max}
          step={1} error={errors.steps} onChange={(v) => set('steps', v)} hint="More steps: finer detail, slower." />
        <SeedField value={value} error={errors.seed} id={id}
          onChange={(seed) => { set('seedMode', seed.seedMode); set('seed', seed.seed); }} />
      </div>
    </details>
  );
}
