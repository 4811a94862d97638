// The datasets on the server: name, images, size, layout and whether training can use them.
import { Link } from '@tanstack/react-router';
import type { DatasetPublic } from '../../api/types';
import { formatBytes } from './files';

const STATUS: Record<string, { label: string; badge: string }> = {
  ready: { label: 'Ready', badge: 'badge-done' },
  unusable: { label: 'Nothing to train on', badge: 'badge-error' },
  unreadable: { label: 'Unreadable', badge: 'badge-error' },
};

export function DatasetList({ datasets, selected }: { datasets: DatasetPublic[]; selected?: string }) {
  if (!datasets.length) {
    return <p className="muted small figure-empty">No datasets yet: upload your product photos to start.</p>;
  }
  return (
    <ul className="run-list" aria-label="Datasets">
      {datasets.map((d) => {
        const status = STATUS[d.status] ?? { label: d.status, badge: '' };
        return (
          <li key={d.name}>
            <Link to="/datasets" search={{ name: d.name }} className={`run-item ${d.name === selected ? 'chosen' : ''}`}
              aria-current={d.name === selected ? 'page' : undefined} data-testid="dataset-item">
              <span className="run-item-head">
                <strong className="run-item-name">{d.name}</strong>
                <span className={`badge ${status.badge}`}>{status.label}</span>
              </span>
              <span className="run-line muted" title={`${d.usable} used for training, ${d.skipped} skipped`}>
                {d.images} images{d.skipped ? ` (${d.skipped} skipped)` : ''} · {formatBytes(d.bytes)}
                {' · '}{d.layout ?? 'no caption layout'}{d.source === 'upload' ? '' : ' · server folder'}
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
