// A dataset's check report: what training will use, the images' sizes, shapes and colour modes, duplicates,
// caption problems, and every file that is skipped or was refused at upload, named with the reason.
import type { DatasetReportPublic, RejectedFilePublic } from '../../api/types';
import { countsText, skippedByReason, spreadText, type NamedFile } from './report';

function FileList({ title, files, testId }: { title: string; files: NamedFile[]; testId?: string }) {
  return (
    <details className="report-files" open={files.length <= 10} data-testid={testId}>
      <summary><strong>{title}</strong> <span className="badge">{files.length}</span></summary>
      <ul>
        {files.map((f) => <li key={`${f.file}:${f.reason}`}><span className="mono">{f.file}</span>
          {f.reason && <span className="muted">: {f.reason}</span>}</li>)}
      </ul>
    </details>
  );
}

export function DatasetReport({ report, rejected }: { report: DatasetReportPublic; rejected: RejectedFilePublic[] }) {
  const ok = report.ready_to_train > 0 && !Object.keys(report.problems).length;
  const facts = [
    ['Images', `${report.images} files (${report.ready_to_train} ready to train)`],
    ['Captions', String(report.captions)],
    ['Width', spreadText(report.width, ' px')],
    ['Height', spreadText(report.height, ' px')],
    ['Aspect ratios', countsText(report.aspect_ratios)],
    ['Colour modes', countsText(report.color_modes)],
    ['File formats', countsText(report.file_formats)],
    ['Caption length', spreadText(report.caption_words, ' words')],
    ['Common words', countsText(report.common_words)],
  ];
  const skipped = skippedByReason(report);
  return (
    <section className="dataset-report" aria-labelledby="report-title" data-testid="dataset-report">
      <h3 id="report-title" className="section-title">Check report</h3>
      <p className={`notice ${ok ? 'notice-ok' : report.ready_to_train ? 'notice-warn' : 'notice-error'}`}
        data-testid="report-verdict">{report.verdict}</p>
      <dl className="meta-list compact">
        {facts.map(([label, value]) => <div key={label} className="meta-pair"><dt>{label}</dt><dd>{value}</dd></div>)}
      </dl>
      {rejected.length > 0 && (
        <FileList title="Refused at upload (not stored)" files={rejected} testId="report-rejected" />
      )}
      {skipped.map((group) => <FileList key={group.label} title={`Skipped: ${group.label.toLowerCase()}`}
        files={group.files} testId="report-skipped" />)}
      {report.caption_problems.length > 0 && (
        <FileList title="Caption problems" files={report.caption_problems.map((p) => ({ file: p, reason: '' }))} />
      )}
      {report.duplicates.length > 0 && (
        <FileList title="Duplicate images (same bytes: these products count double)"
          files={report.duplicates.map((group) => ({ file: group.join(' = '), reason: `${group.length} copies` }))} />
      )}
      {report.exif_rotated.length > 0 && (
        <FileList title="Rotated by their EXIF tag (trained upright)"
          files={report.exif_rotated.map((file) => ({ file, reason: 'rotated' }))} />
      )}
    </section>
  );
}
