// When JWT signing keys are made, used and retired. Pure: the key ring and the time come in.
//
// A key is published (signing_key.published) before it signs, so every service's projection
// knows it by the time tokens carry its kid; it signs for one rotation period; it stays
// verifiable until the last token it signed has expired. Rotation therefore never invalidates
// a token that was valid.

/** The time windows of one signing key. */
export interface KeyWindow {
  kid: string;
  notBefore: Date;
  signsUntil: Date;
  expiresAt: Date;
}

export interface KeyPolicy {
  /** How long one key signs. */
  rotationMs: number;
  /** How long before it signs a key is published. */
  prepublishMs: number;
  /** The access tokens' lifetime: a key stays verifiable this long after it stops signing. */
  accessTokenTtlMs: number;
}

/** Slack for clock differences between services verifying near a boundary. */
export const KEY_EXPIRY_SLACK_MS = 5 * 60_000;

/**
 * The next key to create at `now`, or null when the ring is fine. The first key (or a ring whose
 * keys all stopped signing) signs at once; otherwise the successor is created `prepublishMs`
 * before the newest key stops signing and takes over exactly then.
 */
export function decideNextKey(
  keys: readonly KeyWindow[],
  now: Date,
  policy: KeyPolicy,
): { notBefore: Date; signsUntil: Date; expiresAt: Date } | null {
  const newest = keys.reduce<KeyWindow | undefined>(
    (a, k) => (!a || k.signsUntil.getTime() > a.signsUntil.getTime() ? k : a),
    undefined,
  );
  let notBefore: number;
  if (!newest || newest.signsUntil.getTime() <= now.getTime()) notBefore = now.getTime();
  else if (newest.signsUntil.getTime() - now.getTime() <= policy.prepublishMs) notBefore = newest.signsUntil.getTime();
  else return null;
  const signsUntil = notBefore + policy.rotationMs;
  return {
    notBefore: new Date(notBefore),
    signsUntil: new Date(signsUntil),
    expiresAt: new Date(signsUntil + policy.accessTokenTtlMs + KEY_EXPIRY_SLACK_MS),
  };
}

/** The key that signs at `now`: the most recent whose window holds `now`. */
export function activeKey<K extends KeyWindow>(keys: readonly K[], now: Date): K | undefined {
  const t = now.getTime();
  return keys
    .filter((k) => k.notBefore.getTime() <= t && t < k.signsUntil.getTime())
    .sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime())[0];
}

/** The keys a verifier must still know at `now` (the JWKS). */
export function verifiableKeys<K extends KeyWindow>(keys: readonly K[], now: Date): K[] {
  return keys.filter((k) => k.expiresAt.getTime() > now.getTime());
}
