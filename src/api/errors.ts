/**
 * API errors as Kubernetes `Status` objects. Every failure the API server returns is an
 * `ApiError` carrying the exact `Status` the kube-apiserver would send (reason, code,
 * details), with the message wording of apimachinery's `k8s.io/apimachinery/pkg/api/errors`.
 */
import type { Status, StatusCause, StatusDetails } from "./types.js";

/** A failure returned by the API: carries the Kubernetes `Status`. */
export class ApiError extends Error {
  /** The Status object, as sent on the wire. */
  readonly status: Status;

  constructor(status: Status) {
    super(status.message ?? status.reason ?? "API error");
    this.name = "ApiError";
    this.status = status;
  }

  /** HTTP status code (404, 409, 422, ...). */
  get code(): number {
    return this.status.code;
  }

  /** Machine-readable reason (`NotFound`, `Conflict`, `Invalid`, ...). */
  get reason(): string {
    return this.status.reason ?? "";
  }

  toJSON(): Status {
    return this.status;
  }
}

/** True when `err` is an ApiError with the given reason. */
export function isReason(err: unknown, reason: string): err is ApiError {
  return err instanceof ApiError && err.status.reason === reason;
}

/** Builds a failure Status. */
export function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details) status.details = details;
  return status;
}

/** Identifies an object in error messages: `resource` is the plural (`pods`), `group` may be "". */
export interface ErrorTarget {
  group: string;
  resource: string;
  name: string;
  kind?: string;
}

function qualified(t: ErrorTarget): string {
  return t.group ? `${t.resource}.${t.group}` : t.resource;
}

/** 404 NotFound: `pods "web" not found`. */
export function notFound(t: ErrorTarget): ApiError {
  return new ApiError(
    failure(404, "NotFound", `${qualified(t)} "${t.name}" not found`, { name: t.name, group: t.group || undefined, kind: t.resource }),
  );
}

/** 409 AlreadyExists: `pods "web" already exists`. */
export function alreadyExists(t: ErrorTarget): ApiError {
  return new ApiError(
    failure(409, "AlreadyExists", `${qualified(t)} "${t.name}" already exists`, { name: t.name, group: t.group || undefined, kind: t.resource }),
  );
}

/** 409 Conflict on a stale resourceVersion, worded like the kube-apiserver. */
export function conflict(t: ErrorTarget, why = "the object has been modified; please apply your changes to the latest version and try again"): ApiError {
  return new ApiError(
    failure(409, "Conflict", `Operation cannot be fulfilled on ${qualified(t)} "${t.name}": ${why}`, {
      name: t.name,
      group: t.group || undefined,
      kind: t.resource,
    }),
  );
}

/** 422 Invalid with one cause per field: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...`. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message ?? "")).join(", ");
  const message = causes.length === 1 ? `${qualifiedKind} "${name}" is invalid: ${list}` : `${qualifiedKind} "${name}" is invalid: [${list}]`;
  return new ApiError(failure(422, "Invalid", message, { name, group: group || undefined, kind, causes }));
}

/** 410 Gone: a watch or list from a compacted revision. */
export function gone(message: string): ApiError {
  return new ApiError(failure(410, "Expired", message));
}

/** 400 BadRequest. */
export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(failure(400, "BadRequest", message, causes ? { causes } : undefined));
}

/** 404 NotFound for an unknown kind or resource: `no matches for kind "X" in version "g/v"`. */
export function noKindMatch(kind: string, apiVersion: string, hint?: string): ApiError {
  const message = `no matches for kind "${kind}" in version "${apiVersion}"` + (hint ? `: ${hint}` : "");
  return new ApiError(failure(404, "NotFound", message, { kind }));
}

/** 405 MethodNotAllowed, e.g. a subresource the kind does not have. */
export function methodNotAllowed(message: string): ApiError {
  return new ApiError(failure(405, "MethodNotAllowed", message));
}

/** 500 InternalError. */
export function internal(message: string): ApiError {
  return new ApiError(failure(500, "InternalError", `Internal error occurred: ${message}`));
}

/** 503 ServiceUnavailable (e.g. the store is closed or unavailable). */
export function unavailable(message: string): ApiError {
  return new ApiError(failure(503, "ServiceUnavailable", message));
}

/** 403 Forbidden, e.g. creating in a namespace that is terminating. */
export function forbidden(t: ErrorTarget, why: string): ApiError {
  return new ApiError(
    failure(403, "Forbidden", `${qualified(t)} "${t.name}" is forbidden: ${why}`, { name: t.name, group: t.group || undefined, kind: t.resource }),
  );
}
