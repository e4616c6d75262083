import { eventKey, eventTopic, type DomainEvent } from '@usageflow/contracts';
import { injectTraceHeaders } from '@usageflow/telemetry';
import type { IHeaders } from 'kafkajs';

/** A record to produce: key, bytes and string headers. */
export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/** A record as consumed, with the decoded domain event when the runner decodes. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface ConsumedEvent extends ConsumedMessage {
  event: DomainEvent;
}

/** Header names UsageFlow sets on every event record. */
export const HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  contentType: 'content-type',
} as const;

/**
 * Encodes a validated event as a record: JSON value, the topic table's key, and headers that let
 * a consumer route or deduplicate without parsing the body, plus the active trace context.
 */
export function encodeEvent(event: DomainEvent): { topic: string; message: OutgoingMessage } {
  return {
    topic: eventTopic(event),
    message: {
      key: eventKey(event),
      value: JSON.stringify(event),
      headers: injectTraceHeaders({
        [HEADERS.contentType]: 'application/json',
        [HEADERS.eventId]: event.id,
        [HEADERS.eventType]: event.type,
      }),
    },
  };
}

/** A header's value as a string (KafkaJS hands out buffers). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}
