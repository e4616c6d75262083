// Webhook signatures per the Standard Webhooks specification (https://www.standardwebhooks.com),
// so a receiver can verify them with any off-the-shelf library: HMAC-SHA256 over
// `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,<base64>`. Randomness and time come in
// as arguments.
import { createHmac } from 'node:crypto';

/** How a signing secret is shown to its owner and stored: `whsec_` + base64 of the key. */
export const SECRET_PREFIX = 'whsec_';

/** Random bytes in a new secret: 256 bits, the HMAC-SHA256 output size (the spec allows 24 to 64). */
export const SECRET_BYTES = 32;

// NOTE: the spec's bounds for a symmetric key; anything else is a corrupted or foreign secret.
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

// The id must not contain `.`, which delimits the signed content (the spec's warning), nor the
// space and comma that delimit the signature header; this alphabet covers UUIDs and `msg_...`.
const WEBHOOK_ID = /^[A-Za-z0-9_-]{1,255}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The three headers of a signed webhook request. */
export interface SignatureHeaders {
  'webhook-id': string;
  /** Unix seconds of this attempt (not of the event): receivers refuse stale ones (replays). */
  'webhook-timestamp': string;
  /** One `v1,<base64>` per secret, space-separated. */
  'webhook-signature': string;
}

/** A new endpoint signing secret from `randomBytes` (node:crypto's in production). */
export function generateSecret(randomBytes: (n: number) => Buffer): string {
  const bytes = randomBytes(SECRET_BYTES);
  if (bytes.length !== SECRET_BYTES) throw new Error(`a signing secret needs ${SECRET_BYTES} random bytes`);
  return SECRET_PREFIX + bytes.toString('base64');
}

/** The HMAC key of a `whsec_` secret; throws on anything that is not one. */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : null;
  // Buffer's base64 decoder skips invalid characters silently, so check the alphabet first.
  if (encoded === null || !BASE64.test(encoded)) throw new Error('a signing secret is "whsec_" + base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new Error(`a signing secret holds ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes`);
  }
  return key;
}

/**
 * The Standard Webhooks headers of one attempt. `secrets` holds the current secret, plus the
 * previous one during a rotation's overlap: each signs, and a receiver accepts any match, so
 * rotating never breaks a receiver still holding the old secret.
 * `body` must be the exact bytes sent: any re-serialization breaks the signature.
 */
export function signatureHeaders(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): SignatureHeaders {
  if (!WEBHOOK_ID.test(input.id)) throw new Error('a webhook id is 1-255 characters of [A-Za-z0-9_-]');
  if (input.secrets.length === 0) throw new Error('a webhook is signed with at least one secret');
  const seconds = Math.floor(input.timestamp.getTime() / 1000);
  if (!Number.isSafeInteger(seconds)) throw new Error('the webhook timestamp is not a valid date');
  const signed = `${input.id}.${seconds}.${input.body}`;
  const signatures = input.secrets.map(
    (secret) => `v1,${createHmac('sha256', secretKey(secret)).update(signed, 'utf8').digest('base64')}`,
  );
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signatures.join(' '),
  };
}
