// The one module of contracts that workflows and clients share: workflow inputs, signals,
// queries, updates and their zod schemas. It must stay workflow-safe (no Node built-ins).
export * from './failure-types';
export * from './parse';
export * from './partition';
export * from './search-attributes';
export * from './stack-check';
export * from './training-run';
export * from './model';
export * from './prediction';
export * from './schedules';
export * from './vertex-job';
export * from './vertex-naming';
export * from './cost';
export * from './rollout';
export type * from './training-plan';
export type * from './prediction-plan';
export type * from './rollout-plan';
export * from './flag-watch';
