import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ServingMetrics } from './metrics/servingMetrics.js';

const deployDir = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const read = (file: string) => readFileSync(deployDir + file, 'utf8');
const yamlDocs = (file: string) => parseAllDocuments(read(file)).map((d) => {
  expect(d.errors, file).toEqual([]);
  return d.toJS() as Record<string, any>;
});

/** Metric families the server exports, as PromQL sees them (histograms add _bucket/_sum/_count). */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new ServingMetrics({ modelName: 'm' });
  const names = new Set<string>();
  for (const family of await metrics.registry.getMetricsAsJSON()) {
    names.add(family.name);
    if (String(family.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
  }
  return names;
}

const metricRefs = (text: string) => new Set([...text.matchAll(/\bdeepline_[a-z_]+\b/g)].map((m) => m[0]).filter((n) => n !== 'deepline_serve'));

describe('deploy/', () => {
  it('Kubernetes manifests are valid YAML with the expected kinds and probes', () => {
    const [deployment] = yamlDocs('kubernetes/deployment.yaml');
    expect(deployment!.kind).toBe('Deployment');
    const container = deployment!.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(deployment!.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    expect(yamlDocs('kubernetes/service.yaml')[0]!.kind).toBe('Service');
    const hpa = yamlDocs('kubernetes/hpa.yaml')[0]!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef.name).toBe(deployment!.metadata.name);
  });

  it('alert rules and the Grafana dashboard only use metrics the server exports', async () => {
    const exported = await exportedNames();
    const rules = yamlDocs('prometheus/alerts.yaml')[0]!.groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{ alert: string; expr: string }>;
    expect(rules.length).toBeGreaterThanOrEqual(6);
    const dashboard = JSON.parse(read('grafana/deepline-serving.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = [...rules.map((r) => r.expr), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))];
    const used = new Set(exprs.flatMap((e) => [...metricRefs(e)]));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(exported.has(name), `${name} is not exported`).toBe(true);
  });

  it('the Dockerfile runs deepline serve on 0.0.0.0 and exposes its port', () => {
    const docker = read('Dockerfile');
    expect(docker).toMatch(/^FROM node:20/m);
    expect(docker).toMatch(/ENTRYPOINT \[.*"serve".*"--host", "0\.0\.0\.0"/);
    expect(docker).toMatch(/^EXPOSE 8000$/m);
  });
});
