// The Models page's address: the metric its score charts plot next to the catalogue score
// (#/models?metric=sharpness_ratio), so a chart can be bookmarked or shared like a gallery search.
import { useNavigate, useSearch } from '@tanstack/react-router';
import { useCallback } from 'react';
import { MAIN_METRIC } from './scores';

export interface ModelsSearch {
  /** A checkpoint metric name (catalogue_score when absent). */
  metric?: string;
}

const METRIC_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** The route's validateSearch: a metric name or nothing; whether it has values is the chart's business. */
export function validateModelsSearch(raw: Record<string, unknown>): ModelsSearch {
  const metric = typeof raw.metric === 'string' && METRIC_NAME.test(raw.metric) && raw.metric !== MAIN_METRIC
    ? raw.metric : undefined;
  return { metric };
}

/** The metric in the address and the way to change it (replacing the entry: a metric is not a page). */
export function useChartMetric(): [string | undefined, (metric: string) => void] {
  const { metric } = useSearch({ from: '/models' });
  const navigate = useNavigate({ from: '/models' });
  const setMetric = useCallback((next: string) => {
    void navigate({ search: (current) => ({ ...current, metric: next === MAIN_METRIC ? undefined : next }),
      replace: true, resetScroll: false });
  }, [navigate]);
  return [metric, setMetric];
}
