// A readable explanation of an API failure, with the action that fixes it when there is one.
import { useEffect, useState } from 'react';
import type { ApiError } from '../api/http';

const TITLES: Record<ApiError['kind'], string> = {
  network: 'Server unreachable',
  unauthorized: 'API key required',
  validation: 'Request rejected',
  not_found: 'Not found',
  busy: 'Server busy',
  too_large: 'Request too large',
  server: 'Server error',
  http: 'Request failed',
  aborted: 'Cancelled',
};

export function ErrorNotice({ error, onEnterKey, onRetry, onDismiss }: {
  error: ApiError | null;
  onEnterKey?: () => void;
  onRetry?: () => void;
  onDismiss?: () => void;
}) {
  const [remaining, setRemaining] = useState<number | null>(null);
  useEffect(() => {
    if (error?.kind !== 'busy' || error.retryAfter === null) {
      setRemaining(null);
      return;
    }
    const until = Date.now() + error.retryAfter * 1000;
    setRemaining(error.retryAfter);
    const timer = setInterval(() => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setRemaining(left);
      if (left === 0) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [error]);

  if (!error || error.kind === 'aborted') return null;
  return (
    <div className={`notice notice-error kind-${error.kind}`} role="alert">
      <div className="notice-body">
        <strong>{TITLES[error.kind]}</strong>
        <p>{error.message}</p>
        {error.kind === 'validation' && error.fieldErrors.length > 1 && (
          <ul>
            {error.fieldErrors.map((e) => <li key={`${e.field}:${e.message}`}><code>{e.field}</code>: {e.message}</li>)}
          </ul>
        )}
        {error.kind === 'busy' && remaining !== null && (
          <p className="muted" aria-live="polite">
            {remaining > 0 ? `You can retry in ${remaining} s.` : 'You can retry now.'}
          </p>
        )}
      </div>
      <div className="notice-actions">
        {error.kind === 'unauthorized' && onEnterKey && (
          <button type="button" className="btn btn-primary" onClick={onEnterKey}>Enter API key</button>
        )}
        {onRetry && (error.kind === 'network' || error.kind === 'server' || error.kind === 'busy') && (
          <button type="button" className="btn" onClick={onRetry} disabled={remaining !== null && remaining > 0}>
            Retry
          </button>
        )}
        {onDismiss && <button type="button" className="btn btn-ghost" onClick={onDismiss}>Dismiss</button>}
      </div>
    </div>
  );
}
