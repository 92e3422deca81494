import { createHash, randomInt } from 'node:crypto';
import { type status } from '@grpc/grpc-js';
import { RpcError, invalidArgument } from './errors';

// Vertex returns names with the project NUMBER even when the request used the project ID
// (projects/968728188698/locations/…); client code that compares names with what it sent breaks
// on real Vertex. With `projectNumbers` on, the emulator does the same.

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const PROJECT_NUMBER = /^[0-9]{6,19}$/;
const LOCATION = /^[a-z]+(-[a-z]+)?-?[a-z]*[0-9]+$|^global$/;

export interface Parent {
  project: string;
  location: string;
}

export function parseParent(parent: unknown, field = 'parent'): Parent {
  const m = typeof parent === 'string' ? /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent) : null;
  if (!m)
    throw invalidArgument([
      { field, message: `must be "projects/{project}/locations/{location}", got ${JSON.stringify(parent ?? '')}.` },
    ]);
  const [, project, location] = m as unknown as [string, string, string];
  if (!PROJECT_ID.test(project) && !PROJECT_NUMBER.test(project)) {
    throw invalidArgument([{ field, message: `"${project}" is not a valid project ID or number.` }]);
  }
  if (!LOCATION.test(location))
    throw invalidArgument([{ field, message: `"${location}" is not a valid location (e.g. us-central1).` }]);
  return { project, location };
}

/** A stable 12-digit project number for a project ID (Vertex's are 12 digits). */
export function projectNumberOf(project: string): string {
  if (PROJECT_NUMBER.test(project)) return project;
  const n = BigInt(`0x${createHash('sha256').update(project).digest('hex').slice(0, 15)}`) % 900_000_000_000n;
  return String(n + 100_000_000_000n);
}

/** Server-made ids are 19-digit decimal strings, like Vertex's. */
export function numericId(): string {
  return String(randomInt(1, 9)) + Array.from({ length: 18 }, () => randomInt(0, 10)).join('');
}

export interface ResourceName extends Parent {
  collection: string;
  id: string;
}

/** Parses projects/{p}/locations/{l}/{collection}/{id}; the key used to store it uses the number. */
export function parseResourceName(name: unknown, collection: string, field = 'name'): ResourceName {
  const m = typeof name === 'string' ? /^projects\/([^/]+)\/locations\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(name) : null;
  if (!m || m[3] !== collection) {
    throw invalidArgument([
      {
        field,
        message: `must be "projects/{project}/locations/{location}/${collection}/{id}", got ${JSON.stringify(name ?? '')}.`,
      },
    ]);
  }
  const parent = parseParent(`projects/${m[1]}/locations/${m[2]}`, field);
  return { ...parent, collection, id: m[4]! };
}

export function storageKey(r: ResourceName): string {
  return `projects/${projectNumberOf(r.project)}/locations/${r.location}/${r.collection}/${r.id}`;
}

/** The name returned to clients: with the project number, or as the client spelled the project. */
export function clientName(r: ResourceName, projectNumbers: boolean): string {
  const project = projectNumbers ? projectNumberOf(r.project) : r.project;
  return `projects/${project}/locations/${r.location}/${r.collection}/${r.id}`;
}

export function assertValid(cond: boolean, code: status, message: string): asserts cond {
  if (!cond) throw new RpcError(code, message);
}
