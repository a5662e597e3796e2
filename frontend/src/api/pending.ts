// Endpoints other engineers are building at the same time as the dashboard (receipts, checkpoints,
// proofs, runs). While a gateway does not offer one, it is absent from the generated schema, so it
// is fetched here untyped and read defensively; a route the gateway does not have is reported as
// "unavailable" (FastAPI's bare "Not Found"), distinct from a 404 about a missing record.
import { ApiError, errorMessage } from "./client";
import { getApiKey } from "./key";

export type Optional<T> = { available: false } | { available: true; data: T };

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  const key = getApiKey();
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** JSON from an endpoint that may not exist on this gateway yet. */
export async function optionalJson(path: string, method = "GET", body?: unknown): Promise<Optional<unknown>> {
  const response = await call(method, path, body);
  const parsed: unknown = await response.json().catch(() => null);
  if (response.ok) return { available: true, data: parsed };
  const routeMissing =
    (response.status === 404 || response.status === 405) &&
    parsed !== null &&
    typeof parsed === "object" &&
    ["Not Found", "Method Not Allowed"].includes(String((parsed as { detail?: unknown }).detail));
  if (routeMissing) return { available: false };
  throw new ApiError(response.status, errorMessage(parsed, `${response.status} ${response.statusText}`));
}

/** A field of an untyped object, trying each name in turn (the endpoints' shapes are settling). */
export function field(obj: unknown, ...names: string[]): unknown {
  if (!obj || typeof obj !== "object") return undefined;
  for (const name of names) {
    const value = (obj as Record<string, unknown>)[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

export const asString = (v: unknown): string | null => (typeof v === "string" ? v : null);
export const asNumber = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
export const asStrings = (v: unknown): string[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null;
