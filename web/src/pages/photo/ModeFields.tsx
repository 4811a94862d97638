// What to do with the photo: the mode, and each mode's own settings in plain words.
import { Field, RangeField } from '../../components/Field';
import {
  FORMATS, LIMITS_PHOTO, MASKED_CONTENT_TEXT, MODE_TEXT, PHOTO_MODES, resultSizeText, type MaskedContent, type PhotoErrors,
  type PhotoSettings,
} from './photo';

export interface PhotoFieldsProps {
  value: PhotoSettings;
  errors: PhotoErrors;
  id: (name: string) => string;
  set: <K extends keyof PhotoSettings>(field: K, fieldValue: PhotoSettings[K]) => void;
}

function Choice<T extends string>({ name, label, options, value, onChange, testId }: {
  name: string; label: string; options: { value: T; label: string }[]; value: T; onChange: (value: T) => void;
  testId?: string;
}) {
  return (
    <div className="field">
      <span className="label-like" id={`${name}-label`}>{label}</span>
      <div className="choice-row" role="radiogroup" aria-labelledby={`${name}-label`} data-testid={testId}>
        {options.map((option) => (
          <label key={option.value} className={`radio chip-radio ${value === option.value ? 'on' : ''}`}>
            <input type="radio" name={name} value={option.value} checked={value === option.value}
              onChange={() => onChange(option.value)} /> {option.label}
          </label>
        ))}
      </div>
    </div>
  );
}

export function ModeFields({ value, errors, id, set, photoSize, native }: PhotoFieldsProps & {
  photoSize: { width: number; height: number } | null;
  native: { width: number; height: number } | null;
}) {
  const { mode } = value;
  return (
    <fieldset className="form-section">
      <legend>What to do</legend>
      <Choice name={id('mode')} label="Mode" value={mode} onChange={(next) => set('mode', next)} testId="photo-mode"
        options={PHOTO_MODES.map((m) => ({ value: m, label: MODE_TEXT[m].label }))} />
      <p className="field-hint">{MODE_TEXT[mode].hint}</p>
      {mode === 'outpaint' && (
        <>
          <Choice name={id('format')} label="Format" value={value.format} onChange={(next) => set('format', next)}
            options={FORMATS.map((f) => ({ value: f, label: f }))} />
          <Choice name={id('placement')} label="Where the product goes" value={value.placement}
            onChange={(next) => set('placement', next)}
            options={[{ value: 'keep', label: 'Keep as photographed' }, { value: 'center', label: 'Centre the product' }]} />
          <Choice name={id('fill')} label="New area" value={value.fill} onChange={(next) => set('fill', next)}
            options={[{ value: 'white', label: 'Plain background (catalogue)' }, { value: 'scene', label: 'A scene from the description' }]} />
        </>
      )}
      {mode === 'inpaint' && (
        <>
          <Choice name={id('where')} label="Repaint" value={value.repaintOutside ? 'outside' : 'inside'}
            onChange={(next) => set('repaintOutside', next === 'outside')}
            options={[{ value: 'inside', label: 'The marked area' }, { value: 'outside', label: 'Everything else' }]} />
          <Field id={id('maskedContent')} label="Start the repainted area from">
            <select id={id('maskedContent')} value={value.maskedContent}
              onChange={(e) => set('maskedContent', e.target.value as MaskedContent)}>
              {Object.entries(MASKED_CONTENT_TEXT).map(([key, label]) => <option key={key} value={key}>{label}</option>)}
            </select>
          </Field>
          <RangeField id={id('strength')} label="Amount of change" value={value.strength} min={LIMITS_PHOTO.strength.min}
            max={LIMITS_PHOTO.strength.max} step={0.05} error={errors.strength} onChange={(v) => set('strength', v)}
            hint="Low keeps the look of the photo; 1 paints the area anew." />
        </>
      )}
      {mode !== 'outpaint' && (
        <RangeField id={id('maskBlur')} label="Edge softness" value={value.maskBlur} min={LIMITS_PHOTO.maskBlur.min}
          max={LIMITS_PHOTO.maskBlur.max} step={1} error={errors.maskBlur} onChange={(v) => set('maskBlur', v)}
          hint="Pixels over which the new part fades into the photo." />
      )}
      {photoSize && native && (
        <p className="small" data-testid="result-size">Result: {resultSizeText(value, photoSize, native)}</p>
      )}
    </fieldset>
  );
}
