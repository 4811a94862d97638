// "Apply a caption template": every caption rewritten from a template whose [placeholders] come from each image's
// metadata, starting from the server's presets (the original system's template is one).
import { useState } from 'react';
import { toApiError } from '../../api/http';
import { Field } from '../../components/Field';
import { useToast } from '../../state/toasts';
import { useApplyTemplate, useCaptionTemplates } from './useDatasets';

const PLACEHOLDERS = '[color] [season] [gender] [brand] [usage] [year] [caption]';

export function CaptionTemplate({ dataset }: { dataset: string }) {
  const templates = useCaptionTemplates();
  const apply = useApplyTemplate(dataset);
  const toast = useToast();
  const [template, setTemplate] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    apply.mutate(template.trim(), {
      onSuccess: ({ updated }) => toast(`${updated} caption${updated === 1 ? '' : 's'} rewritten from the template.`),
      onError: (failure) => setError(toApiError(failure).message),
    });
  };
  return (
    <details className="caption-template">
      <summary>Apply a caption template</summary>
      <form onSubmit={submit} className="caption-template-form" aria-label="Caption template">
        <div className="chip-list" aria-label="Template presets" role="group">
          {(templates.data ?? []).map((preset) => (
            <button key={preset.name} type="button" className="chip" title={preset.template}
              onClick={() => setTemplate(preset.template)}>{preset.name}</button>
          ))}
        </div>
        <Field id="caption-template" label="Template" error={error ?? undefined}
          hint={`Placeholders taken from each image's metadata: ${PLACEHOLDERS}. Every caption is replaced.`}>
          <textarea id="caption-template" rows={3} value={template} onChange={(e) => setTemplate(e.target.value)}
            placeholder="A professional product photo of [color] casual shoes, [season] collection" />
        </Field>
        <button type="submit" className="btn btn-small btn-primary" disabled={!template.trim() || apply.isPending}>
          {apply.isPending ? 'Applying…' : 'Apply to every caption'}</button>
      </form>
    </details>
  );
}
