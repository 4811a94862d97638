// Which overlay is open: the connection settings, and the image viewer with the images it pages through.
import type { GalleryImagePublic } from '../api/types';
import { createStateContext } from './createStateContext';

const settings = createStateContext('the settings panel', false);
export const SettingsOpenProvider = settings.Provider;
export const useSettingsOpen = settings.useValue;
export const useSetSettingsOpen = settings.useSetter;

export interface ViewerState {
  images: GalleryImagePublic[];
  index: number;
}

const viewer = createStateContext<ViewerState | null>('the image viewer', null);
export const ViewerProvider = viewer.Provider;
export const useViewer = viewer.useValue;
export const useSetViewer = viewer.useSetter;
