import { apiKeyDigest, API_KEY_PATTERN } from '@usageflow/auth';
import { randomBytes } from 'node:crypto';
import { emailKey, newApiKey, newOpaqueToken, sha256Hex } from './secrets';

describe('API keys', () => {
  it('look like uf_live_<43 base64url chars>: 256 bits, with a short prefix and a SHA-256 digest', () => {
    const random = Buffer.alloc(32, 7);
    const { key, prefix, digest } = newApiKey('live', random);
    expect(key).toMatch(/^uf_live_[A-Za-z0-9_-]{43}$/);
    expect(prefix).toBe(key.slice(0, 12));
    expect(digest).toBe(apiKeyDigest(key)); // what every verifier looks the key up by
    expect(key).toMatch(API_KEY_PATTERN);
    expect(newApiKey('test', randomBytes(32)).key).toMatch(/^uf_test_/);
  });

  it('refuse too little randomness', () => {
    expect(() => newApiKey('live', randomBytes(16))).toThrow(/32 random bytes/);
  });

  it('are different for different randomness', () => {
    expect(newApiKey('live', randomBytes(32)).key).not.toBe(newApiKey('live', randomBytes(32)).key);
  });
});

describe('opaque tokens and e-mails', () => {
  it('store only the digest of a token', () => {
    const { token, digest } = newOpaqueToken(Buffer.alloc(32, 1));
    expect(digest).toBe(sha256Hex(token));
    expect(digest).not.toContain(token);
  });

  it('treat e-mails case-insensitively', () => {
    expect(emailKey(' Grace@CloudAI.example ')).toBe('grace@cloudai.example');
  });
});
