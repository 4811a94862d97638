// The gallery's images as cards: a checkbox to select each, the picture to open it in the viewer, its score.
import { useBaseModel } from '../../api/queries';
import type { GalleryImagePublic } from '../../api/types';
import { ApiImage } from '../../components/ApiImage';
import { ScoreBadge } from '../../components/ImageScores';
import { formatDate } from '../../lib/browser';
import { modelLabel } from '../../lib/models';
import { useSetViewer } from '../../state/dialogs';

export function GalleryGrid({ items, selected, onToggle }: {
  items: GalleryImagePublic[];
  selected: Set<string>;
  onToggle: (id: string) => void;
}) {
  const baseModel = useBaseModel();
  const setViewer = useSetViewer();
  return (
    <ul className="gallery-grid" aria-label="Gallery images">
      {items.map((item, index) => {
        const checked = selected.has(item.id);
        return (
          <li key={item.id} className={`gallery-card ${checked ? 'selected' : ''}`} data-testid="gallery-card">
            <label className="select-box">
              <input type="checkbox" checked={checked} onChange={() => onToggle(item.id)} />
              <span className="visually-hidden">Select image {index + 1}: {item.prompt.slice(0, 60)}</span>
            </label>
            <button type="button" className="thumb" onClick={() => setViewer({ images: items, index })}
              aria-label={`Open image ${index + 1}: ${item.prompt.slice(0, 80)}`}>
              <ApiImage src={item.image_url} alt={item.prompt} width={item.width} height={item.height}
                aspectRatio="1 / 1" />
            </button>
            <ScoreBadge scores={item.scores} />
            <div className="card-body">
              <p className="card-prompt" title={item.prompt}>{item.prompt}</p>
              <p className="card-meta muted">
                <span>{modelLabel(item.model_name, baseModel)}</span>
                <span>seed {item.seed} · {item.width}×{item.height}</span>
                <span>{formatDate(item.created_at)}</span>
              </p>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
