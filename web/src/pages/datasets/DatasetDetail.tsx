// One dataset: its numbers, the way to train on it, its check report, its captions (editable) and a caption
// template to rewrite them all; delete (an upload) or unregister (a registered folder) after a confirmation. A folder
// placed in the datasets root on the server is the server's to remove: no button offers what would be refused.
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { toApiError } from '../../api/http';
import { ConfirmDialog } from '../../components/Modal';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useToast } from '../../state/toasts';
import { CaptionsTable } from './CaptionsTable';
import { CaptionTemplate } from './CaptionTemplate';
import { DatasetReport } from './DatasetReport';
import { formatBytes } from './files';
import { useDataset, useDeleteDataset } from './useDatasets';

export function DatasetDetail({ name, page, onPage, onDeleted }: {
  name: string;
  page: number;
  onPage: (page: number) => void;
  onDeleted: () => void;
}) {
  const dataset = useDataset(name);
  const remove = useDeleteDataset();
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const data = dataset.data;
  if (!data) {
    return dataset.error ? <ErrorNotice error={toApiError(dataset.error)} onRetry={() => void dataset.refetch()} />
      : <div className="skeleton panel run-detail-loading" aria-busy="true" />;
  }
  const uploaded = data.source === 'upload';
  const confirmDelete = () => remove.mutate(name, {
    onSuccess: () => {
      setConfirming(false);
      toast(uploaded ? `Dataset ${name} deleted.` : `Dataset ${name} unregistered (its folder is kept).`);
      onDeleted();
    },
  });
  const cancelDelete = () => { remove.reset(); setConfirming(false); };
  return (
    <article className="panel dataset-detail" aria-labelledby="dataset-title" data-testid="dataset-detail">
      <header className="run-detail-head">
        <h2 id="dataset-title">{data.name}</h2>
        <span className="muted small">{data.images} images · {formatBytes(data.bytes)} · {data.layout ?? 'no layout'}
          {' · '}{uploaded ? 'uploaded' : `server folder ${data.path}`}</span>
        <div className="head-actions">
          <Link to="/train" search={{ dataset: data.name }} className="btn btn-primary"
            disabled={data.usable === 0}>Train on this dataset</Link>
          {data.source === 'folder'
            ? <span className="muted small" title="The studio lists it but does not remove server folders">
              placed on the server: remove its folder there</span>
            : <button type="button" className="btn btn-ghost danger-text" onClick={() => setConfirming(true)}>
              {uploaded ? 'Delete…' : 'Unregister…'}</button>}
        </div>
      </header>
      {data.report ? <DatasetReport report={data.report} rejected={data.rejected} />
        : <p className="notice notice-error">No caption layout could be read in this folder: add a captions.json, a
          metadata.jsonl or a .txt beside each image.</p>}
      <CaptionTemplate dataset={data.name} />
      <CaptionsTable dataset={data.name} page={page} onPage={onPage} />
      <ConfirmDialog open={confirming} busy={remove.isPending}
        title={uploaded ? `Delete the dataset ${data.name}?` : `Unregister the dataset ${data.name}?`}
        confirmLabel={uploaded ? 'Delete dataset' : 'Unregister'} onCancel={cancelDelete}
        onConfirm={confirmDelete} error={remove.error ? toApiError(remove.error).message : null}
        message={uploaded ? 'Its uploaded images and captions are removed from the server. Runs trained on it keep their weights.'
          : 'The folder stays on the server; only its entry in this list goes.'} />
    </article>
  );
}
