import { compileFilter, FilterError, type FilterRecord } from '../../emulators/vertex-ai/filter';

const FIELDS = [
  'state',
  'display_name',
  'create_time',
  'update_time',
  'end_time',
  'pipeline_name',
  'model_display_name',
];

function record(fields: FilterRecord['fields'], labels: FilterRecord['labels'] = {}): FilterRecord {
  return { fields, labels };
}

function matches(filter: string, rec: FilterRecord): boolean {
  return compileFilter(filter, FIELDS)(rec);
}

function filterError(filter: string, allowed: readonly string[] = FIELDS): FilterError {
  try {
    compileFilter(filter, allowed);
  } catch (err) {
    if (err instanceof FilterError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(filter)} to be rejected`);
}

const succeeded = record(
  { state: 'PIPELINE_STATE_SUCCEEDED', display_name: 'nightly-training', create_time: '2024-05-01T12:00:00.123456Z' },
  { env: 'prod', 'team-name_1': 'ml', empty: '' },
);

describe('compileFilter', () => {
  it('matches everything for an empty or blank filter', () => {
    expect(matches('', record({}))).toBe(true);
    expect(matches('  \n\t', record({}))).toBe(true);
  });

  describe('labels', () => {
    it('compares values with = and !=, quoted or bare', () => {
      expect(matches('labels.env="prod"', succeeded)).toBe(true);
      expect(matches('labels.env=prod', succeeded)).toBe(true);
      expect(matches('labels.env="dev"', succeeded)).toBe(false);
      expect(matches('labels.env!="dev"', succeeded)).toBe(true);
      expect(matches('labels.team-name_1=ml', succeeded)).toBe(true);
    });

    it('treats :* and labels:key as presence, including empty values', () => {
      expect(matches('labels.env:*', succeeded)).toBe(true);
      expect(matches('labels.empty:*', succeeded)).toBe(true);
      expect(matches('labels.owner:*', succeeded)).toBe(false);
      expect(matches('labels:env', succeeded)).toBe(true);
      expect(matches('labels:owner', succeeded)).toBe(false);
    });

    it('treats :"v" as equality, not substring', () => {
      expect(matches('labels.env:"prod"', succeeded)).toBe(true);
      expect(matches('labels.env:"pro"', succeeded)).toBe(false);
    });

    it('never matches a missing label except with !=', () => {
      expect(matches('labels.owner="x"', succeeded)).toBe(false);
      expect(matches('labels.owner!="x"', succeeded)).toBe(true);
      expect(matches('labels.constructor:*', record({}))).toBe(false);
    });

    it('rejects keys outside lowercase letters, digits, _ and -', () => {
      expect(filterError('labels.Env=prod').message).toContain('invalid label key "Env"');
    });
  });

  describe('plain fields', () => {
    it('compares state exactly, quoted or bare', () => {
      expect(matches('state="PIPELINE_STATE_SUCCEEDED"', succeeded)).toBe(true);
      expect(matches('state=PIPELINE_STATE_SUCCEEDED', succeeded)).toBe(true);
      expect(matches('state = PIPELINE_STATE_SUCCEEDED', succeeded)).toBe(true);
      expect(matches('state=PIPELINE_STATE_FAILED', succeeded)).toBe(false);
      expect(matches('state!=PIPELINE_STATE_FAILED', succeeded)).toBe(true);
      expect(matches('state!="PIPELINE_STATE_SUCCEEDED"', succeeded)).toBe(false);
      expect(matches('state=PIPELINE_STATE', succeeded)).toBe(false);
    });

    it('never matches a missing field except with !=', () => {
      const empty = record({ state: undefined });
      expect(matches('state=PIPELINE_STATE_SUCCEEDED', empty)).toBe(false);
      expect(matches('state:*', empty)).toBe(false);
      expect(matches('state:"PIPELINE"', empty)).toBe(false);
      expect(matches('end_time<"2030-01-01T00:00:00Z"', empty)).toBe(false);
      expect(matches('state!=PIPELINE_STATE_SUCCEEDED', empty)).toBe(true);
    });

    it('uses : as has: * for set and non-empty, otherwise a substring with * wildcards', () => {
      expect(matches('display_name:*', succeeded)).toBe(true);
      expect(matches('display_name:*', record({ display_name: '' }))).toBe(false);
      expect(matches('display_name:"train"', succeeded)).toBe(true);
      expect(matches('display_name:"nightly*ing"', succeeded)).toBe(true);
      expect(matches('display_name:"weekly"', succeeded)).toBe(false);
      expect(matches('display_name:"a.b"', record({ display_name: 'axb' }))).toBe(false);
    });

    it('reads \\" escapes in quoted values', () => {
      expect(matches('display_name="say \\"hi\\""', record({ display_name: 'say "hi"' }))).toBe(true);
    });

    it('accepts camelCase aliases', () => {
      expect(matches('displayName="nightly-training"', succeeded)).toBe(true);
      expect(matches('createTime>"2024-01-01T00:00:00Z"', succeeded)).toBe(true);
      expect(matches('pipelineName:*', succeeded)).toBe(false);
    });
  });

  describe('ordering', () => {
    it('compares RFC 3339 timestamps as instants', () => {
      expect(matches('create_time>"2024-05-01T12:00:00Z"', succeeded)).toBe(true);
      expect(matches('create_time<"2024-05-01T12:00:00.123457Z"', succeeded)).toBe(true);
      expect(matches('create_time<="2024-05-01T12:00:00.123456000Z"', succeeded)).toBe(true);
      expect(matches('create_time>="2024-05-01T12:00:00.123457Z"', succeeded)).toBe(false);
      // 13:00+02:00 is 11:00Z, earlier than the record, though it sorts later as a string.
      expect(matches('create_time>"2024-05-01T13:00:00+02:00"', succeeded)).toBe(true);
      expect(matches('create_time>=2024-05-01T12:00:00Z AND create_time<2024-05-02T00:00:00Z', succeeded)).toBe(true);
    });

    it('compares numbers numerically and anything else as strings', () => {
      const compile = (filter: string) => compileFilter(filter, ['count', 'name']);
      expect(compile('count>9')(record({ count: '10' }))).toBe(true);
      expect(compile('count<=1e1')(record({ count: '10' }))).toBe(true);
      expect(compile('name>"b"')(record({ name: 'c' }))).toBe(true);
      expect(compile('name>"9"')(record({ name: '10x' }))).toBe(false);
    });
  });

  describe('boolean structure', () => {
    const a = 'state=PIPELINE_STATE_SUCCEEDED';
    const b = 'labels.env=prod';
    const c = 'display_name:"nightly"';
    const failedProdNightly = record({ state: 'PIPELINE_STATE_FAILED', display_name: 'nightly' }, { env: 'prod' });
    const succeededDevOther = record({ state: 'PIPELINE_STATE_SUCCEEDED', display_name: 'other' }, { env: 'dev' });

    it('binds OR tighter than AND: a AND b OR c is a AND (b OR c)', () => {
      // a is false, c is true: (a AND b) OR c would match, a AND (b OR c) must not.
      expect(matches(`${a} AND ${b} OR ${c}`, failedProdNightly)).toBe(false);
      expect(matches(`${a} AND (${b} OR ${c})`, failedProdNightly)).toBe(false);
      expect(matches(`(${a} AND ${b}) OR ${c}`, failedProdNightly)).toBe(true);
      // Likewise a OR b AND c is (a OR b) AND c: a is true, c is false.
      expect(matches(`${a} OR ${b} AND ${c}`, succeededDevOther)).toBe(false);
    });

    it('reads whitespace between terms as AND, still below OR', () => {
      expect(matches(`${a} ${b}`, succeeded)).toBe(true);
      expect(matches(`${a} ${b}`, succeededDevOther)).toBe(false);
      expect(matches(`${a} ${b} OR ${c}`, failedProdNightly)).toBe(false);
    });

    it('negates with NOT and -', () => {
      expect(matches(`NOT ${a}`, succeeded)).toBe(false);
      expect(matches(`NOT ${a}`, failedProdNightly)).toBe(true);
      expect(matches('-labels.env:*', succeeded)).toBe(false);
      expect(matches('-labels.owner:*', succeeded)).toBe(true);
      expect(matches(`NOT (${a} OR ${b})`, failedProdNightly)).toBe(false);
      expect(matches(`NOT(${a})AND(${b})`, failedProdNightly)).toBe(true);
    });

    it('nests parentheses', () => {
      expect(matches(`((${a}) OR (${b} AND ${c}))`, failedProdNightly)).toBe(true);
      expect(matches(`((${a}) OR (${b} AND ${c}))`, record({}))).toBe(false);
    });
  });

  describe('errors', () => {
    it('names an unsupported field and lists the supported ones', () => {
      const err = filterError('foo="bar"');
      expect(err.message).toContain('unsupported field "foo"');
      expect(err.message).toContain('state, display_name');
      expect(err.message).toContain('labels.<key>');
      expect(filterError('state=X AND fooBar:*').message).toContain('unsupported field "fooBar"');
    });

    it.each([
      ['(state=X', 'expected ")" to close the "(" at character 1'],
      ['state=X)', 'at character 8: unexpected ")"'],
      ['state=', 'at character 7: missing value after "state="'],
      ['state= AND labels.env=prod', 'missing value after "state="'],
      ['state', 'expected an operator'],
      ['display_name="open', 'unterminated string'],
      ['AND state=X', 'expected a field name'],
      ['state=X OR', 'expected a field name, found end of filter'],
      ['()', 'expected a field name, found ")"'],
    ])('rejects %j', (filter, message) => {
      expect(filterError(filter).message).toContain(message);
    });
  });
});
