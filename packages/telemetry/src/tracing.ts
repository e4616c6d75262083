import { context, metrics, propagation, trace, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

/*
 * NOTE: the OTLP exporters and the metrics SDK cost ~11 MB of memory once loaded (measured with
 * `require` before/after); exporting is off unless an endpoint is set, so they load only then.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const loadExporters = () => ({
  ...(require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')),
  ...(require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http')),
  ...(require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics')),
});
/* eslint-enable @typescript-eslint/no-require-imports */

export interface Telemetry {
  /** Flushes and stops exporters; call last during shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Registers tracing for the process. Context propagation (W3C traceparent) is always on, so
 * trace ids flow through HTTP and Kafka headers and appear in logs; spans and metrics are
 * exported only when `otlpEndpoint` is set (off by default).
 */
export function startTelemetry(options: { serviceName: string; otlpEndpoint?: string }): Telemetry {
  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  const endpoint = options.otlpEndpoint?.replace(/\/$/, '');
  const exporters = endpoint ? loadExporters() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (exporters) {
    spanProcessors.push(new BatchSpanProcessor(new exporters.OTLPTraceExporter({ url: `${endpoint}/v1/traces` })));
  }
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register();
  let meterProvider: MeterProvider | undefined;
  if (exporters) {
    const { MeterProvider, OTLPMetricExporter, PeriodicExportingMetricReader } = exporters;
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
          exportIntervalMillis: 10_000,
        }),
      ],
    });
    metrics.setGlobalMeterProvider(meterProvider);
  }
  return {
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

/** Headers as Kafka carries them (values may be buffers). */
export type MessageHeaders = Record<string, string | Buffer | Array<string | Buffer> | undefined>;

/** Writes the active trace context into `headers` (for an outgoing Kafka message). */
export function injectTraceHeaders(headers: Record<string, string> = {}, ctx: Context = context.active()) {
  propagation.inject(ctx, headers);
  return headers;
}

/** Reads a trace context from incoming Kafka or HTTP headers. */
export function extractTraceContext(headers: MessageHeaders | undefined): Context {
  const carrier: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) carrier[k.toLowerCase()] = first.toString();
  }
  return propagation.extract(context.active(), carrier);
}

/** Runs `fn` in a new span (child of `parent`, default the active context), recording errors. */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  options: { parent?: Context; attributes?: Record<string, string | number | boolean> } = {},
): Promise<T> {
  const tracer = trace.getTracer('usageflow');
  return tracer.startActiveSpan(
    name,
    { attributes: options.attributes },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The meter for a component's instruments; create instruments once at startup. */
export function meter(name = 'usageflow') {
  return metrics.getMeter(name);
}

/**
 * Starts a span for work that ends later than the current call (an HTTP request ends when its
 * response finishes): returns the span and the context to run the work in; end it yourself.
 */
export function startSpan(
  name: string,
  options: { parent?: Context; attributes?: Record<string, string | number | boolean> } = {},
): { span: Span; context: Context } {
  const parent = options.parent ?? context.active();
  const span = trace.getTracer('usageflow').startSpan(name, { attributes: options.attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `fn` with `ctx` as the active context (so logs and child spans join its trace). */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}
