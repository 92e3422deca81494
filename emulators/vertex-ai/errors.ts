import { status, type ServiceError, Metadata } from '@grpc/grpc-js';

/** A gRPC error with a status code, as the handlers throw and the server layer sends. */
export class RpcError extends Error implements Partial<ServiceError> {
  override name = 'RpcError';
  constructor(
    readonly code: status,
    message: string,
    readonly metadata: Metadata = new Metadata(),
  ) {
    super(message);
  }
}

export interface FieldViolation {
  field: string;
  message: string;
}

/** Vertex's INVALID_ARGUMENT message style: "List of found errors:\t1.Field: x; Message: y.\t" */
export function invalidArgument(violations: FieldViolation[]): RpcError {
  const list = violations.map((v, i) => `${i + 1}.Field: ${v.field}; Message: ${v.message}\t`).join('');
  return new RpcError(status.INVALID_ARGUMENT, `List of found errors:\t${list}`);
}

export const notFound = (what: string, name: string) => new RpcError(status.NOT_FOUND, `${what} "${name}" not found.`);

/** Collects field violations so one response lists every problem, as Vertex does. */
export class Violations {
  private readonly list: FieldViolation[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  required(field: string, value: unknown): void {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
      this.add(field, 'Required field is not set.');
    }
  }
  throwIfAny(): void {
    if (this.list.length) throw invalidArgument(this.list);
  }
}
