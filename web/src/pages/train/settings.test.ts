import { describe, expect, it } from 'vitest';
import { FIELDS, RECIPES } from './fixtures';
import { boundsText, changedFields, groupFields, parseSetting, recipeValues, serverFieldErrors,
  settingsRequest } from './settings';

const [original, quick] = RECIPES;
const byName = (name: string) => FIELDS.find((f) => f.name === name)!;

describe('training settings from the field list', () => {
  it('groups the fields in the server order', () => {
    expect(groupFields(FIELDS).map((g) => [g.name, g.fields.map((f) => f.name)])).toEqual([
      ['Images', ['resolution', 'center_crop']],
      ['Optimizer', ['learning_rate', 'max_train_steps', 'snr_gamma']],
      ['Hardware', ['mixed_precision']],
      ['Validation', ['validation_metrics']],
    ]);
  });

  it('a recipe fills its values over the defaults', () => {
    expect(recipeValues(FIELDS, quick)).toEqual({ resolution: '64', center_crop: false, learning_rate: '0.001',
      max_train_steps: '40', snr_gamma: '', mixed_precision: 'no', validation_metrics: '' });
    expect(recipeValues(FIELDS, undefined).resolution).toBe('512');
  });

  it('says the bounds in words', () => {
    expect(boundsText(byName('resolution'))).toBe('from 64 to 2048');
    expect(boundsText(byName('learning_rate'))).toBe('above 0 and at most 1');
    expect(boundsText(byName('max_train_steps'))).toBe('at least 1');
    expect(boundsText(byName('center_crop'))).toBeNull();
  });

  it('parses each type and checks the bounds', () => {
    expect(parseSetting(byName('resolution'), '128')).toEqual({ value: 128 });
    expect(parseSetting(byName('resolution'), '32')).toEqual({ error: 'Must be from 64 to 2048.' });
    expect(parseSetting(byName('resolution'), '64.5')).toEqual({ error: 'Must be a whole number.' });
    expect(parseSetting(byName('learning_rate'), '0')).toEqual({ error: 'Must be above 0 and at most 1.' });
    expect(parseSetting(byName('learning_rate'), 'abc')).toEqual({ error: 'Must be a number.' });
    expect(parseSetting(byName('max_train_steps'), '')).toEqual({ error: 'Required.' });
    expect(parseSetting(byName('snr_gamma'), '')).toEqual({ value: null }); // "not set" is its default
    expect(parseSetting(byName('mixed_precision'), 'fp8')).toEqual({ error: 'Pick one of no, fp16, bf16.' });
    expect(parseSetting(byName('validation_metrics'), 'clip, catalogue,')).toEqual({ value: ['clip', 'catalogue'] });
    expect(parseSetting(byName('center_crop'), true)).toEqual({ value: true });
  });

  it('sends only what differs from the recipe', () => {
    const values = { ...recipeValues(FIELDS, quick), max_train_steps: '20', center_crop: true };
    expect(settingsRequest(FIELDS, values, quick)).toEqual({ settings: { max_train_steps: 20, center_crop: true },
      errors: {} });
    expect(changedFields(FIELDS, values, quick)).toEqual(['center_crop', 'max_train_steps']);
    expect(settingsRequest(FIELDS, recipeValues(FIELDS, original), original).settings).toEqual({});
    expect(settingsRequest(FIELDS, { ...values, resolution: '1' }, quick).errors).toEqual(
      { resolution: 'Must be from 64 to 2048.' });
  });

  it('places the server refusal beside its field', () => {
    expect(serverFieldErrors('settings.learning_rate: Input should be less than or equal to 1', [])).toEqual(
      { byField: { learning_rate: 'Input should be less than or equal to 1' }, rest: null });
    expect(serverFieldErrors('Some settings were rejected', [{ field: 'name', message: 'too long' }])).toEqual(
      { byField: { name: 'too long' }, rest: null });
    // Several problems, one a line, each under its own field; an unknown setting is kept by its name.
    expect(serverFieldErrors('settings.learning_rate: too big\nsettings.max_train_steps: too small', [])).toEqual(
      { byField: { learning_rate: 'too big', max_train_steps: 'too small' }, rest: null });
    const unknown = 'unknown option `settings.learning_rat`: did you mean `settings.learning_rate`? (see `GET /api/recipes` for the valid options)';
    expect(serverFieldErrors(unknown, [])).toEqual({ byField: { learning_rat: unknown }, rest: null });
    expect(serverFieldErrors('a run named x exists already', [])).toEqual(
      { byField: {}, rest: 'a run named x exists already' });
  });
});
