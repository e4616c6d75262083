// One usage event body as sent (`{"metric":"API_CALL","amount":1,"customerId":"user_123"}`, plus
// optional `id`, `timestamp`, `properties`) -> the `data` of a `usage.recorded` event, or the
// field errors that refuse it. This runs once per ingested event (100K events/s target): the
// validator is built once, and an accepted event allocates little beyond its own `data`.
//
// The checks, in order: the body's shape against the contract `UsageEventBody`; then, on a
// well-formed body, the two rules a schema cannot state: the amount as an exact decimal and the
// timestamp within [receivedAt - maxPastMs, receivedAt + maxFutureMs] (both edges accepted).
import {
  ContractViolationError,
  UsageEventBody,
  compileValidator,
  normalizeUsageAmount,
  type DataOf,
} from '@usageflow/contracts';

/** One problem with an event: the field, relative to the event (`amount`, `properties.model`), and what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

/** The `data` of a `usage.recorded` event. */
export type UsageRecordedData = DataOf<'usage.recorded'>;

/** What one event's normalization needs from outside: the clock's reading, the bounds, the id source. */
export interface NormalizeOptions {
  /** When the gateway received the event; the default timestamp and the reference of the bounds. */
  receivedAt: Date;
  /** How far after `receivedAt` a timestamp may be (sender clocks drift). */
  maxFutureMs: number;
  /** How far before `receivedAt` a timestamp may be. */
  maxPastMs: number;
  /** The id of an event sent without one (the caller passes `randomUUID`). */
  newId: () => string;
  /** The API key that sent the event, recorded on it. */
  apiKeyId?: string;
}

/** An accepted event, and whether its id was generated (the API returns it to the sender then). */
export interface NormalizedEvent {
  ok: true;
  data: UsageRecordedData;
  generatedId: boolean;
}

/** A refused event with every problem found. */
export interface RefusedEvent {
  ok: false;
  errors: FieldError[];
}

export type NormalizeResult = NormalizedEvent | RefusedEvent;

/** Normalizes one event; a batch passes each of its events to such a function. */
export type NormalizeOne = (input: unknown, options: NormalizeOptions) => NormalizeResult;

// Built once for the process. Ajv compiles on first use; the warm-up call below pays that at
// startup instead of on the first request (the single-event p99 target).
const validateBody = compileValidator(UsageEventBody);
validateBody({});

/** Validates and normalizes one usage event body. */
export function normalizeUsageEvent(input: unknown, options: NormalizeOptions): NormalizeResult {
  const checked = validateBody(input);
  // FieldIssue has FieldError's shape: the issues are returned as they are.
  if (!checked.ok) return { ok: false, errors: checked.issues };
  const body = checked.value;

  const receivedMs = options.receivedAt.getTime();
  let errors: FieldError[] | undefined;

  let amount = '';
  try {
    amount = normalizeUsageAmount(body.amount);
  } catch (error) {
    if (!(error instanceof ContractViolationError)) throw error;
    // Its lines read "amount: ..."; the field is carried apart here.
    errors = error.errors.map((line) => ({ field: 'amount', message: line.replace(/^amount: /, '') }));
  }

  let timestamp: string;
  if (body.timestamp === undefined) {
    timestamp = isoOf(options.receivedAt);
  } else {
    // The schema admits only canonical UTC instants, so Date.parse cannot be fooled by a zone.
    const eventMs = Date.parse(body.timestamp);
    const bound = timestampBoundError(eventMs, receivedMs, options);
    if (bound !== undefined) (errors ??= []).push({ field: 'timestamp', message: bound });
    timestamp = new Date(eventMs).toISOString();
  }

  if (errors) return { ok: false, errors };

  const generatedId = body.id === undefined;
  const eventId = body.id ?? options.newId();
  const receivedAt = isoOf(options.receivedAt);
  // NOTE: `properties` is the sender's (freshly parsed) object, not a copy: nothing mutates it.
  const properties = body.properties ?? {};
  const data: UsageRecordedData =
    options.apiKeyId === undefined
      ? { eventId, customerId: body.customerId, metric: body.metric, amount, timestamp, properties, receivedAt }
      : {
          eventId,
          customerId: body.customerId,
          metric: body.metric,
          amount,
          timestamp,
          properties,
          receivedAt,
          apiKeyId: options.apiKeyId,
        };
  return { ok: true, data, generatedId };
}

/** An accepted event of a batch, at its index in the request. */
export interface AcceptedAt {
  index: number;
  data: UsageRecordedData;
  generatedId: boolean;
}

/** A refused event of a batch, at its index in the request; prefix its fields with `prefixErrors`. */
export interface RefusedAt {
  index: number;
  errors: FieldError[];
}

/** A batch split into accepted and refused events, each list in request order. */
export interface NormalizedBatch {
  accepted: AcceptedAt[];
  refused: RefusedAt[];
}

/**
 * Normalizes each event of a batch on its own; whether one refusal refuses the whole batch is
 * the caller's decision. `normalizeOne` is the body format (CloudEvents passes its own).
 */
export function normalizeBatch(
  inputs: readonly unknown[],
  options: NormalizeOptions,
  normalizeOne: NormalizeOne = normalizeUsageEvent,
): NormalizedBatch {
  const accepted: AcceptedAt[] = [];
  const refused: RefusedAt[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const result = normalizeOne(inputs[index], options);
    if (result.ok) accepted.push({ index, data: result.data, generatedId: result.generatedId });
    else refused.push({ index, errors: result.errors });
  }
  return { accepted, refused };
}

/** A field path under a prefix: (`events[3]`, `amount`) -> `events[3].amount`; '' is the prefix itself. */
export function prefixField(prefix: string, field: string): string {
  if (field === '') return prefix;
  if (prefix === '' || field.startsWith('[')) return prefix + field;
  return `${prefix}.${field}`;
}

/** The errors of one event of a batch, named from the request's root (`events[3].amount`). */
export function prefixErrors(prefix: string, errors: readonly FieldError[]): FieldError[] {
  return errors.map((error) => ({ field: prefixField(prefix, error.field), message: error.message }));
}

function timestampBoundError(eventMs: number, receivedMs: number, options: NormalizeOptions): string | undefined {
  if (eventMs - receivedMs > options.maxFutureMs) {
    return `is too far in the future: more than ${options.maxFutureMs} ms after the event was received (${isoOf(options.receivedAt)})`;
  }
  if (receivedMs - eventMs > options.maxPastMs) {
    return `is too far in the past: more than ${options.maxPastMs} ms before the event was received (${isoOf(options.receivedAt)})`;
  }
  return undefined;
}

// The events of one batch (and requests received in the same millisecond) share receivedAt:
// format it once, not per event. Keyed by the instant, not the Date object, which is mutable.
let lastReceivedMs = Number.NaN;
let lastReceivedIso = '';

function isoOf(receivedAt: Date): string {
  const ms = receivedAt.getTime();
  if (ms !== lastReceivedMs) {
    lastReceivedIso = receivedAt.toISOString();
    lastReceivedMs = ms;
  }
  return lastReceivedIso;
}
