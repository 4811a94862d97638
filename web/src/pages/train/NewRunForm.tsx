// "New run": a name, the dataset, a recipe (which fills every setting), the validation prompts, and the advanced
// settings generated from the server's field list. A refusal from the server is shown beside the field it names.
import { useState } from 'react';
import { toApiError } from '../../api/http';
import type { RecipePublic, RunCreate, SettingFieldPublic } from '../../api/types';
import { describedBy, Field } from '../../components/Field';
import { cleanPrompts, PromptList } from './PromptList';
import { fieldLabel, recipeValues, serverFieldErrors, settingsRequest, type SettingErrors, type SettingValues } from './settings';
import { SettingsFields } from './SettingsFields';

const RUN_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;

export interface NewRunFormProps {
  datasets: string[];
  recipes: RecipePublic[];
  /** The recipe for the server's base (GET /api/recipes' `default_recipe`): the form starts from it. */
  defaultRecipe: string | null;
  fields: SettingFieldPublic[];
  initialDataset?: string;
  onSubmit: (body: RunCreate) => Promise<void>;
}

function suggestedName(dataset: string): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${dataset}-${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
}

function recipePrompts(recipe: RecipePublic | undefined): string[] {
  return recipe?.validation_prompts ?? [];
}

export function NewRunForm({ datasets, recipes, defaultRecipe, fields, initialDataset, onSubmit }: NewRunFormProps) {
  const [dataset, setDataset] = useState(initialDataset && datasets.includes(initialDataset) ? initialDataset
    : datasets[0] ?? '');
  const [name, setName] = useState('');
  // The recipe for the server's base: one for another base is refused (its generation could not use the run).
  const [recipeName, setRecipeName] = useState(recipes.find((r) => r.name === defaultRecipe)?.name
    ?? recipes[0]?.name ?? '');
  const recipe = recipes.find((r) => r.name === recipeName);
  const [values, setValues] = useState<SettingValues>(() => recipeValues(fields, recipe));
  const [prompts, setPrompts] = useState<string[]>(() => recipePrompts(recipe));
  const [errors, setErrors] = useState<SettingErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const base = recipeValues(fields, recipe);
  const advancedError = fields.some((f) => errors[f.name]);

  const pickRecipe = (next: string) => {
    const chosen = recipes.find((r) => r.name === next);
    setRecipeName(next);
    setValues(recipeValues(fields, chosen));
    setPrompts(recipePrompts(chosen));
    setErrors({});
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const runName = name.trim() || suggestedName(dataset);
    const { settings, errors: found } = settingsRequest(fields, values, recipe);
    if (!RUN_NAME.test(runName)) found.name = 'Use up to 64 letters, digits, dots, dashes or underscores.';
    if (!dataset) found.dataset = 'Add a dataset first (Datasets page).';
    setErrors(found);
    setProblem(Object.keys(found).length ? 'Some values need fixing (marked in red).' : null);
    if (Object.keys(found).length) return;
    setSubmitting(true);
    try {
      await onSubmit({ name: runName, dataset, recipe: recipeName, settings,
        validation_prompts: cleanPrompts(prompts) });
    } catch (failure) {
      const error = toApiError(failure);
      const { byField, rest } = serverFieldErrors(error.message, error.fieldErrors);
      if (error.status === 409) byField.name ??= error.message;
      if (error.status === 404 && !byField.recipe) byField.dataset ??= error.message;
      setErrors(byField);
      setProblem(Object.keys(byField).length ? `The server refused: ${error.message}` : rest);
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <form className="new-run-form" onSubmit={submit} noValidate aria-label="New training run">
      <div className="grid-2">
        <Field id="run-dataset" label="Dataset" error={errors.dataset}
          hint="The photos and captions to learn from.">
          <select id="run-dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}
            aria-invalid={errors.dataset ? true : undefined} aria-describedby={describedBy('run-dataset', errors.dataset, 'h')}>
            {datasets.length === 0 && <option value="">No datasets yet</option>}
            {datasets.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </Field>
        <Field id="run-name" label="Run name" error={errors.name}
          hint={`Names the model in the Generate page. Empty: ${dataset ? suggestedName(dataset) : 'from the dataset'}.`}>
          <input id="run-name" type="text" value={name} onChange={(e) => setName(e.target.value)}
            placeholder={dataset ? suggestedName(dataset) : 'my-shoes'} aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy('run-name', errors.name, 'h')} />
        </Field>
      </div>
      <Field id="run-recipe" label="Recipe" error={errors.recipe}
        hint={`${recipe ? `${recipe.title} ` : ''}It fills in every setting (see Advanced settings).`}>
        <select id="run-recipe" value={recipeName} onChange={(e) => pickRecipe(e.target.value)}
          aria-describedby={describedBy('run-recipe', errors.recipe, 'h')}>
          {recipes.map((r) => <option key={r.name} value={r.name}>{fieldLabel(r.name.replaceAll('-', ' '))}</option>)}
        </select>
      </Field>
      <div className="field">
        <span className="label-like" id="run-prompts-label">Validation prompts</span>
        <p className="field-hint">At each validation step the run draws these prompts, so you can watch it learn.</p>
        <PromptList id="run-prompts" prompts={prompts} onChange={setPrompts} />
        {errors.validation_prompts && <p className="field-error">{errors.validation_prompts}</p>}
      </div>
      <SettingsFields fields={fields} values={values} recipe={base} errors={errors} open={advancedError}
        onChange={(field, value) => {
          setValues((current) => ({ ...current, [field]: value }));
          if (errors[field]) setErrors(({ [field]: _, ...rest }) => rest);
        }}
        onResetAll={() => setValues(base)} />
      {problem && <p className="notice notice-error" role="alert" data-testid="new-run-error">{problem}</p>}
      <button type="submit" className="btn btn-primary btn-large" disabled={submitting || !dataset}>
        {submitting ? 'Starting…' : 'Start training'}</button>
    </form>
  );
}
