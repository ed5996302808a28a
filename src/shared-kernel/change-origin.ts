/**
 * Who makes a change and from where, for the audit log, carried with the request's asynchronous
 * context (AsyncLocalStorage) rather than through every service signature: the HTTP layer opens
 * a scope per request and names the actor once authentication knows it; the unit of work reads it
 * when it commits. Outside any scope (the CLI, the worker, start-up) the system is the actor.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export type ChangeActorType = "user" | "api_key" | "system";

export interface ChangeActor {
  readonly type: ChangeActorType;
  /** The user id, the API key id, or null for the system. */
  readonly id: string | null;
  readonly username: string | null;
  /** For an API key: the user who created it (the key acts for them). */
  readonly userId?: string;
}

export interface ChangeOrigin {
  readonly actor: ChangeActor;
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export const SYSTEM_ACTOR: ChangeActor = Object.freeze({ type: "system", id: null, username: null });

const SYSTEM_ORIGIN: ChangeOrigin = Object.freeze({ actor: SYSTEM_ACTOR, requestId: null, ip: null, userAgent: null });

/** Mutable within its scope: the actor becomes known after the scope opened. */
interface Scope {
  origin: ChangeOrigin;
}

const scopes = new AsyncLocalStorage<Scope>();

/** Runs `work` (and everything it starts) with `origin` as the origin of its changes. */
export function withChangeOrigin<T>(origin: ChangeOrigin, work: () => T): T {
  return scopes.run({ origin }, work);
}

/** Names the actor of the current scope (after authentication); no-op outside a scope. */
export function setChangeActor(actor: ChangeActor): void {
  const scope = scopes.getStore();
  if (scope !== undefined) scope.origin = { ...scope.origin, actor };
}

export function currentChangeOrigin(): ChangeOrigin {
  return scopes.getStore()?.origin ?? SYSTEM_ORIGIN;
}
