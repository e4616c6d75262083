import { extractTraceContext, runInContext, startSpan, type Logger } from '@usageflow/telemetry';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import { commonErrors, PROBLEM_CONTENT_TYPE, problemBody, ProblemError } from './problem';

declare module 'express-serve-static-core' {
  interface Request {
    /** The request id: the caller's `x-request-id` when sane, else a new UUID. */
    id: string;
    /** A child logger carrying the request id (and trace id through the mixin). */
    log: Logger;
  }
}

export type ReadinessCheck = () => Promise<boolean>;

export interface HttpAppOptions {
  logger: Logger;
  /** Named dependencies `/readyz` checks (e.g. database, kafka); all must answer true. */
  readiness: Record<string, ReadinessCheck>;
  /** Largest JSON body accepted (default 1mb). */
  jsonLimit?: string | number;
  /** Mounts the service's routers between the common middleware and the error handling. */
  routes?: (app: Express) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds a service's express app: request ids, a span per request continuing the caller's
 * trace, bounded JSON bodies, `/healthz` (the process is alive) and `/readyz` (its database and
 * Kafka answer), the service routes, then problem+json for unknown routes and every error.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);

  app.use((req, res, next) => {
    const given = req.header('x-request-id');
    req.id = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.log = options.logger.child({ requestId: req.id });
    res.setHeader('x-request-id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      if (req.path === '/healthz' || req.path === '/readyz') return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      req.log.info({ method: req.method, path: req.path, status: res.statusCode, ms }, 'request');
    });
    // One span per request, continuing the caller's trace, ended when the response is sent.
    const { span, context } = startSpan(`HTTP ${req.method}`, {
      parent: extractTraceContext(req.headers as Record<string, string>),
      attributes: { 'http.request.method': req.method, 'url.path': req.path },
    });
    // 'close' fires after the response is sent and also when the client goes away mid-request
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      span.end();
    });
    runInContext(context, next);
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const entries = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
    );
    const checks = Object.fromEntries(entries.map(([n, ok]) => [n, ok ? 'ok' : 'unavailable']));
    const ready = entries.every(([, ok]) => ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.use(jsonBody(options.jsonLimit ?? '1mb'));
  options.routes?.(app);

  app.use((req, _res, next) => next(commonErrors.ROUTE_NOT_FOUND(`${req.method} ${req.path} does not exist`)));
  app.use(problemHandler);
  return app;
}

/** JSON bodies only (any `+json` type too), bounded, with body errors as problems. */
function jsonBody(limit: string | number): RequestHandler {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req, res, next) => {
    // An empty body (`Content-Length: 0`, what fetch sends for a bare POST) is no body at all.
    const length = req.headers['content-length'];
    const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && req.method !== 'GET' && !req.is(['application/json', 'application/*+json'])) {
      return next(
        commonErrors.UNSUPPORTED_MEDIA_TYPE(
          `send application/json, not ${req.headers['content-type'] ?? 'no content type'}`,
        ),
      );
    }
    parse(req, res, next);
  };
}

const problemHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const problem = toProblem(err);
  if (problem.status >= 500) {
    // logged once, here, where it is handled; the client sees no internal detail
    (req.log ?? console).error({ err }, 'request failed');
  }
  // A problem that says when to come back (429, 503) carries it as Retry-After too.
  const retryAfter = problem.extensions['retryAfter'];
  if (typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter > 0)
    res.setHeader('Retry-After', String(retryAfter));
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemBody(problem, req.id ?? 'unknown', req.originalUrl)));
};

/** Maps anything thrown in a request to a ProblemError. */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  const e = err as { type?: string; status?: number; expose?: boolean };
  if (e?.type === 'entity.parse.failed') return commonErrors.MALFORMED_JSON('the body could not be parsed as JSON');
  if (e?.type === 'entity.too.large') return commonErrors.PAYLOAD_TOO_LARGE();
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return commonErrors.UNSUPPORTED_MEDIA_TYPE('unsupported body encoding');
  if (e?.expose && typeof e.status === 'number' && e.status < 500)
    return new ProblemError(e.status, 'BAD_REQUEST', 'Bad request');
  return commonErrors.INTERNAL(undefined, {}, { cause: err });
}
