// The product-photo page: a photo in, its product mask found and corrected, a mode chosen (new background,
// extend to a format, repaint an area), then one job through the shared job tracking and the result beside
// the original.
import { useMutation } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { useBaseModel, useHelperModels, useModels, useNativeSize } from '../../api/queries';
import type { GenerateCreate } from '../../api/types';
import { useSetSettingsOpen } from '../../state/dialogs';
import { useJobActions, useJobs } from '../../state/jobs';
import type { LoadedPhoto } from './decode';
import { MaskEditor } from './MaskEditor';
import type { PhotoFieldsProps } from './ModeFields';
import { DEFAULT_PHOTO_SETTINGS, type PhotoSettings } from './photo';
import { PhotoForm } from './PhotoForm';
import { PhotoPicker } from './PhotoPicker';
import { PhotoResult } from './PhotoResult';
import { usePhotoChoice } from './search';
import { useMaskEditor } from './useMaskEditor';

const MASK_HINT: Record<PhotoSettings['mode'], string> = {
  background: 'The marked part is kept exactly; everything else becomes the new scene. Without marks the product is found for you.',
  outpaint: 'Extending keeps the whole photo; the mask is not needed here.',
  inpaint: 'The marked part is repainted (or everything else, if you choose so below).',
};

function LatestResult() {
  const jobs = useJobs();
  const latest = jobs.order.map((id) => jobs.byId[id]).find((job) => job.origin === 'photo');
  if (!latest) {
    return <p className="muted empty-state small">The result appears here beside the original, and in the gallery.</p>;
  }
  return <PhotoResult job={latest} />;
}

export function PhotoPage() {
  const [photo, setPhoto] = useState<LoadedPhoto | null>(null);
  const [local, setLocal] = useState<PhotoSettings>(DEFAULT_PHOTO_SETTINGS);
  const { mode, format, choose } = usePhotoChoice();
  const settings: PhotoSettings = { ...local, mode, format };
  const set = useCallback<PhotoFieldsProps['set']>((field, value) => {
    if (field === 'mode' || field === 'format') choose({ [field]: value });
    else setLocal((current) => ({ ...current, [field]: value }));
  }, [choose]);
  const editor = useMaskEditor(photo?.width ?? 1, photo?.height ?? 1);
  const { data: models = [] } = useModels();
  const baseModel = useBaseModel();
  const nativeSize = useNativeSize();
  const { data: controlnets = [] } = useHelperModels('controlnets');
  const { data: upscalers = [] } = useHelperModels('upscalers');
  const setSettingsOpen = useSetSettingsOpen();
  const { startJob } = useJobActions();
  const start = useMutation({ mutationFn: (body: GenerateCreate) => startJob(body, 'photo') });
  return (
    <div className="photo-layout">
      <div className="photo-workspace">
        <h1 className="panel-title">Product photo</h1>
        <PhotoPicker photo={photo} onPhoto={setPhoto} />
        {photo && <MaskEditor photo={photo} editor={editor} hint={MASK_HINT[mode]} />}
        <LatestResult />
      </div>
      <section className="panel form-panel" aria-label="Settings">
        <PhotoForm value={settings} set={set} photo={photo} editor={editor} models={models} baseModel={baseModel}
          nativeSize={nativeSize} helpers={{ controlnets, upscalers }} onSubmit={async (body) => { await start.mutateAsync(body); }}
          onEnterKey={() => setSettingsOpen(true)} />
      </section>
    </div>
  );
}
