import { activeKey, decideNextKey, KEY_EXPIRY_SLACK_MS, verifiableKeys, type KeyWindow } from './signing-keys';

const DAY = 86_400_000;
const policy = { rotationMs: 30 * DAY, prepublishMs: DAY, accessTokenTtlMs: 15 * 60_000 };
const t0 = new Date('2025-03-01T00:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

function key(kid: string, notBefore: Date): KeyWindow {
  const next = decideNextKey([], notBefore, policy)!;
  return { kid, ...next };
}

describe('signing key rotation', () => {
  it('given no key, creates one that signs at once and verifies past its last token', () => {
    const next = decideNextKey([], t0, policy)!;
    expect(next.notBefore).toEqual(t0);
    expect(next.signsUntil).toEqual(at(30 * DAY));
    expect(next.expiresAt).toEqual(at(30 * DAY + policy.accessTokenTtlMs + KEY_EXPIRY_SLACK_MS));
  });

  it('given a fresh key, does nothing until the pre-publication window', () => {
    const k1 = key('k1', t0);
    expect(decideNextKey([k1], at(29 * DAY - 1), policy)).toBeNull();
    const next = decideNextKey([k1], at(29 * DAY), policy)!;
    expect(next.notBefore).toEqual(k1.signsUntil); // takes over exactly when k1 stops
  });

  it('given a published successor, does nothing more', () => {
    const k1 = key('k1', t0);
    const k2 = key('k2', k1.signsUntil);
    expect(decideNextKey([k1, k2], at(29 * DAY + 1), policy)).toBeNull();
  });

  it('given keys that all stopped signing (service down a long time), signs at once again', () => {
    const k1 = key('k1', t0);
    expect(decideNextKey([k1], at(40 * DAY), policy)!.notBefore).toEqual(at(40 * DAY));
  });

  it('the old key stays verifiable after the successor takes over: rotation keeps old tokens valid', () => {
    const k1 = key('k1', t0);
    const k2 = key('k2', k1.signsUntil);
    const justAfter = at(30 * DAY + 1);
    expect(activeKey([k1, k2], justAfter)?.kid).toBe('k2');
    expect(activeKey([k1, k2], at(30 * DAY - 1))?.kid).toBe('k1');
    expect(verifiableKeys([k1, k2], justAfter).map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(verifiableKeys([k1, k2], k1.expiresAt).map((k) => k.kid)).toEqual(['k2']);
  });
});
