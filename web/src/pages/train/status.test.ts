import { describe, expect, it } from 'vitest';
import { EMPTY_LOG, mergeLog, seriesWithValues } from './log';
import { formatDuration, formatNumber, generationModel, isLive, waitingText } from './status';
import { trainingRun } from './fixtures';

describe('run status in words', () => {
  it('says where a queued run waits and why', () => {
    expect(waitingText({ position: 1, waiting_reason: null })).toBe('Next in the training queue');
    expect(waitingText({ position: 2, waiting_reason: 'another run is training (shoes-a)' })).toBe(
      '2nd in the training queue: another run is training (shoes-a)');
    expect(waitingText({ position: 3, waiting_reason: null })).toBe('3rd in the training queue');
    expect(waitingText({ position: 12, waiting_reason: null })).toBe('12th in the training queue');
    expect(waitingText({ position: null, waiting_reason: 'no training worker is running' })).toBe(
      'In the training queue: no training worker is running');
  });

  it('formats durations and numbers', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(3900)).toBe('1 h 05 min');
    expect(formatDuration(null)).toBe('–');
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(0.0001)).toBe('1.0e-4');
    expect(formatNumber(2)).toBe('2');
  });

  it('knows the live states and the model to generate with', () => {
    expect(isLive({ status: 'queued' })).toBe(true);
    expect(isLive({ status: 'stopped' })).toBe(false);
    const run = trainingRun({ checkpoints: [{ name: 'sneakers/checkpoint-8', step: 8 },
      { name: 'sneakers/checkpoint-16', step: 16 }] });
    expect(generationModel(run)).toBe('sneakers/checkpoint-16');
    expect(generationModel({ ...run, has_final: true })).toBe('sneakers');
    expect(generationModel({ ...run, checkpoints: [] })).toBeNull();
  });
});

describe('the incremental log', () => {
  it('appends new records in step order and merges a step logged twice', () => {
    let log = mergeLog(EMPTY_LOG, { records: [{ step: 1, loss: 0.5, lr: 1e-4 }, { step: 2, loss: 0.4 }], last_step: 2 });
    expect(log.lastStep).toBe(2);
    log = mergeLog(log, { records: [{ step: 2, val_loss: 0.45 }, { step: 3, loss: 0.3 }], last_step: 3 });
    expect(log.records).toEqual([{ step: 1, loss: 0.5, lr: 1e-4 }, { step: 2, loss: 0.4, val_loss: 0.45 },
      { step: 3, loss: 0.3 }]);
    expect(log.lastStep).toBe(3);
    expect(seriesWithValues(log.records)).toEqual(['loss', 'val_loss']);
  });

  it('keeps the same object when nothing is new', () => {
    const log = mergeLog(EMPTY_LOG, { records: [{ step: 1, loss: 0.5 }], last_step: 1 });
    expect(mergeLog(log, { records: [], last_step: 1 })).toBe(log);
    expect(mergeLog(log, { records: [], last_step: 4 }).lastStep).toBe(4);
  });
});
