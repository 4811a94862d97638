// A comparison laid out side by side: one column per checkpoint, each following its own job.
import { useMutation } from '@tanstack/react-query';
import { toApiError } from '../../api/http';
import { useBaseModel } from '../../api/queries';
import { ProgressBar } from '../../components/Progress';
import { ResultGrid } from '../../components/ResultGrid';
import { modelLabel } from '../../lib/models';
import { useSetViewer } from '../../state/dialogs';
import { isActive, statusLine, useJobActions, useJobs } from '../../state/jobs';
import { useToast } from '../../state/toasts';

export interface Comparison {
  id: number;
  prompt: string;
  seed: number;
  cells: { model: string; jobId: string | null; error: string | null }[];
}

function ComparisonCell({ cell }: { cell: Comparison['cells'][number] }) {
  const jobs = useJobs();
  const { cancelJob } = useJobActions();
  const setViewer = useSetViewer();
  const baseModel = useBaseModel();
  const toast = useToast();
  const cancel = useMutation({
    mutationFn: cancelJob,
    onError: (error) => toast(toApiError(error).message, 'error'),
  });
  const job = cell.jobId ? jobs.byId[cell.jobId] : undefined;
  let body;
  if (cell.error) body = <p className="notice notice-error small" role="alert">{cell.error}</p>;
  else if (!job) body = <div className="img-box skeleton" style={{ aspectRatio: '1 / 1' }} />;
  else {
    body = (
      <>
        {isActive(job) && (
          <>
            <ProgressBar value={job.step} max={job.status === 'running' ? job.total : 0}
              label={`Progress of ${cell.model}`} />
            <p className="muted small">{statusLine(job)}
              <button type="button" className="link-btn" onClick={() => cancel.mutate(job.id)}>
                Cancel</button></p>
          </>
        )}
        {job.status === 'error' && <p className="notice notice-error small">{job.error}</p>}
        {job.status === 'cancelled' && <p className="muted small">Cancelled</p>}
        {job.status !== 'error' && job.status !== 'cancelled' && (
          <ResultGrid job={job} images={job.images}
            onOpen={(index) => job.images && setViewer({ images: job.images, index })} />
        )}
      </>
    );
  }
  return (
    <figure className="comparison-cell">
      <figcaption title={cell.model}>{modelLabel(cell.model, baseModel)}</figcaption>
      {body}
    </figure>
  );
}

export function ComparisonView({ comparison }: { comparison: Comparison }) {
  return (
    <div className="comparison" data-testid="comparison">
      <p className="comparison-title"><strong>{comparison.prompt}</strong>
        <span className="muted small"> · seed {comparison.seed}</span></p>
      <div className="comparison-grid" style={{ ['--cols' as string]: String(comparison.cells.length) }}>
        {comparison.cells.map((cell) => <ComparisonCell key={cell.model} cell={cell} />)}
      </div>
    </div>
  );
}
