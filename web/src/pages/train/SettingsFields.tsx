// The "Advanced settings" of a new run, generated from the server's field list: a heading per group, an input
// per field by its type with the bounds from the metadata, its help beside it, and a way back to the recipe.
import { describedBy } from '../../components/Field';
import type { SettingFieldPublic } from '../../api/types';
import { boundsText, fieldLabel, groupFields, type SettingErrors, type SettingValue,
  type SettingValues } from './settings';

export interface SettingsFieldsProps {
  fields: SettingFieldPublic[];
  values: SettingValues;
  /** The chosen recipe's values: what "Reset" returns to. */
  recipe: SettingValues;
  errors: SettingErrors;
  onChange: (name: string, value: SettingValue) => void;
  onResetAll: () => void;
  /** Open the panel (e.g. when the server refused one of its fields). */
  open?: boolean;
}

function shown(value: SettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return value === '' ? 'not set' : value;
}

function SettingInput({ field, id, value, error, hint, onChange }: {
  field: SettingFieldPublic; id: string; value: SettingValue; error?: string; hint: string;
  onChange: (value: SettingValue) => void;
}) {
  const common = { id, name: field.name, 'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy(id, error, hint) };
  if (field.type === 'boolean') {
    return <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  }
  if (field.type === 'enum' && field.choices) {
    return (
      <select {...common} value={String(value)} onChange={(e) => onChange(e.target.value)}>
        {field.optional && <option value="">not set</option>}
        {field.choices.map((choice) => <option key={choice} value={choice}>{choice}</option>)}
      </select>
    );
  }
  if (field.type === 'integer' || field.type === 'number') {
    return (
      <input type="number" {...common} value={String(value)} inputMode="decimal"
        min={field.minimum ?? field.exclusive_minimum ?? undefined} max={field.maximum ?? field.exclusive_maximum ?? undefined}
        step={field.type === 'integer' ? 1 : 'any'} placeholder={field.optional ? 'not set' : undefined}
        onChange={(e) => onChange(e.target.value)} />
    );
  }
  return (
    <input type="text" {...common} value={String(value)} placeholder={field.optional ? 'not set' : undefined}
      onChange={(e) => onChange(e.target.value)} />
  );
}

function SettingRow({ field, value, recipeValue, error, onChange }: {
  field: SettingFieldPublic; value: SettingValue; recipeValue: SettingValue; error?: string;
  onChange: (value: SettingValue) => void;
}) {
  const id = `setting-${field.name}`;
  const bounds = boundsText(field);
  const hint = [field.help, field.type === 'list' ? 'Separate values with commas.' : null,
    bounds ? `Allowed: ${bounds}.` : null].filter(Boolean).join(' ');
  const changed = value !== recipeValue;
  return (
    <div className={`setting-row field ${error ? 'has-error' : ''} ${changed ? 'changed' : ''}`}
      data-testid={`setting-${field.name}`}>
      <div className="setting-control">
        <label htmlFor={id}>{fieldLabel(field.name)} <span className="mono muted small">{field.name}</span></label>
        <SettingInput field={field} id={id} value={value} error={error} hint={hint} onChange={onChange} />
        {changed && (
          <p className="setting-recipe muted small">recipe: {shown(recipeValue)}
            <button type="button" className="link-btn" aria-label={`Reset ${fieldLabel(field.name)}`}
              onClick={() => onChange(recipeValue)}>Reset</button></p>
        )}
      </div>
      {hint && !error && <p id={`${id}-hint`} className="field-hint setting-help">{hint}</p>}
      {error && <p id={`${id}-error`} className="field-error setting-help">{error}</p>}
    </div>
  );
}

export function SettingsFields({ fields, values, recipe, errors, onChange, onResetAll, open }: SettingsFieldsProps) {
  const changed = fields.filter((f) => values[f.name] !== undefined && values[f.name] !== recipe[f.name]).length;
  return (
    <details className="advanced-settings" open={open || undefined} data-testid="advanced-settings">
      <summary>
        Advanced settings
        <span className="muted small">{changed ? ` · ${changed} changed from the recipe` : ' · as the recipe sets them'}</span>
      </summary>
      <div className="advanced-body">
        <div className="advanced-head">
          <p className="muted small">Every setting of the trainer. The recipe fills them in; change one only when
            you know why.</p>
          <button type="button" className="btn btn-small" onClick={onResetAll} disabled={!changed}>
            Reset all to the recipe</button>
        </div>
        {groupFields(fields).map((group) => (
          <fieldset key={group.name} className="form-section settings-group">
            <legend>{group.name}</legend>
            {group.fields.map((field) => (
              <SettingRow key={field.name} field={field} value={values[field.name] ?? recipe[field.name] ?? ''}
                recipeValue={recipe[field.name] ?? ''} error={errors[field.name]}
                onChange={(value) => onChange(field.name, value)} />
            ))}
          </fieldset>
        ))}
      </div>
    </details>
  );
}
