// A run's evaluation on its card: the best checkpoint (with the rule that picked it and a way to generate with it)
// and the score-versus-step chart with its metric select; the evaluation's start, progress and end (RunEvaluation).
import { lazy, Suspense, useMemo } from 'react';
import type { RunPublic } from '../../api/types';
import { useGenerateWith } from '../../state/generateForm';
import { RunEvaluation } from './RunEvaluation';
import { formatScore, metricLabel, metricsWithValues, plottedMetric, scoreRows } from './scores';
import { useChartMetric } from './search';

// The chart library is most of the chart's weight: loaded with the first evaluated run, not with the app.
const ScoreChart = lazy(() => import('./ScoreChart').then((module) => ({ default: module.ScoreChart })));

export function RunScores({ run }: { run: RunPublic }) {
  const [asked, setMetric] = useChartMetric();
  const generateWith = useGenerateWith();
  const rows = useMemo(() => scoreRows(run.scores), [run.scores]);
  const available = useMemo(() => metricsWithValues(run.scores), [run.scores]);
  if (!run.scores.length) {
    return (
      <section className="run-scores" aria-label={`Scores of ${run.name}`}>
        <p className="muted small figure-empty" data-testid="not-evaluated">
          Not evaluated yet: an evaluation scores every checkpoint and picks the best one (or
          run <code>shoegen evaluate {run.name}</code>).</p>
        <RunEvaluation run={run} />
      </section>
    );
  }
  const metric = plottedMetric(asked, available);
  const best = run.best;
  const bestName = `${run.name}/best`;
  return (
    <section className="run-scores" aria-label={`Scores of ${run.name}`}>
      <div className="scores-head">
        <span className="scores-title">Scores by step</span>
        <select aria-label={`Metric of ${run.name}`} value={metric} onChange={(e) => setMetric(e.target.value)}>
          {available.map((m) => <option key={m} value={m}>{metricLabel(m)}</option>)}
        </select>
      </div>
      {best ? (
        <div className="best-row">
          <span className="badge badge-best" title={best.rule} data-testid="best-badge">
            best: {best.model} ({best.metric} {formatScore(best.value)})</span>
          <button type="button" className="btn btn-small" title={`Select ${bestName} in the generate form`}
            onClick={() => generateWith(bestName, bestName)}>Use best</button>
        </div>
      ) : <p className="muted small">No checkpoint has a value for the rule&apos;s metric, so none is picked.</p>}
      <RunEvaluation run={run} />
      <Suspense fallback={<div className="score-chart-loading skeleton" aria-hidden="true" />}>
        <ScoreChart rows={rows} metric={metric} best={best} runName={run.name} />
      </Suspense>
    </section>
  );
}
