/**
 * OpenTelemetry tracing (spec S4.3 `tracing.*`, S10.4): a server span per client request and a
 * client span per node call, with W3C `traceparent` sent to the nodes. Built only when
 * `tracing.enabled`; when it is off nothing here is constructed and the hooks skip it.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config.js';

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (h) => Object.keys(h),
  get: (h, key) => h[key],
};

const headerSetter = { set: (h: Record<string, string>, key: string, value: string) => void (h[key] = value) };

export class Tracing {
  readonly #provider: BasicTracerProvider;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();

  /** `exporter` replaces the OTLP exporter (tests use an in-memory one, exported synchronously). */
  constructor(config: Readonly<Config['tracing']>, exporter?: SpanExporter) {
    this.#provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.service_name }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sample_rate) }),
      spanProcessors: [
        exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint })),
      ],
    });
    this.#tracer = this.#provider.getTracer('miroir');
  }

  /** The server span of a client request, continuing the caller's trace when it sent `traceparent`. */
  startRequest(method: string, template: string, headers: IncomingHttpHeaders): Span {
    const parent = headers.traceparent === undefined ? ROOT_CONTEXT : this.#propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    return this.#tracer.startSpan(
      `${method} ${template}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': template } },
      parent,
    );
  }

  endRequest(span: Span, status: number, requestId: string, fanOut: number): void {
    span.setAttribute('http.response.status_code', status);
    span.setAttribute('miroir.request_id', requestId);
    span.setAttribute('miroir.node_count', fanOut);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** A node call's span under `parent`; its trace context goes into `headers`. */
  startNode(parent: Span, nodeId: string, operation: string, method: string, headers: Record<string, string>): Span {
    const ctx = trace.setSpan(ROOT_CONTEXT, parent);
    const span = this.#tracer.startSpan(
      `node ${operation}`,
      { kind: SpanKind.CLIENT, attributes: { 'miroir.node_id': nodeId, 'miroir.operation': operation, 'http.request.method': method } },
      ctx,
    );
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, headerSetter);
    return span;
  }

  endNode(span: Span, status: number, error: string | null): void {
    if (status > 0) span.setAttribute('http.response.status_code', status);
    if (error !== null) {
      span.setAttribute('error.type', error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /** Flushes and stops the exporter. */
  shutdown(): Promise<void> {
    return this.#provider.shutdown();
  }
}
