// One submitted generation: its state (queued, working, done, failed, cancelled), live progress with the
// server's preview when it sends one, and the images in boxes reserved at their final size.
import type { GalleryImagePublic } from '../api/types';
import { ApiImage } from '../components/ApiImage';
import { ProgressBar } from '../components/Progress';
import { isActive, type TrackedJob } from '../state/jobs';
import { modelLabel, useStudio } from '../state/studio';

const STATUS_TEXT: Record<TrackedJob['status'], string> = {
  queued: 'Queued',
  running: 'Generating',
  cancelling: 'Cancelling…',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

export function statusLine(job: TrackedJob): string {
  if (job.status === 'queued') return job.position ? `Queued · position ${job.position}` : 'Queued';
  if (job.status === 'running') return job.total ? `Generating · step ${job.step} of ${job.total}` : 'Starting…';
  if (job.status === 'done') {
    const seconds = job.finishedAt ? ((job.finishedAt - job.createdAt) / 1000).toFixed(1) : null;
    return seconds ? `Done in ${seconds} s` : 'Done';
  }
  return STATUS_TEXT[job.status];
}

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

export function JobCard({ job }: { job: TrackedJob }) {
  const { cancelJob, dismissJob, setViewer, toast, reportError, baseModel } = useStudio();
  const active = isActive(job);
  const cancel = async () => {
    try {
      await cancelJob(job.id);
    } catch (error) {
      toast(reportError(error).message, 'error');
    }
  };
  const images = job.images;
  return (
    <article className={`job-card status-${job.status}`} aria-labelledby={`job-${job.id}-title`}
      data-testid="job-card" data-status={job.status}>
      <header className="job-head">
        <div className="job-title">
          <h3 id={`job-${job.id}-title`} title={job.body.prompt}>{job.body.prompt}</h3>
          <p className="job-sub muted">
            {modelLabel(job.body.model_name ?? baseModel ?? 'base', baseModel)} · {job.body.width}×{job.body.height}
            {' · '}{job.body.num_inference_steps} steps · {job.body.sampler}
            {job.body.seed !== null && job.body.seed !== undefined ? ` · seed ${job.body.seed}` : ''}
          </p>
        </div>
        <div className="job-actions">
          <span className={`badge badge-${job.status}`} data-testid="job-status">{STATUS_TEXT[job.status]}</span>
          {active ? (
            <button type="button" className="btn btn-small" onClick={cancel} disabled={job.status === 'cancelling'}>
              Cancel
            </button>
          ) : (
            <button type="button" className="btn btn-ghost btn-small" onClick={() => dismissJob(job.id)}
              aria-label="Remove from this list">Dismiss</button>
          )}
        </div>
      </header>
      {active && (
        <div className="job-progress">
          <ProgressBar value={job.step} max={job.status === 'running' ? job.total : 0} label="Generation progress" />
          <p className="muted small" aria-live="polite" data-testid="job-progress-text">{statusLine(job)}</p>
          {job.preview && (
            <div className="preview">
              <ApiImage src={job.preview} alt="Live preview of the image being generated" width={job.body.width}
                height={job.body.height} eager />
              <span className="muted small">Live preview</span>
            </div>
          )}
        </div>
      )}
      {job.status === 'error' && <p className="notice notice-error" role="alert">{job.error}</p>}
      {job.status === 'done' && <p className="muted small">{statusLine(job)}</p>}
      {job.status !== 'cancelled' && job.status !== 'error' && (
        <ResultGrid job={job} images={images} onOpen={(index) => images && setViewer({ images, index })} />
      )}
    </article>
  );
}
