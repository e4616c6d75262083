// The gateway's knowledge, all in memory: which API keys exist (by digest, with organization,
// scopes and mode), which metric keys each organization defined, and whether it accepts unknown
// ones. Built by replaying the identity and catalog topics from offset 0 in every process, so
// gateways share nothing but Kafka, and the hot path asks no database and runs no bcrypt.
import type { ApiKeyScope, DomainEvent } from '@usageflow/contracts';

/** A usable API key as the gateway knows it. */
export interface KeyRecord {
  apiKeyId: string;
  organizationId: string;
  scopes: ReadonlySet<ApiKeyScope>;
  mode: 'live' | 'test';
}

/** How an organization treats usage for metric keys it has not defined. */
export type UnknownMetrics = 'REFUSE' | 'ACCEPT';

export class IngestionProjection {
  private readonly keysByDigest = new Map<string, KeyRecord>();
  private readonly digestById = new Map<string, string>();
  /** Keys revoked before their creation was seen (a partition read ahead of another). */
  private readonly revokedIds = new Set<string>();
  /** Digests of revoked keys, so their use is answered API_KEY_REVOKED rather than unknown. */
  private readonly revokedDigests = new Set<string>();
  private readonly metricsByOrg = new Map<string, Set<string>>();
  private readonly unknownMetricsByOrg = new Map<string, UnknownMetrics>();

  /** Applies one event of the identity or catalog topic; others are ignored. Idempotent. */
  apply(event: DomainEvent): void {
    switch (event.type) {
      case 'api_key.created': {
        if (this.revokedIds.has(event.data.apiKeyId)) return;
        this.keysByDigest.set(event.data.digest, {
          apiKeyId: event.data.apiKeyId,
          organizationId: event.organizationId,
          scopes: new Set(event.data.scopes),
          mode: event.data.mode,
        });
        this.digestById.set(event.data.apiKeyId, event.data.digest);
        return;
      }
      case 'api_key.revoked': {
        const digest = this.digestById.get(event.data.apiKeyId);
        // NOTE: the identity topic is keyed by organization, so a key's creation and revocation
        // share a partition and arrive in order; the set only guards a replay from a cut log.
        this.revokedIds.add(event.data.apiKeyId);
        if (digest === undefined) return;
        const record = this.keysByDigest.get(digest);
        if (record?.organizationId !== event.organizationId) return;
        this.keysByDigest.delete(digest);
        this.revokedDigests.add(digest);
        this.digestById.delete(event.data.apiKeyId);
        return;
      }
      case 'metric.created': {
        let keys = this.metricsByOrg.get(event.organizationId);
        if (!keys) this.metricsByOrg.set(event.organizationId, (keys = new Set()));
        keys.add(event.data.key);
        return;
      }
      case 'organization.updated': {
        this.unknownMetricsByOrg.set(event.organizationId, event.data.settings.unknownMetrics);
        return;
      }
      default:
        return;
    }
  }

  /** The key with this SHA-256 digest, if it exists and is not revoked. */
  keyByDigest(digest: string): KeyRecord | undefined {
    return this.keysByDigest.get(digest);
  }

  /** Whether this digest belonged to a key that has been revoked. */
  isRevoked(digest: string): boolean {
    return this.revokedDigests.has(digest);
  }

  /** Whether usage for `metric` is taken from `organizationId`: defined, or the organization accepts unknown keys. */
  acceptsMetric(organizationId: string, metric: string): boolean {
    return (
      this.metricsByOrg.get(organizationId)?.has(metric) === true ||
      this.unknownMetricsByOrg.get(organizationId) === 'ACCEPT'
    );
  }

  /** Sizes, for readiness and logs. */
  stats() {
    return { keys: this.keysByDigest.size, organizationsWithMetrics: this.metricsByOrg.size };
  }
}
