// A job's images in boxes reserved at their final size, so nothing moves when they arrive.
import type { GalleryImagePublic } from '../api/types';
import type { TrackedJob } from '../state/jobs';
import { ApiImage } from './ApiImage';

export function ResultGrid({ job, images, onOpen }: { job: TrackedJob; images: GalleryImagePublic[] | null;
  onOpen: (index: number) => void }) {
  const count = job.status === 'done' ? Math.max(job.imageIds.length, images?.length ?? 0) : job.body.num_images;
  const { width, height } = job.body;
  return (
    <ul className="result-grid" aria-label="Generated images">
      {Array.from({ length: count }, (_, i) => {
        const image = images?.[i];
        return (
          <li key={image?.id ?? i}>
            {image ? (
              <button type="button" className="thumb" onClick={() => onOpen(i)}
                aria-label={`Open image ${i + 1} (seed ${image.seed})`}>
                <ApiImage src={image.image_url} alt={`${image.prompt} (seed ${image.seed})`} width={image.width}
                  height={image.height} />
                <span className="thumb-caption">seed {image.seed}</span>
              </button>
            ) : (
              <div className="thumb placeholder" aria-hidden="true">
                <div className="img-box skeleton" style={{ aspectRatio: `${width} / ${height}` }} />
                <span className="thumb-caption">&nbsp;</span>
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
