import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { SECRET_BYTES, generateSecret, secretKey, signatureHeaders } from './signing';

// Fixed "random" bytes: the secret is then known, and the tests repeatable.
const bytes = (fill: number) => (n: number) => Buffer.alloc(n, fill);
const current = generateSecret(bytes(0x11));
const previous = generateSecret(bytes(0x22));
const body = JSON.stringify({
  type: 'invoice.created',
  timestamp: '2025-04-01T01:00:10.000Z',
  data: { city: 'Zürich €' },
});
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

// The verifier checks the timestamp against the real clock (5 minutes tolerance), so these
// headers carry the current time.
function sign(secrets: string[], timestamp = new Date()) {
  return signatureHeaders({ id, timestamp, body, secrets });
}

describe('generateSecret', () => {
  it('is whsec_ + base64 of 32 random bytes', () => {
    const secret = generateSecret(bytes(0xff));
    expect(secret).toBe('whsec_' + Buffer.alloc(32, 0xff).toString('base64'));
    expect(secretKey(secret)).toEqual(Buffer.alloc(SECRET_BYTES, 0xff));
  });

  it('refuses a random source that returns too few bytes', () => {
    expect(() => generateSecret(() => Buffer.alloc(16))).toThrow(/32 random bytes/);
  });

  it('produces secrets the independent verifier accepts', () => {
    const secret = generateSecret(randomBytes);
    expect(() => new Webhook(secret).verify(body, sign([secret]))).not.toThrow();
  });
});

describe('signatureHeaders', () => {
  it('matches the known answer of the specification example', () => {
    const headers = signatureHeaders({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: new Date(1614265330_000),
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers).toEqual({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('sends the timestamp as whole unix seconds, rounded down', () => {
    const headers = sign([current], new Date('2025-04-01T01:00:10.999Z'));
    expect(headers['webhook-timestamp']).toBe(String(Date.UTC(2025, 3, 1, 1, 0, 10) / 1000));
  });

  it('verifies with the standardwebhooks library for one secret', () => {
    const headers = sign([current]);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(current).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('during a rotation, signs with both secrets and either one verifies', () => {
    const headers = sign([current, previous]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(generateSecret(bytes(0x33))).verify(body, headers)).toThrow(WebhookVerificationError);
  });

  it('fails verification for a tampered body', () => {
    const headers = sign([current]);
    expect(() => new Webhook(current).verify(body.replace('Zürich', 'Zurich'), headers)).toThrow(
      'No matching signature found',
    );
  });

  it('fails verification with a wrong secret', () => {
    const headers = sign([current]);
    expect(() => new Webhook(previous).verify(body, headers)).toThrow('No matching signature found');
  });

  it('fails verification for an old timestamp, and for a changed id or timestamp', () => {
    const old = sign([current], new Date(Date.now() - 10 * 60_000));
    expect(() => new Webhook(current).verify(body, old)).toThrow('Message timestamp too old');

    const headers = sign([current]);
    const otherId = { ...headers, 'webhook-id': 'msg_other' };
    expect(() => new Webhook(current).verify(body, otherId)).toThrow('No matching signature found');
    const otherTime = { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) };
    expect(() => new Webhook(current).verify(body, otherTime)).toThrow('No matching signature found');
  });

  it('refuses ids that could shift the signed content, and no secret at all', () => {
    expect(() => signatureHeaders({ id: 'msg.1', timestamp: new Date(), body, secrets: [current] })).toThrow(
      /webhook id/,
    );
    expect(() => signatureHeaders({ id: '', timestamp: new Date(), body, secrets: [current] })).toThrow(/webhook id/);
    expect(() => signatureHeaders({ id, timestamp: new Date(), body, secrets: [] })).toThrow(/at least one secret/);
    expect(() => signatureHeaders({ id, timestamp: new Date(NaN), body, secrets: [current] })).toThrow(/timestamp/);
  });
});

describe('secretKey', () => {
  it('accepts 24 to 64 bytes and refuses the rest', () => {
    const withBytes = (n: number) => 'whsec_' + Buffer.alloc(n, 7).toString('base64');
    expect(secretKey(withBytes(24))).toHaveLength(24);
    expect(secretKey(withBytes(64))).toHaveLength(64);
    expect(() => secretKey(withBytes(23))).toThrow(/24 to 64 bytes/);
    expect(() => secretKey(withBytes(65))).toThrow(/24 to 64 bytes/);
  });

  it('refuses a secret without the prefix or with characters outside base64', () => {
    const valid = generateSecret(bytes(1));
    expect(() => secretKey(valid.slice('whsec_'.length))).toThrow(/whsec_/);
    expect(() => secretKey(valid.replace('A', '*'))).toThrow(/whsec_/);
  });
});
