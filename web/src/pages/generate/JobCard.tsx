// One submitted generation: its state (queued, working, done, failed, cancelled), live progress with the
// server's preview when it sends one, and the images in boxes reserved at their final size.
import { useMutation } from '@tanstack/react-query';
import { memo } from 'react';
import { toApiError } from '../../api/http';
import { useBaseModel } from '../../api/queries';
import { ApiImage } from '../../components/ApiImage';
import { ProgressBar } from '../../components/Progress';
import { ResultGrid } from '../../components/ResultGrid';
import { modelLabel } from '../../lib/models';
import { useSetViewer } from '../../state/dialogs';
import { isActive, STATUS_TEXT, statusLine, useJobActions, type TrackedJob } from '../../state/jobs';
import { useToast } from '../../state/toasts';

/** Re-renders only when its own job changes (the reducer keeps the other jobs' objects). */
export const JobCard = memo(function JobCard({ job }: { job: TrackedJob }) {
  const { cancelJob, dismissJob } = useJobActions();
  const setViewer = useSetViewer();
  const toast = useToast();
  const baseModel = useBaseModel();
  const cancel = useMutation({
    mutationFn: () => cancelJob(job.id),
    onError: (error) => toast(toApiError(error).message, 'error'),
  });
  const active = isActive(job);
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
            <button type="button" className="btn btn-small" onClick={() => cancel.mutate()}
              disabled={job.status === 'cancelling'}>
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
              <ApiImage src={job.preview} alt="Live preview of the image being generated" width={job.body.width ?? undefined}
                height={job.body.height ?? undefined} eager />
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
});
