// The metric names a PromQL expression reads: what the dashboard and alert checks compare with the
// names Prometheus actually scraped. Label matchers, ranges, grouping clauses, strings, numbers,
// Grafana variables and PromQL's own functions and keywords are not names.

const promqlWords = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring ' +
    'group_left group_right and or unless offset bool rate irate increase delta idelta deriv histogram_quantile ' +
    'absent absent_over_time vector scalar time clamp clamp_min clamp_max abs ceil floor round sort sort_desc ' +
    'changes resets avg_over_time max_over_time min_over_time sum_over_time count_over_time last_over_time ' +
    'quantile_over_time predict_linear label_replace label_join timestamp inf nan'
  ).split(' '),
);

export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/(^|[^\w.])\d+(\.\d+)?(e[+-]?\d+)?/gi, '$1 ');
  return [...new Set((stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((n) => !promqlWords.has(n)))];
}
