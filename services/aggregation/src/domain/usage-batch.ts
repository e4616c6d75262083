// A batch of raw usage records, as the consumer turns it into what is stored: each event's
// identity key, and the hourly rollup deltas of the events stored for the first time. Pure.
import { createHash } from 'node:crypto';
import { emptyFold, foldEvent, type UsageFold } from './fold';

/** A usage.recorded event as the consumer keeps it, with where it was read. */
export interface UsageRecord {
  organizationId: string;
  customerId: string;
  metric: string;
  amount: string;
  /** ISO 8601 UTC, as sent. */
  timestamp: string;
  /** Epoch milliseconds of `timestamp`. */
  ts: number;
  eventId: string;
  properties: Record<string, unknown>;
  receivedAt: string;
  partition: number;
  offset: string;
  /** The identity key: see eventKey. */
  key: string;
}

const HOUR_MS = 3_600_000;

/**
 * The identity of an event, (organizationId, eventId), as a UUID-shaped 128-bit key: the first
 * 16 bytes of SHA-256(organizationId ":" eventId). The organization id is a UUID, so the
 * separator cannot be forged; a collision needs a second preimage of SHA-256 truncated to 128
 * bits, which no tenant can compute against another tenant's ids.
 */
export function eventKey(organizationId: string, eventId: string): string {
  const h = createHash('sha256').update(organizationId).update(':').update(eventId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The start of the UTC hour containing `ts` (epoch ms). */
export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/** The first instant of the UTC month containing `ts`, and of the month after it. */
export function monthOf(ts: number): { start: Date; end: Date } {
  const d = new Date(ts);
  return {
    start: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)),
    end: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
  };
}

/** One rollup row's increment: the fold of a batch's events of one customer, metric and hour. */
export interface RollupDelta {
  organizationId: string;
  customerId: string;
  metric: string;
  hour: number;
  fold: UsageFold;
}

/**
 * The first arrival of each key in `records`, in order: a duplicate inside the batch (the
 * sender retried within the same fetch) is dropped here, before the database sees it.
 */
export function firstArrivals(records: readonly UsageRecord[]): UsageRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => !seen.has(r.key) && seen.add(r.key) !== undefined);
}

/** Groups events into rollup deltas by (organization, customer, metric, hour). */
export function rollupDeltas(records: readonly UsageRecord[]): RollupDelta[] {
  const groups = new Map<string, RollupDelta>();
  for (const r of records) {
    const hour = hourOf(r.ts);
    // NOTE: customer ids may contain any printable character, so the map key joins with NUL,
    // which the contracts forbid in ids.
    const id = `${r.organizationId}\u0000${r.customerId}\u0000${r.metric}\u0000${hour}`;
    let group = groups.get(id);
    if (!group) {
      group = { organizationId: r.organizationId, customerId: r.customerId, metric: r.metric, hour, fold: emptyFold() };
      groups.set(id, group);
    }
    foldEvent(group.fold, r);
  }
  return [...groups.values()];
}

/** The distinct (organization, customer, metric, hour, value) of a UNIQUE_COUNT property. */
export interface UniqueValueRow {
  organizationId: string;
  customerId: string;
  metric: string;
  hour: number;
  /** The value's JSON text. */
  value: string;
}

/**
 * The unique values to record for `records`, given which property each UNIQUE_COUNT metric
 * counts (keyed `organizationId:metric`). Events without the property add no value.
 */
export function uniqueValueRows(
  records: readonly UsageRecord[],
  uniqueProperties: ReadonlyMap<string, string>,
): UniqueValueRow[] {
  const rows = new Map<string, UniqueValueRow>();
  for (const r of records) {
    const property = uniqueProperties.get(`${r.organizationId}:${r.metric}`);
    if (property === undefined) continue;
    const raw = r.properties[property];
    if (raw === undefined || raw === null) continue;
    const value = JSON.stringify(raw);
    const hour = hourOf(r.ts);
    const id = `${r.organizationId}\u0000${r.customerId}\u0000${r.metric}\u0000${hour}\u0000${value}`;
    if (!rows.has(id))
      rows.set(id, { organizationId: r.organizationId, customerId: r.customerId, metric: r.metric, hour, value });
  }
  return [...rows.values()];
}
