// CloudEvents 1.0 in structured JSON mode (`application/cloudevents+json`: one event;
// `application/cloudevents-batch+json`: a JSON array of them) -> our usage event body, so a
// producer already sending CloudEvents (OpenMeter-style clients) switches by changing the URL.
//
// The mapping:
//   id               -> id           (required by CloudEvents, so never generated here)
//   subject          -> customerId   (optional in CloudEvents, required by us)
//   type             -> metric       (so it must be a metric key: "API_CALL")
//   time             -> timestamp    (RFC 3339; an offset such as "+02:00" is converted to UTC)
//   data.amount      -> amount       (number or decimal string; `data.value` is accepted instead;
//                                     neither: 1, the event counts one)
//   data.<other>     -> properties.<other>   (scalars only, as our properties)
//   source           checked (required by CloudEvents), not kept
//   specversion      must be "1.0"
//   datacontenttype  absent or a JSON media type (`*/json`, `*/*+json`): data must be JSON
//   data_base64      refused: binary data carries no amount we can read
//   extensions       ignored (CloudEvents allows them); a member that is no attribute name
//                    (`customerId`) and a top-level `amount`/`value` are refused, not dropped
// Every error names the CloudEvents attribute (`subject`, `data.amount`), not our field.
//
// A null attribute counts as absent (the JSON format says so), and so does a null `data`
// (no payload: the event counts one).
// NOTE: CloudEvents makes (source, id) unique, we make (organization, id): a producer with
// several sources must keep its ids unique across them, or events are counted once.
import { ISO_DATE_TIME_UTC_PATTERN } from '@usageflow/contracts';
import {
  normalizeBatch,
  normalizeUsageEvent,
  type FieldError,
  type NormalizeOptions,
  type NormalizeResult,
  type NormalizedBatch,
} from './normalize';

/** A CloudEvent mapped to our body, and how to name a field of that body after the CloudEvent. */
export interface MappedCloudEvent {
  ok: true;
  body: Record<string, unknown>;
  /** The CloudEvents attribute a body field came from (`customerId` -> `subject`). */
  attributeOf: (field: string) => string;
}

/** A CloudEvent we cannot map, with every problem found. */
export interface RefusedCloudEvent {
  ok: false;
  errors: FieldError[];
}

const JSON_MEDIA_TYPE = /^[^/\s;]+\/([^/\s;]+\+)?json\s*(;.*)?$/i;
const UTC_INSTANT = new RegExp(ISO_DATE_TIME_UTC_PATTERN);
// CloudEvents attribute names, extensions included (spec: lowercase ASCII letters and digits).
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Maps one CloudEvent (parsed JSON) to a usage event body; the body is validated by `normalizeUsageEvent`. */
export function fromCloudEvent(ce: unknown): MappedCloudEvent | RefusedCloudEvent {
  if (!isObject(ce)) return { ok: false, errors: [{ field: '', message: 'must be object' }] };
  const errors: FieldError[] = [];

  const specversion = ce['specversion'];
  if (isAbsent(specversion)) errors.push(required('specversion'));
  else if (specversion !== '1.0') errors.push({ field: 'specversion', message: 'must be equal to "1.0"' });

  const source = ce['source'];
  if (isAbsent(source)) errors.push(required('source'));
  else if (typeof source !== 'string' || source === '') {
    errors.push({ field: 'source', message: 'must be a non-empty string' });
  }

  // id, subject and type only need to be there: their content is checked as id, customerId and
  // metric by the contract, and reported under their own names.
  const id = ce['id'];
  if (isAbsent(id)) errors.push(required('id'));
  const subject = ce['subject'];
  if (isAbsent(subject)) errors.push(required('subject', 'the customer the usage is billed to'));
  const type = ce['type'];
  if (isAbsent(type)) errors.push(required('type', 'the metric, e.g. "API_CALL"'));

  const datacontenttype = ce['datacontenttype'];
  if (!isAbsent(datacontenttype) && (typeof datacontenttype !== 'string' || !JSON_MEDIA_TYPE.test(datacontenttype))) {
    errors.push({ field: 'datacontenttype', message: 'must be a JSON media type (application/json or */*+json)' });
  }
  if (!isAbsent(ce['data_base64'])) {
    errors.push({ field: 'data_base64', message: 'is not supported: send the data as a JSON object in `data`' });
  }

  for (const name of Object.keys(ce)) {
    if (ATTRIBUTE_NAME.test(name)) {
      // Valid extension names, but surely meant as the amount: counting 1 instead would bill wrong.
      if (name === 'amount' || name === 'value') {
        errors.push({ field: name, message: `belongs in data (data.${name}), not beside the attributes` });
      }
    } else if (name !== 'data_base64') {
      errors.push({ field: name, message: 'is not a CloudEvents attribute (names are lowercase letters and digits)' });
    }
  }

  const data = ce['data'];
  let amount: unknown = 1;
  let attributeOf = attributeOfAmount;
  let properties: Record<string, unknown> = {};
  if (!isAbsent(data)) {
    if (!isObject(data)) {
      errors.push({ field: 'data', message: 'must be object' });
    } else {
      if (data['amount'] !== undefined && data['value'] !== undefined) {
        errors.push({ field: 'data.value', message: 'must not be sent together with data.amount' });
      } else if (data['amount'] !== undefined) {
        amount = data['amount'];
      } else if (data['value'] !== undefined) {
        amount = data['value'];
        attributeOf = attributeOfValue;
      }
      properties = propertiesOf(data);
    }
  }

  if (errors.length > 0) return { ok: false, errors };

  const body: Record<string, unknown> = { id, customerId: subject, metric: type, amount, properties };
  const time = ce['time'];
  if (!isAbsent(time)) body['timestamp'] = typeof time === 'string' ? toUtcInstant(time) : time;
  return { ok: true, body, attributeOf };
}

/** Maps and normalizes one CloudEvent; errors name CloudEvents attributes. */
export function normalizeCloudEvent(ce: unknown, options: NormalizeOptions): NormalizeResult {
  const mapped = fromCloudEvent(ce);
  if (!mapped.ok) return mapped;
  const result = normalizeUsageEvent(mapped.body, options);
  if (result.ok) return result;
  return {
    ok: false,
    errors: result.errors.map((error) => ({ field: mapped.attributeOf(error.field), message: error.message })),
  };
}

/** Maps and normalizes a CloudEvents batch (the parsed JSON array), event by event. */
export function normalizeCloudEventBatch(events: readonly unknown[], options: NormalizeOptions): NormalizedBatch {
  return normalizeBatch(events, options, normalizeCloudEvent);
}

function attributeOfAmount(field: string): string {
  return field === 'amount' ? 'data.amount' : attributeOfOther(field);
}

function attributeOfValue(field: string): string {
  return field === 'amount' ? 'data.value' : attributeOfOther(field);
}

function attributeOfOther(field: string): string {
  switch (field) {
    case 'customerId':
      return 'subject';
    case 'metric':
      return 'type';
    case 'timestamp':
      return 'time';
    default:
      // `properties`, `properties.model`, `properties["a b"]` came from `data`.
      return field.startsWith('properties') ? `data${field.slice('properties'.length)}` : field;
  }
}

/** The members of `data` other than the amount, as properties (the contract refuses non-scalars). */
function propertiesOf(data: Record<string, unknown>): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    if (key === 'amount' || key === 'value') continue;
    // A plain assignment to "__proto__" would set the prototype and drop the member.
    if (key === '__proto__') Object.defineProperty(properties, key, { value: data[key], enumerable: true });
    else properties[key] = data[key];
  }
  return properties;
}

/**
 * An RFC 3339 time with an offset (or a lowercase t/z) as our canonical UTC instant; anything
 * else unchanged, for the contract to refuse with its own message. The calendar is checked here
 * because Date.parse rolls "02-30" over into March instead of refusing it.
 */
function toUtcInstant(time: string): string {
  if (UTC_INSTANT.test(time)) return time;
  const match = RFC_3339.exec(time);
  if (!match) return time;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHour = Number(match[8] ?? 0);
  const offsetMinute = Number(match[9] ?? 0);
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59;
  return valid ? new Date(Date.parse(time)).toISOString() : time;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function required(field: string, what?: string): FieldError {
  return { field, message: what ? `is required: ${what}` : 'is required' };
}

function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
