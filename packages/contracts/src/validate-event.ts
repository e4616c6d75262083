// Validation of domain events: the envelope, then the data schema of the event's type.
// Producers validate before writing to the outbox (`buildEvent` does it), consumers validate
// what they read; a failure is a ContractViolationError, which consumers dead-letter.
import { AnyEnvelope } from './envelope';
import { ContractViolationError } from './errors';
import { eventDefinition, eventEnvelopeSchema, isEventType, type DomainEvent } from './event-catalog';
import { validateBody } from './validate';

/** The outcome of `validateEvent`. */
export type EventValidationResult = { ok: true; event: DomainEvent } | { ok: false; errors: string[] };

/** Checks that `value` is a domain event of a known type, version and valid data. */
export function validateEvent(value: unknown): EventValidationResult {
  const type = isObject(value) ? value['type'] : undefined;

  if (isEventType(type)) {
    const result = validateBody(eventEnvelopeSchema(type), value);
    if (result.ok) return { ok: true, event: result.value as DomainEvent };
    const expected = eventDefinition(type).version;
    const version = isObject(value) ? value['version'] : undefined;
    const errors = result.errors.map((error) =>
      // A version this contract does not know deserves a clearer line than "must be equal to 1".
      error.startsWith('version: must be equal to') && Number.isInteger(version)
        ? `version: unsupported version ${String(version)} of "${type}" (this contract knows version ${expected})`
        : error,
    );
    return { ok: false, errors };
  }

  // Unknown or missing type: check what can be checked without it.
  const result = validateBody(AnyEnvelope, value);
  let errors = result.ok ? [] : result.errors;
  if (typeof type === 'string') {
    errors = [`type: unknown event type ${JSON.stringify(type)}`, ...errors.filter((e) => !e.startsWith('type: '))];
  }
  return { ok: false, errors };
}

/** Returns `value` as a domain event, or throws `ContractViolationError` listing every problem. */
export function assertValidEvent(value: unknown): DomainEvent {
  const result = validateEvent(value);
  if (!result.ok) throw new ContractViolationError(result.errors, 'event');
  return result.event;
}

/**
 * Parses a Kafka message value (JSON) into a valid domain event, or throws
 * `ContractViolationError` (unparseable JSON included: it is just as permanent).
 */
export function parseEvent(raw: string | Uint8Array | null | undefined): DomainEvent {
  if (raw === null || raw === undefined) throw new ContractViolationError(['message has no value'], 'event');
  const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ContractViolationError([`not JSON: ${(error as Error).message}`], 'event');
  }
  return assertValidEvent(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
