// The studio: server state in one QueryClient, the pages behind a router, and a few small pieces of client
// state (settings panel, image viewer, toasts, this tab's jobs, the generate form), each in its own context.
import { QueryClientProvider } from '@tanstack/react-query';
import { createHashHistory, RouterProvider, type RouterHistory } from '@tanstack/react-router';
import { useState } from 'react';
import { createQueryClient } from './api/queryClient';
import { createAppRouter } from './router';
import { SettingsOpenProvider, ViewerProvider } from './state/dialogs';
import { GenerateFormProvider } from './state/generateForm';
import { JobsProvider } from './state/jobs';
import { ToastProvider } from './state/toasts';

export function App({ history }: { history?: RouterHistory }) {
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(() => createAppRouter(history ?? createHashHistory()));
  return (
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <SettingsOpenProvider>
          <ViewerProvider>
            <JobsProvider>
              <GenerateFormProvider>
                <RouterProvider router={router} />
              </GenerateFormProvider>
            </JobsProvider>
          </ViewerProvider>
        </SettingsOpenProvider>
      </ToastProvider>
    </QueryClientProvider>
  );
}
