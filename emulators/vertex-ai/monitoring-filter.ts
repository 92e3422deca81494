import { status } from '@grpc/grpc-js';
import { RpcError } from './errors';

// The `filter` of Cloud Monitoring's ListTimeSeries, in the forms code reading an endpoint's health
// uses: equalities on the metric type, the resource type and the Endpoint's labels, joined by AND.
// Anything else is refused with INVALID_ARGUMENT naming the term, never silently ignored.

export interface SeriesFilter {
  metricType: string;
  resourceType?: string;
  resourceLabels: Record<string, string>;
  metricLabels: Record<string, string>;
}

const TERM = /^([a-z_]+(?:\.[a-z_]+)*)\s*=\s*"([^"]*)"$/i;
const RESOURCE_LABELS = ['resource_container', 'location', 'endpoint_id'];
const METRIC_LABELS = ['deployed_model_id'];
const SUPPORTED = `metric.type = "…", resource.type = "…", resource.labels.{${RESOURCE_LABELS.join(',')}} = "…", metric.labels.{${METRIC_LABELS.join(',')}} = "…", joined by AND`;

const invalid = (filter: string, why: string) =>
  new RpcError(status.INVALID_ARGUMENT, `Field filter had an invalid value of "${filter}": ${why}`);

export function parseSeriesFilter(filter: string | undefined): SeriesFilter {
  if (!filter?.trim()) throw new RpcError(status.INVALID_ARGUMENT, 'Field filter is required: name a metric.type.');
  const out: SeriesFilter = { metricType: '', resourceLabels: {}, metricLabels: {} };
  for (const raw of filter.split(/\s+AND\s+/i)) {
    const term = raw.trim();
    const m = TERM.exec(term);
    const [, field = '', value = ''] = m ?? [];
    const label = /^(resource|metric)\.labels?\.([a-z_]+)$/.exec(field);
    if (m && field === 'metric.type') out.metricType = value;
    else if (m && field === 'resource.type') out.resourceType = value;
    else if (m && label?.[1] === 'resource' && RESOURCE_LABELS.includes(label[2]!))
      out.resourceLabels[label[2]!] = value;
    else if (m && label?.[1] === 'metric' && METRIC_LABELS.includes(label[2]!)) out.metricLabels[label[2]!] = value;
    else throw invalid(filter, `the emulator does not support the term "${term}" (it supports ${SUPPORTED}).`);
  }
  if (!out.metricType) throw invalid(filter, 'a filter must name exactly one metric.type.');
  return out;
}
