// The latest product-photo job of this tab: its progress (the shared job tracking over SSE), then the result
// beside the original, with the way to the gallery and to the image's details.
import { useMutation } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { toApiError } from '../../api/http';
import { ApiImage } from '../../components/ApiImage';
import { ProgressBar } from '../../components/Progress';
import { useSetViewer } from '../../state/dialogs';
import { isActive, STATUS_TEXT, statusLine, useJobActions, type TrackedJob } from '../../state/jobs';
import { useToast } from '../../state/toasts';
import { CompareView } from './CompareView';
import { MODE_TEXT, type PhotoMode } from './photo';

export function PhotoResult({ job }: { job: TrackedJob }) {
  const { cancelJob } = useJobActions();
  const setViewer = useSetViewer();
  const toast = useToast();
  const cancel = useMutation({ mutationFn: () => cancelJob(job.id),
    onError: (error) => toast(toApiError(error).message, 'error') });
  const result = job.images?.[0];
  const original = job.body.init_image ?? '';
  return (
    <section className="panel photo-result" aria-labelledby="photo-result-title" data-testid="photo-result"
      data-status={job.status}>
      <header className="job-head">
        <div className="job-title">
          <h2 id="photo-result-title" className="section-title">{MODE_TEXT[job.body.mode as PhotoMode]?.label ?? 'Result'}</h2>
          <p className="job-sub muted">{job.body.prompt}</p>
        </div>
        <div className="job-actions">
          <span className={`badge badge-${job.status}`} data-testid="job-status">{STATUS_TEXT[job.status]}</span>
          {isActive(job) && (
            <button type="button" className="btn btn-small" onClick={() => cancel.mutate()}
              disabled={job.status === 'cancelling'}>Cancel</button>
          )}
        </div>
      </header>
      {isActive(job) && (
        <div className="job-progress">
          <ProgressBar value={job.step} max={job.status === 'running' ? job.total : 0} label="Generation progress" />
          <p className="muted small" aria-live="polite">{statusLine(job)}</p>
          {job.preview && <ApiImage src={job.preview} alt="Live preview" aspectRatio="1 / 1" eager className="photo-preview" />}
        </div>
      )}
      {job.status === 'error' && <p className="notice notice-error" role="alert">{job.error}</p>}
      {job.status === 'done' && !result && <p className="muted small">Loading the result…</p>}
      {result && (
        <>
          <CompareView original={original} result={result} />
          <div className="result-links">
            <span className="muted small">{statusLine(job)} · saved to the gallery</span>
            <Link to="/gallery" search={{ q: job.body.prompt }} className="btn btn-small">See it in the gallery</Link>
            <button type="button" className="btn btn-small" onClick={() => setViewer({ images: [result], index: 0 })}>
              Details</button>
          </div>
        </>
      )}
    </section>
  );
}
