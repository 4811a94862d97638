// The training settings form, built from the server's field list (GET /api/recipes `fields`): every field's
// type, bounds, default and help come from there, never from a list kept here. Values are held as typed
// (strings, or booleans for check boxes) and become the request's `settings` only when sent.
import type { RecipePublic, SettingFieldPublic } from '../../api/types';

export type SettingValue = string | boolean;
export type SettingValues = Record<string, SettingValue>;
export type SettingErrors = Record<string, string>;

export interface FieldGroup {
  name: string;
  fields: SettingFieldPublic[];
}

/** The fields by group, groups and fields in the server's order. */
export function groupFields(fields: SettingFieldPublic[]): FieldGroup[] {
  const groups = new Map<string, SettingFieldPublic[]>();
  for (const field of fields) {
    const list = groups.get(field.group) ?? [];
    list.push(field);
    groups.set(field.group, list);
  }
  return [...groups].map(([name, list]) => ({ name, fields: list }));
}

/** A value as the form holds it: lists as comma-separated text, nothing (null) as an empty box. */
export function toFormValue(field: SettingFieldPublic, value: unknown): SettingValue {
  if (field.type === 'boolean') return value === true;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(String).join(', ');
  return String(value);
}

/** The form's values when `recipe` is picked: each field's default, overlaid with what the recipe sets. */
export function recipeValues(fields: SettingFieldPublic[], recipe: RecipePublic | undefined): SettingValues {
  const values: SettingValues = {};
  for (const field of fields) {
    const value = recipe && field.name in recipe.settings ? recipe.settings[field.name] : field.default;
    values[field.name] = toFormValue(field, value);
  }
  return values;
}

/** A field's label in words: `learning_rate` → "Learning rate". */
export function fieldLabel(name: string): string {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The bounds in words, for the hint beside the input ("from 1 to 1024", "above 0"). */
export function boundsText(field: SettingFieldPublic): string | null {
  const low = field.minimum !== null ? `at least ${field.minimum}`
    : field.exclusive_minimum !== null ? `above ${field.exclusive_minimum}` : null;
  const high = field.maximum !== null ? `at most ${field.maximum}`
    : field.exclusive_maximum !== null ? `below ${field.exclusive_maximum}` : null;
  if (field.minimum !== null && field.maximum !== null) return `from ${field.minimum} to ${field.maximum}`;
  if (low && high) return `${low} and ${high}`;
  return low ?? high;
}

/** The value the request carries, or an error in words. */
export function parseSetting(field: SettingFieldPublic, value: SettingValue): { value: unknown } | { error: string } {
  if (field.type === 'boolean') return { value: value === true };
  const text = String(value).trim();
  if (field.type === 'list') return { value: text.split(',').map((item) => item.trim()).filter(Boolean) };
  if (text === '') return field.optional ? { value: null } : { error: 'Required.' };
  if (field.type === 'string') return { value: text };
  if (field.type === 'enum') {
    return field.choices && !field.choices.includes(text) ? { error: `Pick one of ${field.choices.join(', ')}.` }
      : { value: text };
  }
  const number = Number(text);
  if (!Number.isFinite(number)) return { error: 'Must be a number.' };
  if (field.type === 'integer' && !Number.isInteger(number)) return { error: 'Must be a whole number.' };
  const bounds = boundsText(field);
  const outside = (field.minimum !== null && number < field.minimum)
    || (field.maximum !== null && number > field.maximum)
    || (field.exclusive_minimum !== null && number <= field.exclusive_minimum)
    || (field.exclusive_maximum !== null && number >= field.exclusive_maximum);
  return outside ? { error: `Must be ${bounds}.` } : { value: number };
}

/**
 * The request's `settings`: only the fields that differ from the recipe's values (the server applies the recipe
 * first), or the errors by field when a value does not parse.
 */
export function settingsRequest(fields: SettingFieldPublic[], values: SettingValues, recipe: RecipePublic | undefined):
  { settings: Record<string, unknown>; errors: SettingErrors } {
  const base = recipeValues(fields, recipe);
  const settings: Record<string, unknown> = {};
  const errors: SettingErrors = {};
  for (const field of fields) {
    const value = values[field.name] ?? base[field.name];
    const parsed = parseSetting(field, value);
    if ('error' in parsed) errors[field.name] = parsed.error;
    else if (value !== base[field.name]) settings[field.name] = parsed.value;
  }
  return { settings, errors };
}

/** The fields whose value differs from the recipe's. */
export function changedFields(fields: SettingFieldPublic[], values: SettingValues,
  recipe: RecipePublic | undefined): string[] {
  const base = recipeValues(fields, recipe);
  return fields.filter((field) => field.name in values && values[field.name] !== base[field.name])
    .map((field) => field.name);
}

/**
 * The server's refusal of a new run, by form field: `settings.X` names an advanced setting, `name`, `dataset`,
 * `recipe` and `validation_prompts` the fields above them. It comes as sentences, one a line ("settings.learning_rate:
 * ...", "unknown option `settings.x`: ..."), or as the usual list of field errors; whatever names no field stays in
 * `rest`.
 */
export function serverFieldErrors(message: string, fieldErrors: { field: string; message: string }[]):
  { byField: SettingErrors; rest: string | null } {
  const byField: SettingErrors = {};
  const named = (field: string, text: string) => {
    const key = field.replace(/^settings\./, '').split('.')[0];
    if (key && !byField[key]) byField[key] = text;
  };
  for (const error of fieldErrors) named(error.field, error.message);
  for (const line of fieldErrors.length ? [] : message.split('\n')) {
    const sentence = /^((?:settings\.)?[a-z_]+(?:\.[a-z0-9_]+)*): (.+)$/s.exec(line);
    const unknown = /^unknown option `((?:settings\.)?[A-Za-z0-9_.-]+)`/.exec(line);
    if (sentence) named(sentence[1], sentence[2]);
    else if (unknown) named(unknown[1], line);
  }
  const rest = Object.keys(byField).length ? null : message;
  return { byField, rest };
}
