import type { protos } from '@google-cloud/aiplatform';
import { bareState, watchEnded, type VertexJobProgress } from '../../contracts';

/** A protobuf Timestamp as ISO 8601 (ms precision); undefined when Vertex has not set it. */
export function isoTime(t: protos.google.protobuf.ITimestamp | null | undefined): string | undefined {
  return t?.seconds ? new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString() : undefined;
}

/** The fields every Vertex job kind shares. */
export interface VertexJobResource {
  state?: unknown;
  error?: { code?: number | null; message?: string | null } | null;
  createTime?: protos.google.protobuf.ITimestamp | null;
  startTime?: protos.google.protobuf.ITimestamp | null;
  endTime?: protos.google.protobuf.ITimestamp | null;
}

/** What the run learns from one read of a job of any kind. */
export function progressOf<J extends { state?: string }>(job: J, j: VertexJobResource): VertexJobProgress<J> {
  const state = bareState(j.state);
  return {
    job: { ...job, state },
    state,
    terminal: watchEnded(state),
    error: j.error?.code ? { code: j.error.code, message: j.error.message ?? '' } : undefined,
    startTime: isoTime(j.startTime),
    endTime: isoTime(j.endTime),
  };
}
