// The house's layers, checked by `npm run lint` (depcruise; test/rules/layer-rules.test.ts proves the rules
// bite). Imports go downwards only, and no module reaches itself through others. Type-only imports
// count too: a type is still knowledge of the layer above, and none of ours needs an exception
// (workflows import activities for their types, but activities are below workflows).
//
// Lowest first:
//   contracts      workflow inputs, signals, queries, results: what every layer speaks
//   config         the pipeline config, env variables, prices, templates: parsed, no I/O beyond reading
//   observability  metric names, log format, logger, run gauges. Below infrastructure, so the Vertex
//                  clients count their calls with its names; workflow interceptors import it too
//                  (workflows are higher), so what they reach of it must stay workflow-safe
//   infra          clients and connections: Vertex (with its quota budget), GCS, Temporal
//   starts         how runs are started or found by their canonical ids (the library and activities)
//   activities     factories with injected clients
//   workflows      deterministic orchestration
//   workers        the process that hosts activities and workflows
//   client         the `ct` CLI and library
// Beside them: emulators/ stand in for Google's services and import none of the app (they must not
// agree with it by sharing code); stack/ starts the local topologies and runs the app only as
// processes; scripts/ (entries) and bench/ import neither each other nor test/; test/ may import anything.
const layers = [
  'contracts',
  'config',
  'observability',
  'infra',
  'starts',
  'activities',
  'workflows',
  'workers',
  'client',
];
const app = layers.join('|');
const tooling = 'emulators|stack|scripts|bench|test';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import circle: cut it by moving what both sides need into the lower one, or into a module of its own.',
      from: {},
      to: { circular: true },
    },
    ...layers.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer}`,
      severity: 'error',
      comment: `${layer}/ may import only ${layers.slice(0, i + 1).join(', ')}: imports go downwards (see .dependency-cruiser.cjs).`,
      from: { path: `^${layer}/` },
      to: { path: `^(${layers.slice(i + 1).join('|')})/` },
    })),
    {
      name: 'app-not-tooling',
      severity: 'error',
      comment: 'What runs in production may not import the emulators, the local stacks, scripts, benches or tests.',
      from: { path: `^(${app})/` },
      to: { path: `^(${tooling})/` },
    },
    {
      name: 'emulators-stand-alone',
      severity: 'error',
      comment: "The emulators stand in for Google's services: they import nothing of the app or its tooling.",
      from: { path: '^emulators/' },
      to: { path: `^(${app}|stack|scripts|bench|test)/` },
    },
    {
      name: 'stack-runs-processes',
      severity: 'error',
      comment:
        'The local stacks start the worker and the CLI as processes: stack/ imports contracts, config, observability, infra and the emulators only.',
      from: { path: '^stack/' },
      to: { path: '^(starts|activities|workflows|workers|client|scripts|bench|test)/' },
    },
    {
      name: 'scripts-not-bench-or-test',
      severity: 'error',
      comment: 'scripts/ are entries: code they share with benches or tests belongs in stack/ or below.',
      from: { path: '^scripts/' },
      to: { path: '^(bench|test)/' },
    },
    {
      name: 'bench-not-scripts-or-test',
      severity: 'error',
      comment: 'Benches build on stack/ and the app, not on entries or test helpers.',
      from: { path: '^bench/' },
      to: { path: '^(scripts|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.tools|\\.data|test-results)/' },
    // Keep `import type` arrows, which TypeScript erases before dependency-cruiser would see them.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'] },
  },
};
