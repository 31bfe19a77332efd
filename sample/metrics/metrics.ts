import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The sample's OpenTelemetry SDK: a meter provider whose one reader is the
 * Prometheus exporter, registered as the process's global provider before
 * the Nest app is created (the module takes its meter at start-up). The
 * exporter starts no server of its own: GET /metrics serves what it collects.
 * Once per process: the e2e tests create many apps in one.
 */
let exporter: PrometheusExporter | undefined;

export function startMetrics(): PrometheusExporter {
  if (exporter === undefined) {
    exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  }
  return exporter;
}

const serializer = new PrometheusSerializer();

/** The metrics in Prometheus's text format, as a scrape reads them. */
export async function scrape(): Promise<string> {
  const { resourceMetrics, errors } = await startMetrics().collect();
  for (const error of errors) console.warn(`metrics collection: ${String(error)}`);
  return serializer.serialize(resourceMetrics);
}
