// The Datasets page's server state: the list, one dataset with its report, a page of its captions, the caption
// templates, and the changes (upload, register, caption edits, a template, delete).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import type { UploadOptions } from '../../api/http';
import type { DatasetItemsPublic } from '../../api/types';
import { queryKeys } from '../../api/queries';

export const CAPTIONS_PAGE_SIZE = 50;

export function useDatasets() {
  return useQuery({ queryKey: queryKeys.datasets, queryFn: ({ signal }) => api.datasets(signal) });
}

export function useDataset(name: string) {
  return useQuery({ queryKey: queryKeys.dataset(name), queryFn: ({ signal }) => api.dataset(name, signal) });
}

export function useDatasetItems(name: string, page: number) {
  return useQuery({
    queryKey: queryKeys.datasetItems(name, page),
    queryFn: ({ signal }) => api.datasetItems(name, (page - 1) * CAPTIONS_PAGE_SIZE, CAPTIONS_PAGE_SIZE, signal),
    placeholderData: keepPreviousData,
  });
}

export function useCaptionTemplates() {
  return useQuery({ queryKey: queryKeys.captionTemplates, queryFn: ({ signal }) => api.captionTemplates(signal),
    staleTime: Infinity });
}

/** After a change: the list and this dataset's report and captions are read again. */
function useRefresh() {
  const queryClient = useQueryClient();
  return (name?: string) => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.datasets, exact: true });
    if (name) void queryClient.invalidateQueries({ queryKey: queryKeys.dataset(name) });
  };
}

export function useAddDataset() {
  const refresh = useRefresh();
  const upload = useMutation({
    mutationFn: ({ form, ...options }: { form: FormData } & UploadOptions) => api.uploadDataset(form, options),
    onSuccess: () => refresh() });
  const register = useMutation({ mutationFn: api.registerDataset, onSuccess: () => refresh() });
  return { upload, register };
}

export function useSaveCaption(name: string, page: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { file: string; caption: string }) => api.saveCaption(name, body.file, body.caption),
    onSuccess: (item) => {
      queryClient.setQueryData<DatasetItemsPublic>(queryKeys.datasetItems(name, page), (held) => held && {
        ...held, items: held.items.map((i) => (i.file === item.file ? item : i)) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.dataset(name), exact: true }); // the report changes
    },
  });
}

export function useApplyTemplate(name: string) {
  const refresh = useRefresh();
  return useMutation({ mutationFn: (template: string) => api.applyCaptionTemplate(name, template),
    onSuccess: () => refresh(name) });
}

export function useDeleteDataset() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.deleteDataset(name),
    onSuccess: (_answer, name) => {
      queryClient.removeQueries({ queryKey: queryKeys.dataset(name) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasets, exact: true });
    },
  });
}
