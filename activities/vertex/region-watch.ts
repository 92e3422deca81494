import type { MetricMeter } from '@temporalio/common';
import { stillRunning, watchEnded, type JobLabel } from '../../contracts';
import { nothingToCancel, vertexFailure } from './errors';
import type { RegionWatchSettings, VertexClientFactory, VertexClients } from '../../infra/vertex/clients';

export type { RegionWatchSettings };
import { isoTime, type VertexJobResource } from './progress';
import { RegionPace, watchMetrics, type ReadUsage, type WatchObserver } from './watch-pace';
import type { ReleasedWatches } from './released-watches';

// The coalesced watch: every job a worker watches in one project, region and job kind
// is read by one paged List, not by a Get per job, so reads grow with jobs ÷ page size.
//
// Which filter. Vertex's List filters differ by kind: ListPipelineJobs takes update_time and
// end_time, but ListCustomJobs and ListBatchPredictionJobs take only display_name, state,
// create_time and labels (job_service.proto). A live-only filter (`state!=…`) would hide a job that
// ended between two polls, costing a Get per ended job (hundreds a minute at 2,000 short jobs). So
// the one filter all three kinds accept is used: the label every job of this project carries, and
// `create_time >= the oldest watched job's`. The listing holds the watched jobs whatever their
// state, plus the others created since (about as many again at steady state): a few pages. It also
// shows each watched job's late-committed twins (same attempt label, another name), which the
// watch cancels — the duplicate sweep, with no read of its own. The window opens `twinWindowMs`
// before the oldest watched job: a twin whose create committed late but before the retry's
// create (a listing that lagged) is older than the job it duplicates. Two minutes covers a
// retry's timeline (the client's 30 s deadline, the backoff, two listings 5 s apart) many times.
//
// A watched job missing from a full listing (a listing that lags behind its create, or a job that
// was deleted) is read with one Get: NOT_FOUND fails its watch as a per-job Get would have.

export type JobKindName = 'pipelineJob' | 'customJob' | 'batchPredictionJob';

export interface ListedJob extends VertexJobResource {
  name?: string | null;
  labels?: Record<string, string> | null;
}

/** The calls the watch makes on one kind of job, bound to a region's clients. */
export interface JobLister {
  list(parent: string, filter: string, pageSize: number, pageToken?: string): Promise<[ListedJob[], string]>;
  get(name: string): Promise<ListedJob>;
  cancel(name: string): Promise<unknown>;
}

export interface WatchedJob {
  name: string;
  /** RFC 3339; without it the first look is a Get, which also learns it. */
  createTime?: string;
  findBy?: JobLabel;
}

interface Waiter {
  job: WatchedJob;
  pollIntervalMs: number;
  settle: (r: ListedJob | undefined) => void;
  fail: (err: Error) => void;
  last?: ListedJob;
  timer: NodeJS.Timeout;
  until?: AbortSignal;
  stop: () => void;
}

export interface RegionWatchStats {
  lists: number;
  gets: number;
  errors: number;
}

/** The watch of one job kind in one project and region, within one worker process. */
export class RegionKindWatch {
  readonly stats: RegionWatchStats = { lists: 0, gets: 0, errors: 0 };
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly createdAt = new Map<string, number>();
  private running = false;
  private backoffMs = 0;

  constructor(
    private readonly parent: string,
    private readonly lister: JobLister,
    private readonly settings: RegionWatchSettings,
    private readonly log: (message: string, attrs: Record<string, unknown>) => void = () => {},
    /** The project and region's read share, which this kind shares with the other kinds watched there. */
    private readonly pace = new RegionPace('', '', settings),
    private readonly kind = 'job',
    private readonly observer?: WatchObserver,
  ) {}

  /**
   * Resolves with the job as last listed once it has ended (WATCH_END_STATES), or at `deadline` or
   * when `until` aborts (a stopping worker's released watches: released-watches.ts) with its last
   * look (undefined if none); rejects if the job is gone.
   */
  awaitEnd(
    job: WatchedJob,
    deadline: number,
    pollIntervalMs = this.settings.intervalMs,
    until?: AbortSignal,
  ): Promise<ListedJob | undefined> {
    const created = job.createTime ? Date.parse(job.createTime) : undefined;
    if (created !== undefined && Number.isFinite(created)) this.createdAt.set(job.name, created);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        job,
        pollIntervalMs,
        settle: (r) => {
          this.remove(waiter);
          resolve(r);
        },
        fail: (err: Error) => {
          this.remove(waiter);
          reject(err);
        },
        timer: setTimeout(() => waiter.settle(waiter.last), Math.max(0, deadline - Date.now())),
        until,
        stop: () => waiter.settle(waiter.last),
      };
      let set = this.waiters.get(job.name);
      if (!set) this.waiters.set(job.name, (set = new Set()));
      set.add(waiter);
      if (until?.aborted) return waiter.stop();
      until?.addEventListener('abort', waiter.stop, { once: true });
      if (!this.running) void this.loop();
    });
  }

  private remove(w: Waiter) {
    clearTimeout(w.timer);
    w.until?.removeEventListener('abort', w.stop);
    const set = this.waiters.get(w.job.name);
    set?.delete(w);
    if (set?.size === 0) {
      this.waiters.delete(w.job.name);
      this.createdAt.delete(w.job.name);
    }
  }

  /** Without a read share, a plan's faster polling interval is honoured; with one, the share decides. */
  private paced(): number {
    let ms = this.pace.intervalOf(this.kind);
    if (this.settings.readShare > 0) return ms;
    for (const set of this.waiters.values()) for (const w of set) ms = Math.min(ms, w.pollIntervalMs);
    return ms;
  }

  private async loop() {
    this.running = true;
    try {
      while (this.waiters.size > 0) {
        try {
          await this.poll();
          this.backoffMs = 0;
        } catch (err) {
          // A 429 or 503 slows the watch down; it never fails the runs that wait on it.
          this.stats.errors++;
          this.backoffMs = Math.min(Math.max(this.backoffMs * 2, this.paced()), this.settings.maxBackoffMs);
          this.log('listing Vertex jobs failed; the watch slows down and lists again', {
            parent: this.parent,
            backoffMs: this.backoffMs,
            error: (err as Error).message,
          });
        }
        if (this.waiters.size === 0) break;
        const ms = this.paced() + this.backoffMs;
        this.observer?.paced(this.region, this.kind, ms);
        await new Promise((r) => setTimeout(r, ms));
      }
    } finally {
      this.running = false;
      this.pace.idle(this.kind);
    }
  }

  /** One round: learn unknown create times, list every page, deliver, cancel twins, Get the missing. */
  private async poll() {
    for (const name of [...this.waiters.keys()]) {
      if (this.createdAt.has(name)) continue;
      const job = await this.getOrFailWaiters(name);
      if (job) this.deliver(name, job);
    }
    const watched = [...this.waiters.keys()];
    const known = watched.flatMap((n) => this.createdAt.get(n) ?? []);
    if (known.length === 0) return;
    const since = Math.min(...known);
    const from = new Date(Math.floor((since - this.settings.twinWindowMs) / 1000) * 1000).toISOString();
    const filter = `labels.${this.settings.labelKey}:* AND create_time>="${from}"`;
    const listed = new Map<string, ListedJob>();
    let token: string | undefined;
    let pages = 0;
    do {
      pages++;
      this.pace.read();
      this.observer?.listed(this.region, this.kind, 1);
      const [items, next] = await this.lister.list(this.parent, filter, this.settings.pageSize, token);
      this.stats.lists++;
      for (const j of items) if (j.name) listed.set(j.name, j);
      token = next || undefined;
    } while (token);
    this.pace.listing(this.kind, pages);

    const byLabel = new LabelIndex([...listed.values()]);
    for (const name of watched) {
      const set = this.waiters.get(name);
      if (!set) continue;
      const job = listed.get(name) ?? (await this.getOrFailWaiters(name));
      if (!job) continue;
      await this.cancelTwins(set, job, byLabel);
      this.deliver(name, job);
    }
  }

  /** Reads one job; when Vertex says it is gone (NOT_FOUND …), fails its waiters and returns undefined. */
  private async getOrFailWaiters(name: string): Promise<ListedJob | undefined> {
    this.stats.gets++;
    this.pace.read();
    try {
      const job = await this.lister.get(name);
      const created = isoTime(job.createTime);
      if (created) this.createdAt.set(name, Date.parse(created));
      return job;
    } catch (err) {
      const failure = vertexFailure(err, `reading ${name}`);
      if (!failure.nonRetryable) throw err;
      for (const w of [...(this.waiters.get(name) ?? [])]) w.fail(failure);
      return undefined;
    }
  }

  /** Cancels other live jobs with this job's attempt label: a create that committed late. */
  private async cancelTwins(set: Set<Waiter>, job: ListedJob, byLabel: LabelIndex) {
    const findBy = [...set][0]?.job.findBy;
    if (!findBy) return;
    for (const other of byLabel.get(findBy)) {
      if (other.name === job.name || !stillRunning(other.state)) continue;
      try {
        this.pace.read();
        await this.lister.cancel(other.name!);
      } catch (err) {
        if (!nothingToCancel(err)) throw err;
      }
      other.state = 'CANCELLING';
      this.log('cancelled a duplicate Vertex job of this attempt (its create committed late)', {
        job: other.name,
        kept: job.name,
      });
    }
  }

  private get region(): string {
    return this.parent.split('/')[3] ?? '';
  }

  private deliver(name: string, job: ListedJob) {
    for (const w of [...(this.waiters.get(name) ?? [])]) {
      w.last = job;
      if (watchEnded(job.state)) w.settle(job);
    }
  }
}

/**
 * A listing's jobs by label, built once per round and per label key: each watched job looks up its
 * twins instead of scanning the listing (watched × listed was ~10⁸ comparisons a round at 10,000 jobs).
 */
class LabelIndex {
  private readonly byKey = new Map<string, Map<string, ListedJob[]>>();

  constructor(private readonly jobs: readonly ListedJob[]) {}

  get({ key, value }: JobLabel): ListedJob[] {
    let index = this.byKey.get(key);
    if (!index) {
      index = new Map();
      for (const j of this.jobs) {
        const v = j.labels?.[key];
        if (v === undefined) continue;
        const same = index.get(v);
        if (same) same.push(j);
        else index.set(v, [j]);
      }
      this.byKey.set(key, index);
    }
    return index.get(value) ?? [];
  }
}

/** Every RegionKindWatch of one worker process, made on first use. */
export class RegionWatches {
  private readonly watches = new Map<string, RegionKindWatch>();
  private readonly paces = new Map<string, RegionPace>();
  private readonly observer?: WatchObserver;

  constructor(
    private readonly vertex: VertexClientFactory,
    readonly settings: RegionWatchSettings,
    private readonly log?: (message: string, attrs: Record<string, unknown>) => void,
    private readonly extras: {
      /** The budget's last minute of reads: the watch yields to other callers (watch-pace.ts). */
      usage?: ReadUsage;
      /** ct_vertex_watch_interval_seconds and ct_vertex_watch_lists. */
      meter?: MetricMeter;
      /** The worker's completions: a watch lets go of its activity slot (released-watches.ts). */
      released?: ReleasedWatches;
    } = {},
  ) {
    this.observer = extras.meter && watchMetrics(extras.meter);
  }

  get released(): ReleasedWatches | undefined {
    return this.extras.released;
  }

  /** The watch of the project, region and kind a job's resource name says. */
  watchOf(kind: JobKindName, jobName: string): RegionKindWatch {
    const parent = jobName.replace(/\/[^/]+\/[^/]+$/, '');
    const key = `${kind} ${parent}`;
    let watch = this.watches.get(key);
    if (!watch) {
      const [, project = '', , region = ''] = parent.split('/');
      let pace = this.paces.get(parent);
      if (!pace) this.paces.set(parent, (pace = new RegionPace(project, region, this.settings, this.extras.usage)));
      const lister = listerFor(kind, this.vertex(region));
      watch = new RegionKindWatch(parent, lister, this.settings, this.log, pace, kind, this.observer);
      this.watches.set(key, watch);
    }
    return watch;
  }
}

type Page = [ListedJob[], unknown, { nextPageToken?: string | null } | undefined];

/**
 * The fields a listing returns (`read_mask`): what the watch and the runs read of a job (progress.ts,
 * the twins' labels), not its specs. A full BatchPredictionJob is its input, output and machine
 * configs; a PipelineJob, its whole pipeline spec: a page was mostly bytes no one read.
 */
const WATCHED_FIELDS = ['name', 'state', 'error', 'create_time', 'start_time', 'end_time', 'labels'];
const readMask = (kind: JobKindName) => ({
  paths: kind === 'batchPredictionJob' ? [...WATCHED_FIELDS, 'completion_stats', 'output_info'] : WATCHED_FIELDS,
});

function listerFor(kind: JobKindName, c: VertexClients): JobLister {
  const page = (p: Promise<unknown>): Promise<[ListedJob[], string]> =>
    (p as Promise<Page>).then(([items, , response]) => [items, response?.nextPageToken ?? '']);
  const noAutoPaging = { autoPaginate: false };
  const mask = readMask(kind);
  switch (kind) {
    case 'pipelineJob':
      return {
        list: (parent, filter, pageSize, pageToken) =>
          page(c.pipelines.listPipelineJobs({ parent, filter, pageSize, pageToken, readMask: mask }, noAutoPaging)),
        get: async (name) => (await c.pipelines.getPipelineJob({ name }))[0],
        cancel: (name) => c.pipelines.cancelPipelineJob({ name }),
      };
    case 'customJob':
      return {
        list: (parent, filter, pageSize, pageToken) =>
          page(c.jobs.listCustomJobs({ parent, filter, pageSize, pageToken, readMask: mask }, noAutoPaging)),
        get: async (name) => (await c.jobs.getCustomJob({ name }))[0],
        cancel: (name) => c.jobs.cancelCustomJob({ name }),
      };
    case 'batchPredictionJob':
      return {
        list: (parent, filter, pageSize, pageToken) =>
          page(c.jobs.listBatchPredictionJobs({ parent, filter, pageSize, pageToken, readMask: mask }, noAutoPaging)),
        get: async (name) => (await c.jobs.getBatchPredictionJob({ name }))[0],
        cancel: (name) => c.jobs.cancelBatchPredictionJob({ name }),
      };
  }
}
