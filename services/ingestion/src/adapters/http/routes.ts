// The ingestion HTTP surface: POST /v1/events and POST /v1/events/batch, in the product's JSON
// shape or as CloudEvents. Auth is the API key alone (checked in memory), the organization comes
// from it, and a 2xx means Kafka acknowledged every accepted event of the request.
import { buildOpenApiDocument, INGESTION_ROUTES } from '@usageflow/contracts';
import { commonErrors } from '@usageflow/http';
import type { Express, Request, Response } from 'express';
import { prefixErrors, type FieldError } from '../../domain/normalize';
import {
  API_KEY_HEADER,
  authorize,
  charge,
  check,
  ingestionErrors,
  produce,
  type IngestContext,
} from '../../app/ingest';

const CLOUDEVENT = 'application/cloudevents+json';
const CLOUDEVENTS_BATCH = 'application/cloudevents-batch+json';

/** A batch's answer: one result per event, in request order. */
type BatchResult = { index: number; id: string } | { index: number; errors: FieldError[] };

/** Mounts the ingestion routes on `app`. */
export function ingestionRoutes(ctx: IngestContext) {
  /** Validates, charges and produces `inputs`; answers with per-index results. */
  const ingestBatch = async (
    req: Request,
    res: Response,
    inputs: unknown,
    format: 'usage' | 'cloudevents',
    root: string,
  ) => {
    const key = authorize(ctx, req.headers[API_KEY_HEADER]);
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw commonErrors.VALIDATION_FAILED('send at least one event', {
        errors: [{ field: root || 'body', message: 'must be a non-empty array of events' }],
      });
    }
    if (inputs.length > ctx.settings.maxBatchEvents) {
      throw commonErrors.PAYLOAD_TOO_LARGE(
        `a batch carries at most ${ctx.settings.maxBatchEvents} events, this one has ${inputs.length}`,
      );
    }
    charge(ctx, key, inputs.length);
    const { accepted, refused, receivedAt } = check(ctx, key, inputs, format);
    if (accepted.length === 0) {
      throw commonErrors.VALIDATION_FAILED(`none of the ${inputs.length} events was accepted`, {
        errors: refused.flatMap((r) => prefixErrors(`${root}[${r.index}]`, r.errors)),
      });
    }
    await produce(ctx, key, accepted, receivedAt);
    const results: BatchResult[] = accepted.map((a) => ({ index: a.index, id: a.data.eventId }));
    if (refused.length > 0) {
      for (const r of refused) results.push({ index: r.index, errors: r.errors });
      results.sort((a, b) => a.index - b.index);
    }
    // 202: all accepted; 207: some accepted (produced), some refused (not produced).
    res.status(refused.length === 0 ? 202 : 207).json({ accepted: accepted.length, refused: refused.length, results });
  };

  const openapi = buildOpenApiDocument({
    title: 'UsageFlow ingestion API',
    version: '1.0.0',
    routes: INGESTION_ROUTES,
  });
  return (app: Express) => {
    // NOTE: no ETag: nothing here is a cacheable GET, and express hashed every answer (SHA-1 of
    // the body) to make one.
    app.set('etag', false);
    app.get('/openapi.json', (_req, res) => {
      res.json(openapi);
    });
    app.post('/v1/events', async (req, res) => {
      if (req.is(CLOUDEVENTS_BATCH)) return ingestBatch(req, res, req.body, 'cloudevents', '');
      const format = req.is(CLOUDEVENT) ? 'cloudevents' : 'usage';
      const key = authorize(ctx, req.headers[API_KEY_HEADER]);
      if (Array.isArray(req.body)) {
        throw commonErrors.VALIDATION_FAILED('one event per request here; send arrays to /v1/events/batch', {
          errors: [{ field: 'body', message: 'must be one event object' }],
        });
      }
      charge(ctx, key, 1);
      const { accepted, refused, receivedAt } = check(ctx, key, [req.body ?? null], format);
      const refusal = refused[0];
      if (refusal) {
        if (refusal.unknownMetric)
          throw ingestionErrors.UNKNOWN_METRIC(refusal.errors[0]!.message, { errors: refusal.errors });
        throw commonErrors.VALIDATION_FAILED('the event is invalid', { errors: refusal.errors });
      }
      await produce(ctx, key, accepted, receivedAt);
      res.status(202).json({ id: accepted[0]!.data.eventId });
    });

    app.post('/v1/events/batch', async (req, res) => {
      if (req.is(CLOUDEVENTS_BATCH) || req.is(CLOUDEVENT)) return ingestBatch(req, res, req.body, 'cloudevents', '');
      const body = req.body as { events?: unknown } | undefined;
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        authorize(ctx, req.headers[API_KEY_HEADER]);
        throw commonErrors.VALIDATION_FAILED('send {"events": [...]}', {
          errors: [{ field: 'events', message: 'must be a non-empty array of events' }],
        });
      }
      return ingestBatch(req, res, body?.events, 'usage', 'events');
    });
  };
}
