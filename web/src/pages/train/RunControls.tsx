// What can be done to a run in its state: stop it (after a checkpoint), save a checkpoint or draw the validation
// pictures now, resume it, delete it (after a confirmation), generate with it once it is done, and evaluate its
// checkpoints (on the Models page) once it has some and is not training.
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import type { RunPublic } from '../../api/types';
import { ConfirmDialog } from '../../components/Modal';
import { generationModel, isFinished, isLive } from './status';

export type RunAction = 'stop' | 'save' | 'sample' | 'resume' | 'remove';

type Run = Pick<RunPublic, 'name' | 'status' | 'resumable' | 'has_final' | 'checkpoints'>;

export function RunControls({ run, pending, onAction }: {
  run: Run;
  /** The action on its way to the server, if any. */
  pending: RunAction | null;
  onAction: (action: RunAction) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const running = run.status === 'running';
  const model = generationModel(run);
  const busy = pending !== null;
  return (
    <div className="run-controls" role="group" aria-label={`Controls of ${run.name}`}>
      {running && (
        <>
          <button type="button" className="btn" disabled={busy} onClick={() => onAction('stop')}
            title="Saves a checkpoint first, so the run can be resumed from where it stopped">
            {pending === 'stop' ? 'Stopping…' : 'Stop'}</button>
          <button type="button" className="btn" disabled={busy} onClick={() => onAction('save')}
            title="Writes a checkpoint at the current step; it appears in the Generate page">
            {pending === 'save' ? 'Saving…' : 'Save checkpoint now'}</button>
          <button type="button" className="btn" disabled={busy} onClick={() => onAction('sample')}
            title="Draws the validation prompts at the current step">
            {pending === 'sample' ? 'Asking…' : 'Sample now'}</button>
        </>
      )}
      {run.status === 'queued' && (
        <button type="button" className="btn" disabled={busy} onClick={() => onAction('stop')}>
          {pending === 'stop' ? 'Cancelling…' : 'Cancel'}</button>
      )}
      {run.status === 'stopping' && <span className="muted small">Writing a checkpoint, then stopping…</span>}
      {!isLive(run) && run.resumable && (
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => onAction('resume')}
          title="Continues from the newest checkpoint up to the planned number of steps">
          {pending === 'resume' ? 'Resuming…' : 'Resume'}</button>
      )}
      {isFinished(run) && model && (
        <Link to="/generate" search={{ model }} className="btn btn-primary">Generate with this run</Link>
      )}
      {!isLive(run) && (run.checkpoints.length > 0 || run.has_final) && (
        <Link to="/models" search={{}} className="btn"
          title="On the Models page: score every checkpoint, pick the best one, compare them side by side">
          Evaluate checkpoints…</Link>
      )}
      {!isLive(run) && (
        <button type="button" className="btn btn-ghost danger-text" disabled={busy} onClick={() => setConfirming(true)}>
          Delete…</button>
      )}
      {running && <p className="muted small run-controls-hint">Stop saves a checkpoint first: you can resume later
        from there.</p>}
      <ConfirmDialog open={confirming} title={`Delete the run ${run.name}?`} confirmLabel="Delete run"
        message="Its checkpoints, final weights, validation pictures and logs are removed from the server. This cannot be undone."
        busy={pending === 'remove'} onCancel={() => setConfirming(false)}
        onConfirm={() => { setConfirming(false); onAction('remove'); }} />
    </div>
  );
}
