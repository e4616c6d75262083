// The JWT signing keys: created ahead of use, published through the outbox, used for their
// window, kept verifiable until the tokens they signed have expired.
import { buildEvent, SYSTEM_ORGANIZATION_ID } from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { randomUUID } from 'node:crypto';
import { signAccessToken } from '@usageflow/auth';
import type { Role } from '@usageflow/contracts';
import { activeKey, decideNextKey, verifiableKeys, type KeyWindow } from '../domain/signing-keys';
import { PRODUCER, type IdentityContext } from './context';

interface StoredKey extends KeyWindow {
  alg: 'EdDSA' | 'ES256' | 'RS256';
  publicJwk: JWK;
  privateJwk: JWK;
}

// One advisory lock id for key-ring changes, so two replicas never both create the next key.
const KEY_RING_LOCK = 0x75666b72; // "ufkr"

function toStored(row: Record<string, unknown>): StoredKey {
  return {
    kid: row.kid as string,
    alg: row.alg as StoredKey['alg'],
    publicJwk: row.public_jwk as JWK,
    privateJwk: row.private_jwk as JWK,
    notBefore: new Date(row.not_before as string),
    signsUntil: new Date(row.signs_until as string),
    expiresAt: new Date(row.expires_at as string),
  };
}

/** What an access token asserts. */
export interface AccessClaims {
  userId: string;
  organizationId: string;
  role: Role;
}

/** The signing keys of the platform. */
export class KeyRing {
  private keys: StoredKey[] = [];
  private readonly imported = new Map<string, KeyLike | Uint8Array>();

  constructor(private readonly ctx: IdentityContext) {}

  /**
   * Creates the next key when the policy says so (at first start: one that signs at once) and
   * publishes it in the same transaction; then reloads the ring. Safe on every replica.
   */
  async rotate(): Promise<string | null> {
    const { db, config, clock } = this.ctx;
    const created = await db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?)', [KEY_RING_LOCK]);
      const now = clock();
      const keys = (await trx('signing_keys').select()).map(toStored);
      const next = decideNextKey(keys, now, config.keyPolicy);
      if (!next) return null;
      const kid = `${next.notBefore.toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
      const { publicKey, privateKey } = await generateKeyPair(config.signingAlg, { extractable: true });
      const meta = { kid, alg: config.signingAlg, use: 'sig' as const };
      const publicJwk = { ...(await exportJWK(publicKey)), ...meta };
      const privateJwk = { ...(await exportJWK(privateKey)), ...meta };
      await trx('signing_keys').insert({
        kid,
        alg: config.signingAlg,
        public_jwk: JSON.stringify(publicJwk),
        private_jwk: JSON.stringify(privateJwk),
        not_before: next.notBefore,
        signs_until: next.signsUntil,
        expires_at: next.expiresAt,
        created_at: now,
      });
      await appendToOutbox(trx as Knex.Transaction, [
        buildEvent('signing_key.published', {
          id: randomUUID(),
          organizationId: SYSTEM_ORGANIZATION_ID,
          occurredAt: now,
          producer: PRODUCER,
          data: {
            kid,
            alg: config.signingAlg,
            publicJwk: publicJwk as never,
            notBefore: next.notBefore.toISOString(),
            expiresAt: next.expiresAt.toISOString(),
          },
        }),
      ]);
      return kid;
    });
    await this.reload();
    if (created) this.ctx.logger.info({ kid: created }, 'signing key created and published');
    return created;
  }

  /** Reads the ring from the database (other replicas may have rotated). */
  async reload(): Promise<void> {
    this.keys = (await this.ctx.db('signing_keys').select()).map(toStored);
  }

  /** Whether a key can sign now (readiness). */
  canSign(): boolean {
    return activeKey(this.keys, this.ctx.clock()) !== undefined;
  }

  /** Signs an access token with the active key; returns it and its lifetime in seconds. */
  async sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }> {
    const now = this.ctx.clock();
    let key = activeKey(this.keys, now);
    if (!key) {
      // Another replica may have rotated; or nobody did for a whole period (the service was down):
      // then the ring rotates now, which publishes a key that signs at once.
      await this.reload();
      key = activeKey(this.keys, now) ?? (await this.rotate(), activeKey(this.keys, this.ctx.clock()));
    }
    if (!key) throw new Error('no signing key is active after rotating the key ring');
    let secret = this.imported.get(key.kid);
    if (!secret) {
      secret = await importJWK(key.privateJwk, key.alg);
      this.imported.set(key.kid, secret);
    }
    const expiresIn = this.ctx.config.accessTokenTtlSeconds;
    const token = await signAccessToken({
      key: secret,
      kid: key.kid,
      alg: key.alg,
      ...claims,
      tokenId: randomUUID(),
      issuedAt: now,
      expiresAt: new Date(now.getTime() + expiresIn * 1000),
    });
    return { token, expiresIn };
  }

  /** The JWKS: every key still verifiable, public parts only. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.reload();
    return { keys: verifiableKeys(this.keys, this.ctx.clock()).map((k) => k.publicJwk) };
  }
}
