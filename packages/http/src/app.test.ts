import { trace } from '@opentelemetry/api';
import { createLogger, startTelemetry } from '@usageflow/telemetry';
import { createHttpApp } from './app';
import { defineErrors, PROBLEM_CONTENT_TYPE } from './problem';
import { startHttpServer, type RunningServer } from './server';

const errors = defineErrors({ METRIC_KEY_TAKEN: { status: 409, title: 'Metric key already exists' } });

describe('createHttpApp', () => {
  let ready = true;
  let server: RunningServer;
  let base: string;
  const telemetry = startTelemetry({ serviceName: 'test' });

  beforeAll(async () => {
    const app = createHttpApp({
      logger: createLogger({ service: 'test', level: 'silent' }),
      readiness: { database: async () => ready, kafka: async () => true },
      jsonLimit: '1kb',
      routes: (a) => {
        a.post('/v1/metrics', (req, res) => {
          if (req.body?.key === 'TAKEN') throw errors.METRIC_KEY_TAKEN('TAKEN already exists');
          res.status(201).json({ key: req.body.key });
        });
        a.get('/trace', (_req, res) => {
          res.json({ traceId: trace.getActiveSpan()?.spanContext().traceId ?? null });
        });
        a.get('/boom', () => {
          throw new Error('secret internal detail');
        });
      },
    });
    server = await startHttpServer(app, 0, '127.0.0.1');
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await telemetry.shutdown();
  });

  it("continues the caller's trace: handlers run inside a span of the incoming trace id", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${base}/trace`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(await res.json()).toEqual({ traceId });
  });

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(base + path, { method: 'POST', headers: { 'content-type': type }, body });

  it('answers /healthz, and /readyz per dependency', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    ready = false;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { database: 'unavailable', kafka: 'ok' } });
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('turns a registry error into problem+json with its stable code and the request id', async () => {
    const res = await fetch(`${base}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: JSON.stringify({ key: 'TAKEN' }),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    expect(await res.json()).toMatchObject({
      status: 409,
      code: 'METRIC_KEY_TAKEN',
      title: 'Metric key already exists',
      detail: 'TAKEN already exists',
      requestId: 'req-42',
      instance: '/v1/metrics',
    });
  });

  it.each([
    ['malformed JSON', () => post('/v1/metrics', '{"key": '), 400, 'MALFORMED_JSON'],
    [
      'a body over the limit',
      () => post('/v1/metrics', JSON.stringify({ key: 'x'.repeat(2000) })),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a non-JSON body',
      () => post('/v1/metrics', 'key=x', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['an unknown route', () => fetch(`${base}/v1/nope`), 404, 'ROUTE_NOT_FOUND'],
  ])('refuses %s with a clear 4xx', async (_what, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ status, code });
  });

  it('never echoes an internal message on a 500', async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain('secret internal detail');
    expect(JSON.parse(body)).toMatchObject({ code: 'INTERNAL', status: 500 });
  });

  it('accepts a valid request', async () => {
    const res = await post('/v1/metrics', JSON.stringify({ key: 'API_CALL' }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ key: 'API_CALL' });
  });
});
