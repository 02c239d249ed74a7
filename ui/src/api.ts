// The generated bindings return `Result` objects; screens want values or a thrown
// ErrorBody {code, message}.
import type { ErrorBody, Result } from "./bindings";
export { commands } from "./bindings";
export type * from "./bindings";

export async function call<T>(p: Promise<Result<T, ErrorBody>>): Promise<T> {
  const r = await p;
  if (r.status === "error") throw r.error;
  return r.data;
}

/** Is `e` an error body from a command? */
export function isErrorBody(e: unknown): e is ErrorBody {
  return !!e && typeof e === "object" && "code" in e && "message" in e;
}

/** An error from a command, or anything else thrown, as one line. */
export function describe(e: unknown): string {
  if (isErrorBody(e)) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
