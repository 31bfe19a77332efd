import { describe, expect, it } from '@jest/globals';
import { METRIC_NAMES } from 'nestjs-jwt-revocation';
import { readFileSync } from 'node:fs';

const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  panels: Array<{ title: string; datasource: unknown; targets: Array<{ expr: string }> }>;
};
const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));

/** The attributes the module sets, as the Prometheus exporter writes them (dots become underscores). */
const ATTRIBUTES = [
  'jwt_revocation.issue.cause',
  'jwt_revocation.revocation.scope',
  'jwt_revocation.revocation.reason',
  'jwt_revocation.refusal.cause',
  'jwt_revocation.sweep.outcome',
  'jwt_revocation.archive.action',
  'jwt_revocation.state.kind',
  'jwt_revocation.propagation.mode',
  'jwt_revocation.store.operation',
  'error.type',
].map((name) => name.replaceAll('.', '_'));
/** Labels Prometheus adds itself. */
const PROMETHEUS_LABELS = ['le', 'instance'];

/** A Prometheus series name back to the metric's name: no `_total`, `_bucket`, `_count` or `_sum`, dots for underscores. */
function metricOf(series: string): string {
  const base = series.replace(/_(total|bucket|count|sum)$/, '');
  const known = Object.values(METRIC_NAMES).find((name) => name.replaceAll('.', '_') === base);
  return known ?? series;
}

describe('docs/grafana-dashboard.json', () => {
  it('queries metrics the module has, and every one of them', () => {
    const queried = new Set(
      queries.flatMap((expr) => [...expr.matchAll(/\bjwt_revocation_[a-z_]+/g)].map((m) => m[0])),
    );
    const metrics = new Set([...queried].filter((series) => !ATTRIBUTES.includes(series)).map(metricOf));
    expect([...metrics].sort()).toEqual(Object.values(METRIC_NAMES).sort());
  });

  it('groups and filters by labels the module sets (or Prometheus adds) only', () => {
    const labels = new Set<string>();
    for (const expr of queries) {
      for (const [, list] of expr.matchAll(/\bby \(([^)]*)\)/g))
        for (const label of list.split(',')) labels.add(label.trim());
      for (const [, label] of expr.matchAll(/[{,]\s*([a-z_]+)\s*(?:=~|!=|=)/g)) labels.add(label);
    }
    for (const label of labels)
      expect([label, [...ATTRIBUTES, ...PROMETHEUS_LABELS].includes(label)]).toEqual([label, true]);
  });

  it('every panel reads the dashboard’s Prometheus data source', () => {
    for (const panel of dashboard.panels)
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid: '${datasource}' }]);
  });
});
