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

/** An error from a command, or anything else thrown, as one line. */
export function describe(e: unknown): string {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    const b = e as ErrorBody;
    return `${b.code}: ${b.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}
