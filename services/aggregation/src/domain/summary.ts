// A closed period's summary: when it may be taken, what it says, and its fingerprint. Pure.
import type { Aggregation, HighWaterMark } from '@usageflow/contracts';
import { createHash } from 'node:crypto';
import { canonicalDecimal } from './fold';

/** One plan metric's total over the period, as the event store computed it. */
export interface MetricTotal {
  metricKey: string;
  aggregation: Aggregation;
  quantity: string;
  eventCount: number;
  /** SHA-256 (hex) of the counted events' ids, sorted bytewise and joined by "\n". */
  eventIdsSha256: string;
}

/**
 * Whether the usage consumer has processed everything accepted before the closing: for every
 * partition the closing saw, its progress reached the high-water mark. A partition with no
 * progress yet is at offset 0.
 */
export function hasReached(marks: readonly HighWaterMark[], progress: ReadonlyMap<number, bigint>): boolean {
  return marks.every((m) => (progress.get(m.partition) ?? 0n) >= BigInt(m.offset));
}

/** The SHA-256 of the empty id list: a metric without events in the period. */
export const NO_EVENTS_SHA256 = createHash('sha256').update('').digest('hex');

/**
 * The fingerprint of a summary: SHA-256 of its canonical JSON (fixed key order, metrics sorted by
 * key, marks by partition), which includes each metric's digest of the ids it counted. A replay
 * that counts the same events reproduces it bit for bit; one event more or less changes it.
 */
export function summaryFingerprint(input: {
  subscriptionId: string;
  period: { start: string; end: string };
  highWaterMarks: readonly HighWaterMark[];
  metrics: readonly MetricTotal[];
}): string {
  const canonical = {
    subscriptionId: input.subscriptionId,
    period: { start: input.period.start, end: input.period.end },
    highWaterMarks: [...input.highWaterMarks]
      .sort((a, b) => a.partition - b.partition)
      .map((m) => ({ partition: m.partition, offset: m.offset })),
    metrics: [...input.metrics]
      .sort((a, b) => (a.metricKey < b.metricKey ? -1 : a.metricKey > b.metricKey ? 1 : 0))
      .map((m) => ({
        metricKey: m.metricKey,
        aggregation: m.aggregation,
        quantity: canonicalDecimal(m.quantity),
        eventCount: m.eventCount,
        eventIdsSha256: m.eventIdsSha256,
      })),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
