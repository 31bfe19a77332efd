import { loadIfInstalled } from '../internal/optional-dependency.js';

/*
 * The parts of @opentelemetry/api the module uses, typed here: the package is
 * an optional peer, and no declaration the library publishes may need it.
 */
export type TelemetryAttributes = Record<string, string | number | boolean>;

export interface CounterLike {
  add(value: number, attributes?: TelemetryAttributes): void;
}
export interface HistogramLike {
  record(value: number, attributes?: TelemetryAttributes): void;
}
export interface ObservableResultLike {
  observe(value: number, attributes?: TelemetryAttributes): void;
}
type ObservableCallback = (result: ObservableResultLike) => void;
export interface ObservableGaugeLike {
  addCallback(callback: ObservableCallback): void;
  removeCallback(callback: ObservableCallback): void;
}
interface InstrumentOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}
export interface MeterLike {
  createCounter(name: string, options?: InstrumentOptions): CounterLike;
  createHistogram(name: string, options?: InstrumentOptions): HistogramLike;
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableGaugeLike;
}
export interface SpanLike {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number }): unknown;
  end(): void;
}
interface TracerLike {
  startActiveSpan<T>(name: string, options: { attributes?: TelemetryAttributes }, fn: (span: SpanLike) => T): T;
}

/** The instrumentation scope: what a backend shows as the meter's and the tracer's name. */
export const TELEMETRY_SCOPE = 'nestjs-jwt-revocation';

/** SpanStatusCode.ERROR of the API (a const enum there). */
const SPAN_ERROR = 2;

const noopInstrument = {
  add: () => undefined,
  record: () => undefined,
  addCallback: () => undefined,
  removeCallback: () => undefined,
};
const NOOP_METER: MeterLike = {
  createCounter: () => noopInstrument,
  createHistogram: () => noopInstrument,
  createObservableGauge: () => noopInstrument,
};

/**
 * OpenTelemetry for the module: a meter and a tracer from the app's
 * `@opentelemetry/api`, when it has it. Without the package, or without an
 * SDK registered, every instrument and span does nothing (the API's own
 * no-ops, or ours), so the library costs nothing until an app asks.
 *
 * Start the app's SDK before the Nest app is created, as OpenTelemetry's
 * Node guide says: instruments made before a meter provider is registered
 * stay no-ops (spans follow a provider registered later).
 */
export class Telemetry {
  private constructor(
    readonly meter: MeterLike,
    private readonly tracer: TracerLike | null,
  ) {}

  /** With the app's `@opentelemetry/api`, or off when it is not installed. */
  static async load(): Promise<Telemetry> {
    const api = await loadIfInstalled('@opentelemetry/api', () => import('@opentelemetry/api'));
    if (api === null) return Telemetry.off();
    return new Telemetry(
      api.metrics.getMeter(TELEMETRY_SCOPE) as unknown as MeterLike,
      api.trace.getTracer(TELEMETRY_SCOPE) as unknown as TracerLike,
    );
  }

  /** No metrics and no spans: the archive command line, and apps without the API. */
  static off(): Telemetry {
    return new Telemetry(NOOP_METER, null);
  }

  /**
   * Runs `work` in a span named `name` (the active one while it runs, so the
   * database driver's spans nest under it), ended when `work` settles; a
   * rejection marks it failed, with the error's class as `error.type`. Not
   * the message: a database error may quote a row's key, a jti or a subject.
   */
  inSpan<T>(name: string, attributes: TelemetryAttributes, work: () => Promise<T>): Promise<T> {
    if (this.tracer === null) return work();
    return this.tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        span.setAttribute('error.type', failure.constructor.name);
        span.setStatus({ code: SPAN_ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }
}
