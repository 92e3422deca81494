import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';

// The flag watch's contract (workflows/flag-watch.ts): one long-lived workflow per environment and
// bucket lists the flag objects Airflow DAGs write and delivers the data-ready each stands for.

export const flagWatchWorkflowType = 'flagWatch';
export const flagWatchId = (environment: string, bucket: string) => `flag-watch:${environment}:${bucket}`;

export const FlagWatchInput = z.strictObject({
  environment: z.string().regex(/^[a-z][a-z0-9-]*$/, 'an environment name of the config'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/, 'a Cloud Storage bucket name'),
  /** What the previous generation knew (continue-as-new); a new watch starts without. */
  state: z.custom<FlagWatchState>((v) => typeof v === 'object' && v !== null).optional(),
});
export type FlagWatchInput = z.infer<typeof FlagWatchInput>;

/** One generation of one flag object, as a listing showed it. */
export interface FlagSeen {
  /** The object's name in the watch's bucket. */
  object: string;
  /** Cloud Storage's generation: a rewrite of the object is a new one. The deduplication key. */
  generation: string;
  /** When this generation was written (the object's timeCreated). */
  writtenAt: string;
}

/** A flag found by a listing, read against the config: a dataset's partition, or why it does not count. */
export interface FlagFound extends FlagSeen {
  /** The source it fits (`dataset ← gs://bucket/template`). */
  source: string;
  dataset?: string;
  partition?: string;
  /** After this, a flag for the same partition would be refused by the window anyway: the ledger forgets it then. */
  until?: string;
  refused?: string;
}

export interface AwaitFlagsRequest {
  environment: string;
  bucket: string;
  /** Per listing group: every flag written before this was handled. */
  watermarks: Record<string, string>;
  /** Generations handled that are not older than their group's watermark yet (a listing shows them again). */
  handled: Record<string, string>;
  /** When the watch's last listing started (its result's listing.at): the next starts an interval after it at the earliest. */
  listedAt?: string;
}

export interface AwaitFlagsResult {
  found: FlagFound[];
  watermarks: Record<string, string>;
  /** Groups listed for the first time: what they hold is history, not triggers (docs/triggers.md). */
  baselined: string[];
  /** Their recent objects, so the next listings pass over them. */
  baselineHandled: FlagSeen[];
  listing: FlagListingStats;
}

export interface FlagListingStats {
  at: string;
  groups: number;
  /** List requests (one per page) of the last round. */
  pages: number;
  objects: number;
  errors: number;
}

export type FlagOutcome = 'delivered' | 'rewritten' | 'refused';

/** What became of one flag: reported in the watch's status and details, a log line and ct_flag_events. */
export interface FlagEvent extends FlagSeen {
  outcome: FlagOutcome;
  at: string;
  dataset?: string;
  partition?: string;
  reason?: string;
  /** Delivered: the runs reached (workflow ids), and those among them that had this dataset already. */
  runs?: string[];
  alreadyReady?: string[];
  /** Runs of this partition that had finished already. */
  finished?: string[];
  /** Rewritten: the generation delivered before. */
  delivered?: { generation: string; at: string };
}

export interface DeliverFlagsRequest {
  environment: string;
  bucket: string;
  deliver: (FlagSeen & { dataset: string; partition: string })[];
  /** Outcomes decided without a delivery (refused by the listing, rewritten): logged and counted with the others. */
  report: FlagEvent[];
}

/** A partition delivered: by which generation, when (epoch ms), and until when a rewrite is compared with it. */
export interface LedgerEntry {
  generation: string;
  at: number;
  until: number;
}

export interface FlagWatchState {
  /** Per listing group: every flag written before this was handled. */
  watermarks: Record<string, string>;
  handled: Record<string, FlagSeen>;
  /** The partitions delivered, by "dataset partition": a later generation is a rewrite, reported, never delivered. */
  ledger: Record<string, LedgerEntry>;
  recent: FlagEvent[];
  counts: Record<FlagOutcome, number>;
  listing?: FlagListingStats;
  since: string;
}

export interface FlagWatchStatus {
  environment: string;
  bucket: string;
  since: string;
  watermarks: Record<string, string>;
  counts: Record<FlagOutcome, number>;
  /** Partitions delivered that a rewrite would still be compared with. */
  delivered: number;
  listing?: FlagListingStats;
  /** The latest outcomes, newest first. */
  recent: FlagEvent[];
}
export const flagWatchQuery = defineQuery<FlagWatchStatus>('status');

/**
 * Objects written in the watch's bucket, told by a Cloud Storage notification (`ct flags notify`):
 * the watch reads and decides them as it would its listing's, before its next listing.
 */
export const FlagNotice = z.strictObject({
  flags: z
    .array(
      z.strictObject({
        object: z.string().min(1).max(1024),
        generation: z.string().regex(/^[0-9]{1,20}$/, 'a Cloud Storage generation'),
        writtenAt: z
          .string()
          .max(40)
          .refine((s) => !Number.isNaN(Date.parse(s)), 'an RFC 3339 time'),
      }),
    )
    .min(1)
    .max(100),
});
export type FlagNotice = z.infer<typeof FlagNotice>;
export const flagNoticeSignal = defineSignal<[FlagNotice]>('flagNotice');
