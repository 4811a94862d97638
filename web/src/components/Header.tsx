// The top bar: the pages, how many of this tab's jobs are running, the connection, the API-key button.
import { Link } from '@tanstack/react-router';
import { useApiKey } from '../state/apiKey';
import { useConnection, type Connection } from '../state/connection';
import { useSetSettingsOpen } from '../state/dialogs';
import { isActive, useJobs } from '../state/jobs';
import { KeyIcon } from './Icons';

const PAGES = [
  { to: '/generate', label: 'Generate' },
  { to: '/gallery', label: 'Gallery' },
  { to: '/datasets', label: 'Datasets' },
  { to: '/train', label: 'Train' },
  { to: '/models', label: 'Models' },
  { to: '/photo', label: 'Product photo', short: 'Photo' },
] as const;

const CONNECTION_TEXT: Record<Connection, string> = {
  checking: 'Connecting…',
  online: 'Connected',
  'needs-key': 'API key needed',
  offline: 'Server offline',
  error: 'Server error',
};

function RunningCount() {
  const jobs = useJobs();
  const running = jobs.order.filter((id) => isActive(jobs.byId[id])).length;
  return running > 0 ? <span className="tab-count" aria-label={`${running} running`}>{running}</span> : null;
}

function ConnectionStatus() {
  const { connection } = useConnection();
  return (
    <span className={`status-pill status-${connection}`} role="status" data-testid="connection">
      <span className="dot" aria-hidden="true" />{CONNECTION_TEXT[connection]}
    </span>
  );
}

export function Header() {
  const apiKey = useApiKey();
  const setSettingsOpen = useSetSettingsOpen();
  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">S</span>
        <span className="brand-name">Shoes AI <span className="brand-sub">Studio</span></span>
      </div>
      <nav aria-label="Pages" className="tabs">
        {PAGES.map((page) => (
          <Link key={page.to} to={page.to} className="tab" activeOptions={{ includeSearch: false }}>
            {'short' in page ? (
              <><span className="tab-full">{page.label}</span><span className="tab-short" aria-hidden="true">{page.short}</span></>
            ) : page.label}
            {page.to === '/generate' && <RunningCount />}
          </Link>
        ))}
      </nav>
      <div className="header-tools">
        <ConnectionStatus />
        <button type="button" className="btn btn-ghost" onClick={() => setSettingsOpen(true)}
          aria-label={apiKey ? 'API key settings (key saved)' : 'API key settings'} title="Connection settings">
          <KeyIcon /><span className="btn-label">API key</span>
        </button>
      </div>
    </header>
  );
}
