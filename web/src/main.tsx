import { createHashHistory } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

const history = createHashHistory();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App history={history} />
  </StrictMode>,
);
