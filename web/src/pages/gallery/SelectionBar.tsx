// The selection's actions: a ZIP of the images, their metadata as JSON, and deleting them (after confirming).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type Dispatch, type SetStateAction } from 'react';
import { api } from '../../api/endpoints';
import { toApiError, type ApiError } from '../../api/http';
import { queryKeys } from '../../api/queries';
import type { GalleryImagePublic } from '../../api/types';
import { ConfirmDialog } from '../../components/Modal';
import { saveBlob, timestampForFile } from '../../lib/browser';
import { useToast } from '../../state/toasts';

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** Deletes one at a time, reporting each: an image already gone counts as deleted. */
async function deleteImages(ids: string[], onDeleted: (id: string) => void): Promise<number> {
  for (const id of ids) {
    try {
      await api.deleteImage(id);
    } catch (failure) {
      if (toApiError(failure).kind !== 'not_found') throw failure;
    }
    onDeleted(id);
  }
  return ids.length;
}

export function SelectionBar({ items, selected, onSelect, onError }: {
  items: GalleryImagePublic[];
  selected: Set<string>;
  onSelect: Dispatch<SetStateAction<Set<string>>>;
  onError: (error: ApiError) => void;
}) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const fail = (failure: unknown) => {
    const error = toApiError(failure);
    onError(error);
    toast(error.message, 'error');
  };
  const zip = useMutation({
    mutationFn: (ids: string[]) => api.exportZip(ids),
    onSuccess: (blob, ids) => {
      saveBlob(blob, `shoegen-gallery-${timestampForFile()}.zip`);
      toast(`ZIP of ${plural(ids.length, 'image')} downloaded.`);
    },
    onError: fail,
  });
  const metadata = useMutation({
    mutationFn: (ids: string[]) => api.exportMetadata(ids),
    onSuccess: (records) => {
      saveBlob(new Blob([JSON.stringify(records, null, 2)], { type: 'application/json' }),
        `shoegen-metadata-${timestampForFile()}.json`);
      toast(`Metadata of ${plural(records.length, 'image')} exported.`);
    },
    onError: fail,
  });
  const remove = useMutation({
    mutationFn: (ids: string[]) => deleteImages(ids, (id) => onSelect((current) => {
      const next = new Set(current);
      next.delete(id);
      return next;
    })),
    onSuccess: (count) => toast(`Deleted ${plural(count, 'image')}.`),
    onError: fail,
    onSettled: () => {
      setConfirming(false);
      return queryClient.invalidateQueries({ queryKey: queryKeys.gallery });
    },
  });

  const ids = [...selected];
  const working = zip.isPending || metadata.isPending || remove.isPending;
  const allLoadedSelected = items.length > 0 && items.every((item) => selected.has(item.id));
  return (
    <>
      <div className={`selection-bar ${selected.size ? 'active' : ''}`} role="toolbar" aria-label="Selection actions">
        <span className="selection-count" data-testid="selection-count">
          {selected.size ? `${selected.size} selected` : 'Select images to download or delete them'}
        </span>
        <button type="button" className="btn btn-small" disabled={!items.length}
          onClick={() => onSelect(allLoadedSelected ? new Set() : new Set([...selected, ...items.map((i) => i.id)]))}>
          {allLoadedSelected ? 'Unselect all' : 'Select all loaded'}
        </button>
        {selected.size > 0 && (
          <>
            <button type="button" className="btn btn-small" onClick={() => onSelect(new Set())}>Clear selection</button>
            <span className="spacer" />
            <button type="button" className="btn btn-small btn-primary" onClick={() => zip.mutate(ids)}
              disabled={working}>
              {zip.isPending ? 'Preparing…' : 'Download ZIP'}
            </button>
            <button type="button" className="btn btn-small" onClick={() => metadata.mutate(ids)} disabled={working}>
              {metadata.isPending ? 'Exporting…' : 'Export metadata'}
            </button>
            <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(true)}
              disabled={working}>Delete…</button>
          </>
        )}
      </div>
      <ConfirmDialog open={confirming} title={`Delete ${plural(selected.size, 'image')}?`}
        message={`${selected.size === 1 ? 'The image and its file are' : 'The images and their files are'} removed from the
          server. This cannot be undone.`.replace(/\s+/g, ' ')}
        confirmLabel="Delete" busy={remove.isPending} onCancel={() => setConfirming(false)}
        onConfirm={() => remove.mutate(ids)} />
    </>
  );
}
