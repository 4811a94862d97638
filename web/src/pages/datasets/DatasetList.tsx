// The datasets on the server: name, images, size, layout and whether training can use them.
import { Link } from '@tanstack/react-router';
import type { DatasetPublic } from '../../api/pendingTypes';
import { formatBytes } from './files';

const STATUS: Record<DatasetPublic['status'], { label: string; badge: string }> = {
  ready: { label: 'Ready', badge: 'badge-done' },
  unusable: { label: 'Nothing to train on', badge: 'badge-error' },
  unreadable: { label: 'Unreadable', badge: 'badge-error' },
};

export function DatasetList({ datasets, selected }: { datasets: DatasetPublic[]; selected?: string }) {
  if (!datasets.length) {
    return <p className="muted small figure-empty">No datasets yet: upload your product photos to start.</p>;
  }
  return (
    <table className="dataset-table" aria-label="Datasets">
      <thead><tr><th>Name</th><th>Images</th><th>Size</th><th>Layout</th><th>Status</th></tr></thead>
      <tbody>
        {datasets.map((d) => (
          <tr key={d.name} className={d.name === selected ? 'chosen' : undefined} data-testid="dataset-row">
            <td><Link to="/datasets" search={{ name: d.name }} aria-current={d.name === selected ? 'page' : undefined}>
              {d.name}</Link>{d.source === 'folder' && <span className="muted small"> (server folder)</span>}</td>
            <td title={`${d.usable} used for training, ${d.skipped} skipped`}>{d.images}
              {d.skipped > 0 && <span className="muted small"> ({d.skipped} skipped)</span>}</td>
            <td>{formatBytes(d.bytes)}</td>
            <td className="mono small">{d.layout ?? '–'}</td>
            <td><span className={`badge ${STATUS[d.status].badge}`}>{STATUS[d.status].label}</span></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
