// The formats of the secrets identity hands out. Randomness comes in as an argument so the
// rules are plain function tests.
import { apiKeyDigest } from '@usageflow/auth';
import { createHash } from 'node:crypto';

/** Random bytes in an API key: 256 bits (the issue asks for at least 192). */
export const API_KEY_RANDOM_BYTES = 32;
/** How many characters of the random part a listing shows after `uf_live_`. */
export const API_KEY_PREFIX_CHARS = 4;

/** SHA-256, lowercase hex: how invitation and refresh tokens are stored and looked up. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A new API key from `random` bytes: the secret, its listing prefix and its digest. */
export function newApiKey(mode: 'live' | 'test', random: Buffer): { key: string; prefix: string; digest: string } {
  if (random.length < API_KEY_RANDOM_BYTES) throw new Error(`an API key needs ${API_KEY_RANDOM_BYTES} random bytes`);
  const head = `uf_${mode}_`;
  const key = head + random.toString('base64url');
  // the digest every service's verifier computes: one definition, in @usageflow/auth
  return { key, prefix: key.slice(0, head.length + API_KEY_PREFIX_CHARS), digest: apiKeyDigest(key) };
}

/** An opaque token (refresh, invitation) from `random` bytes, and the digest it is stored as. */
export function newOpaqueToken(random: Buffer): { token: string; digest: string } {
  if (random.length < 32) throw new Error('an opaque token needs 32 random bytes');
  const token = random.toString('base64url');
  return { token, digest: sha256Hex(token) };
}

/** The canonical key of an e-mail address: one account per address, whatever its case. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
