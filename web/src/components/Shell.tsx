// The layout around every page (the router's root route): header, connection problems, the page, overlays.
import { Outlet } from '@tanstack/react-router';
import { useConnection, useRetryConnection } from '../state/connection';
import { useSetSettingsOpen } from '../state/dialogs';
import { ErrorNotice } from './ErrorNotice';
import { Header } from './Header';
import { ImageViewer } from './ImageViewer';
import { SettingsPanel } from './SettingsPanel';
import { Toasts } from './Toasts';

function ConnectionNotice() {
  const { connection, error } = useConnection();
  const setSettingsOpen = useSetSettingsOpen();
  const retry = useRetryConnection();
  if (connection === 'online' || connection === 'checking') return null;
  return (
    <div className="connection-notice">
      <ErrorNotice error={error} onEnterKey={() => setSettingsOpen(true)} onRetry={retry} />
    </div>
  );
}

export function Shell() {
  return (
    <>
      {/* The hash is the router's: the skip link moves the focus itself. */}
      <a className="skip-link" href="#main"
        onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <Header />
      <main id="main" className="app-main" tabIndex={-1}>
        <ConnectionNotice />
        <Outlet />
      </main>
      <ImageViewer />
      <SettingsPanel />
      <Toasts />
    </>
  );
}
