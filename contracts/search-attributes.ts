import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Custom search attributes of the project's namespace. The local stack registers them at server
// start; on a Temporal cluster or Temporal Cloud they are created once per namespace (docs/production.md).
// Upserting one is a billable action, so workflows set them at start and upsert only on change.
export const searchAttributes = {
  pipeline: defineSearchAttributeKey('pipeline', SearchAttributeType.KEYWORD),
  environment: defineSearchAttributeKey('environment', SearchAttributeType.KEYWORD),
  partition: defineSearchAttributeKey('partition', SearchAttributeType.KEYWORD),
  segment: defineSearchAttributeKey('segment', SearchAttributeType.KEYWORD),
  country: defineSearchAttributeKey('country', SearchAttributeType.KEYWORD),
  sns: defineSearchAttributeKey('sns', SearchAttributeType.KEYWORD),
  runPhase: defineSearchAttributeKey('runPhase', SearchAttributeType.KEYWORD),
  modelVersion: defineSearchAttributeKey('modelVersion', SearchAttributeType.KEYWORD),
  /** Set by a consumer while it waits for a model ("env/pipeline/segment"): how a training run finds whom to tell. */
  awaitingModel: defineSearchAttributeKey('awaitingModel', SearchAttributeType.KEYWORD),
  /** On a managed schedule: the hash of its config, so a sync that changes nothing writes nothing. */
  scheduleHash: defineSearchAttributeKey('scheduleHash', SearchAttributeType.KEYWORD),
  /**
   * On a training run an alert started: the Cloud Monitoring incident that asked for it
   * (docs/alert-triggers.md). A keyword list: PostgreSQL visibility's ten Keyword slots are taken.
   */
  alertIncidents: defineSearchAttributeKey('alertIncidents', SearchAttributeType.KEYWORD_LIST),
} as const;
