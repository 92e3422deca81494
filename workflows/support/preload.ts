// Loaded once per workflow thread, before any workflow, and shared by every workflow in that V8
// context (the bundle's `preloadModules`). Without it each cached workflow evaluates its own copy
// of zod (~0.7 MB of heap per workflow: 50 segments in flight cost 35 MB of schemas).
//
// Shared modules are deep-frozen once this has run, so whatever zod initialises lazily on first
// use (its default locale and memoizer in the global config, the JIT probe) must happen here:
// one schema built and parsed does it. Parsing stays jitless: zod's JIT (`new Function`) buys
// nothing for the few small payloads a workflow validates, and its probe could not be memoized.
// What no warm-up can cover: zod resets `lastIndex` on a format's pattern at every check, so
// formats backed by zod's own (now frozen) regexes — z.email(), .lowercase(), z.iso.date() … —
// throw here. Workflow-side schemas use .regex() with their own pattern; test/rules/workflow-zod.test.ts
// finds any that does not.
import { z } from 'zod';

z.config({ jitless: true });
z.object({ warmUp: z.string() }).safeParse({ warmUp: '' });
