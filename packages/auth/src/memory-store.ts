import type { ApiKeyRecord, AuthStore, MemberRecord, SigningKeyRecord } from './types';

/** An `AuthStore` held in memory: for tests, and for wiring a service before its projection exists. */
export class InMemoryAuthStore implements AuthStore {
  readonly signingKeys = new Map<string, SigningKeyRecord>();
  /** By digest. */
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  /** By `${organizationId}:${userId}`. */
  readonly members = new Map<string, MemberRecord>();

  async signingKey(kid: string): Promise<SigningKeyRecord | undefined> {
    return this.signingKeys.get(kid);
  }

  async apiKeyByDigest(digest: string): Promise<ApiKeyRecord | undefined> {
    return this.apiKeys.get(digest);
  }

  async member(organizationId: string, userId: string): Promise<MemberRecord | undefined> {
    return this.members.get(`${organizationId}:${userId}`);
  }

  /** Records (or replaces) a membership. */
  putMember(record: MemberRecord): void {
    this.members.set(`${record.organizationId}:${record.userId}`, record);
  }
}
