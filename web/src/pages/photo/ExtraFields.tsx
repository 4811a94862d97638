// Optional extras (follow the product's outline with a ControlNet, high resolution) and the advanced settings:
// the model picker of the Generate page, steps and seed, with the contract's bounds.
import { describedBy, Field, RangeField } from '../../components/Field';
import type { ModelPublic } from '../../api/types';
import { LIMITS } from '../../lib/form';
import { ModelSection, SeedField } from '../generate/FormSections';
import { defaultOutlineModel, hiresUnavailable, LIMITS_PHOTO } from './photo';
import type { PhotoFieldsProps } from './ModeFields';

export function ExtraFields({ value, errors, id, set, baseModel }: PhotoFieldsProps & { baseModel: string | null }) {
  const hiresNote = hiresUnavailable(value);
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
          <Field id={id('outlineModel')} label="Outline model (ControlNet)" error={errors.outlineModel}
            hint="A ControlNet for SD 1.5, by its hub name (e.g. lllyasviel/control_v11p_sd15_canny) or a folder in the server's models/controlnets; “tiny” tries it on the built-in test model.">
            <input id={id('outlineModel')} type="text" value={value.outlineModel} spellCheck={false}
              aria-invalid={errors.outlineModel ? true : undefined}
              aria-describedby={describedBy(id('outlineModel'), errors.outlineModel, 'hint')}
              onChange={(e) => set('outlineModel', e.target.value)} />
          </Field>
          <RangeField id={id('outlineScale')} label="Outline strength" value={value.outlineScale}
            min={LIMITS_PHOTO.outlineScale.min} max={LIMITS_PHOTO.outlineScale.max} step={0.05} error={errors.outlineScale}
            onChange={(v) => set('outlineScale', v)} hint="The photo's edges guide the new image; 0 turns it off." />
        </div>
      )}
      <label className="radio">
        <input type="checkbox" checked={value.hires && !hiresNote} disabled={hiresNote !== null}
          aria-describedby={hiresNote ? id('hires-note') : undefined}
          onChange={(e) => set('hires', e.target.checked)} /> High resolution 2x
      </label>
      {hiresNote && <p id={id('hires-note')} className="field-hint">{hiresNote}</p>}
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
