import { context, trace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceHeaders, startTelemetry, withSpan } from './tracing';

describe('trace context through message headers', () => {
  const telemetry = startTelemetry({ serviceName: 'test' });
  afterAll(() => telemetry.shutdown());

  it('carries the trace id of the active span into headers and back out', async () => {
    // given a span in progress
    await withSpan('produce', async (span) => {
      // when its context is written into headers and read back as Kafka would deliver them
      const headers = injectTraceHeaders();
      const asKafka = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
      const extracted = extractTraceContext(asKafka);
      // then the consumer side continues the same trace
      expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(trace.getSpanContext(extracted)?.traceId).toBe(span.spanContext().traceId);
    });
  });

  it('yields no span context when headers carry none', () => {
    expect(trace.getSpanContext(extractTraceContext({}))).toBeUndefined();
    expect(trace.getSpanContext(context.active())).toBeUndefined();
  });
});
