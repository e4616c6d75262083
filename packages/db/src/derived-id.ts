import { createHash } from 'node:crypto';

/**
 * A name-based event id: the same name always gives the same UUID (version 5 layout over
 * SHA-256 instead of SHA-1), so an event rebuilt by a replay (a summary, a late record, an
 * invoice) carries the id the first run published: the outbox skips it (`skipExistingIds`) and
 * consumers' inboxes drop it as already applied.
 */
export function derivedEventId(...parts: readonly string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
