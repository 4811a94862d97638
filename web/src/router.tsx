// The pages and their addresses. The hash keeps them working from any static host and from `shoegen serve`
// (#/generate, #/gallery?q=…, #/models?metric=…, #/datasets?name=…, #/train?run=…, #/photo?mode=…&format=…); search params are plain `key=value` pairs.
import { createRootRoute, createRoute, createRouter, Navigate, type RouterHistory } from '@tanstack/react-router';
import { Shell } from './components/Shell';
import { GalleryPage } from './pages/gallery/GalleryPage';
import { validateGallerySearch } from './pages/gallery/search';
import { DatasetsPage } from './pages/datasets/DatasetsPage';
import { validateDatasetsSearch } from './pages/datasets/search';
import { GeneratePage } from './pages/generate/GeneratePage';
import { validateGenerateSearch } from './pages/generate/search';
import { ModelsPage } from './pages/models/ModelsPage';
import { PhotoPage } from './pages/photo/PhotoPage';
import { validatePhotoSearch } from './pages/photo/search';
import { validateModelsSearch } from './pages/models/search';
import { validateTrainSearch } from './pages/train/search';
import { TrainPage } from './pages/train/TrainPage';

function ToGenerate() {
  return <Navigate to="/generate" replace />;
}

const rootRoute = createRootRoute({ component: Shell, notFoundComponent: ToGenerate });
const indexRoute = createRoute({ getParentRoute: () => rootRoute, path: '/', component: ToGenerate });
const generateRoute = createRoute({ getParentRoute: () => rootRoute, path: '/generate', component: GeneratePage,
  validateSearch: validateGenerateSearch });
const galleryRoute = createRoute({ getParentRoute: () => rootRoute, path: '/gallery', component: GalleryPage,
  validateSearch: validateGallerySearch });
const modelsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/models', component: ModelsPage,
  validateSearch: validateModelsSearch });
const datasetsRoute = createRoute({ getParentRoute: () => rootRoute, path: '/datasets', component: DatasetsPage,
  validateSearch: validateDatasetsSearch });
const trainRoute = createRoute({ getParentRoute: () => rootRoute, path: '/train', component: TrainPage,
  validateSearch: validateTrainSearch });
const photoRoute = createRoute({ getParentRoute: () => rootRoute, path: '/photo', component: PhotoPage,
  validateSearch: validatePhotoSearch });
const routeTree = rootRoute.addChildren([indexRoute, generateRoute, galleryRoute, modelsRoute, datasetsRoute,
  trainRoute, photoRoute]);

export function parseSearch(search: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(search.replace(/^\?/, '')));
}

export function stringifySearch(search: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function createAppRouter(history: RouterHistory) {
  return createRouter({ routeTree, history, parseSearch, stringifySearch });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
