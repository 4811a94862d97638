import { ErrorNotice } from './components/ErrorNotice';
import { KeyIcon } from './components/Icons';
import { ImageViewer } from './components/ImageViewer';
import { SettingsPanel } from './components/SettingsPanel';
import { Toasts } from './components/Toasts';
import { GalleryPage } from './pages/GalleryPage';
import { GeneratePage } from './pages/GeneratePage';
import { ModelsPage } from './pages/ModelsPage';
import { PAGES, StudioProvider, useStudio, type Connection, type Page } from './state/studio';
import { isActive } from './state/jobs';

const PAGE_LABELS: Record<Page, string> = { generate: 'Generate', gallery: 'Gallery', models: 'Models' };
const CONNECTION_TEXT: Record<Connection, string> = {
  checking: 'Connecting…',
  online: 'Connected',
  'needs-key': 'API key needed',
  offline: 'Server offline',
  error: 'Server error',
};

function Header() {
  const { page, navigate, connection, setSettingsOpen, apiKey, jobs } = useStudio();
  const running = jobs.order.filter((id) => isActive(jobs.byId[id])).length;
  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">S</span>
        <span className="brand-name">Shoes AI <span className="brand-sub">Studio</span></span>
      </div>
      <nav aria-label="Pages" className="tabs">
        {PAGES.map((p) => (
          <a key={p} href={`#/${p}`} className={`tab ${page === p ? 'active' : ''}`}
            aria-current={page === p ? 'page' : undefined}
            onClick={(e) => { e.preventDefault(); navigate(p); }}>
            {PAGE_LABELS[p]}
            {p === 'generate' && running > 0 && <span className="tab-count" aria-label={`${running} running`}>{running}</span>}
          </a>
        ))}
      </nav>
      <div className="header-tools">
        <span className={`status-pill status-${connection}`} role="status" data-testid="connection">
          <span className="dot" aria-hidden="true" />{CONNECTION_TEXT[connection]}
        </span>
        <button type="button" className="btn btn-ghost" onClick={() => setSettingsOpen(true)}
          aria-label={apiKey ? 'API key settings (key saved)' : 'API key settings'} title="Connection settings">
          <KeyIcon /><span className="btn-label">API key</span>
        </button>
      </div>
    </header>
  );
}

function Shell() {
  const { page, connection, connectionError, setSettingsOpen, retryConnection } = useStudio();
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <Header />
      <main id="main" className="app-main" tabIndex={-1}>
        {connection !== 'online' && connection !== 'checking' && (
          <div className="connection-notice">
            <ErrorNotice error={connectionError} onEnterKey={() => setSettingsOpen(true)} onRetry={retryConnection} />
          </div>
        )}
        {page === 'generate' && <GeneratePage />}
        {page === 'gallery' && <GalleryPage />}
        {page === 'models' && <ModelsPage />}
      </main>
      <ImageViewer />
      <SettingsPanel />
      <Toasts />
    </>
  );
}

export function App() {
  return (
    <StudioProvider>
      <Shell />
    </StudioProvider>
  );
}
