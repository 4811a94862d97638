// The dataset's images with their captions, a page at a time: each caption is edited in place and saved per row
// (in the dataset's own caption format, by the server).
import { useState } from 'react';
import { toApiError } from '../../api/http';
import type { DatasetItemPublic } from '../../api/types';
import { ApiImage } from '../../components/ApiImage';
import { CAPTIONS_PAGE_SIZE, useDatasetItems, useSaveCaption } from './useDatasets';

function CaptionRow({ item, onSave }: {
  item: DatasetItemPublic;
  onSave: (caption: string) => Promise<unknown>;
}) {
  const [draft, setDraft] = useState(item.caption ?? '');
  const [seen, setSeen] = useState(item.caption);
  if (seen !== item.caption) { // a new caption from the server (this row's save, or a template) replaces the draft
    setSeen(item.caption);
    setDraft(item.caption ?? '');
  }
  const [state, setState] = useState<{ saving: boolean; saved: boolean; error: string | null }>(
    { saving: false, saved: false, error: null });
  const dirty = draft !== (item.caption ?? '');
  const save = async () => {
    setState({ saving: true, saved: false, error: null });
    try {
      await onSave(draft.trim());
      setState({ saving: false, saved: true, error: null });
    } catch (error) {
      setState({ saving: false, saved: false, error: toApiError(error).message });
    }
  };
  const label = `Caption of ${item.file}`;
  return (
    <tr data-testid="caption-row" data-file={item.file}>
      <td className="caption-thumb">
        <ApiImage src={item.image_url} alt={item.file} fallback="no preview" />
      </td>
      <td><div className="caption-cell">
        <span className="mono small">{item.file}</span>
        <textarea rows={2} value={draft} aria-label={label} placeholder="No caption: this image is skipped"
          onChange={(e) => { setDraft(e.target.value); setState((s) => ({ ...s, saved: false })); }}
          onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && dirty) void save(); }} />
        {state.error && <p className="field-error" role="alert">{state.error}</p>}
      </div></td>
      <td><div className="caption-actions">
        <button type="button" className="btn btn-small" disabled={!dirty || !draft.trim() || state.saving} onClick={() => void save()}
          aria-label={`Save caption of ${item.file}`}>{state.saving ? 'Saving…' : 'Save'}</button>
        {state.saved && !dirty && <span className="ok-text small" role="status">Saved</span>}
      </div></td>
    </tr>
  );
}

export function CaptionsTable({ dataset, page, onPage }: { dataset: string; page: number;
  onPage: (page: number) => void }) {
  const items = useDatasetItems(dataset, page);
  const save = useSaveCaption(dataset, page);
  const total = items.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / CAPTIONS_PAGE_SIZE));
  if (items.error) return <p className="notice notice-error">{toApiError(items.error).message}</p>;
  return (
    <section aria-labelledby="captions-title" className="captions">
      <div className="column-head">
        <h3 id="captions-title" className="section-title">Captions</h3>
        <span className="muted small">{total} image{total === 1 ? '' : 's'} · Ctrl+Enter saves a row</span>
      </div>
      <table className="captions-table">
        <thead><tr><th>Image</th><th>Caption</th><th><span className="visually-hidden">Save</span></th></tr></thead>
        <tbody>
          {(items.data?.items ?? []).map((item) => (
            <CaptionRow key={item.file} item={item}
              onSave={(caption) => save.mutateAsync({ file: item.file, caption })} />
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <nav className="pager" aria-label="Caption pages">
          <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
            Previous</button>
          <span className="muted small">page {page} of {pages}</span>
          <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
            Next</button>
        </nav>
      )}
    </section>
  );
}
