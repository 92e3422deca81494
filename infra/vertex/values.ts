// google.protobuf.Value to and from JSON, for the Node clients' decoded messages (the `kind` oneof
// names the field that is set). The package's own helpers take and give objects only, while online
// prediction instances and predictions may be any JSON value.

type Value = {
  kind?: string | null;
  nullValue?: 'NULL_VALUE' | 0 | null;
  numberValue?: number | null;
  stringValue?: string | null;
  boolValue?: boolean | null;
  structValue?: { fields?: Record<string, Value> | null } | null;
  listValue?: { values?: Value[] | null } | null;
};

export function jsonToValue(json: unknown): Value {
  if (json === null || json === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map(jsonToValue) } };
  return {
    structValue: {
      fields: Object.fromEntries(Object.entries(json as Record<string, unknown>).map(([k, v]) => [k, jsonToValue(v)])),
    },
  };
}

export function valueToJson(v: Value | null | undefined): unknown {
  if (!v) return null;
  const kind = v.kind ?? Object.keys(v).find((k) => k.endsWith('Value') && v[k as keyof Value] != null);
  switch (kind) {
    case 'numberValue':
      return v.numberValue;
    case 'stringValue':
      return v.stringValue;
    case 'boolValue':
      return v.boolValue;
    case 'structValue':
      return Object.fromEntries(Object.entries(v.structValue?.fields ?? {}).map(([k, f]) => [k, valueToJson(f)]));
    case 'listValue':
      return (v.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}
