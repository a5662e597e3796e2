// The one API client: typed from the gateway's OpenAPI schema (schema.d.ts is generated), sending
// the signed-in key as X-API-Key on every request.
import createClient, { type Middleware } from "openapi-fetch";
import { getApiKey } from "./key";
import type { components, paths } from "./schema";

export { setApiKey } from "./key";
export type Schemas = components["schemas"];

const withKey: Middleware = {
  onRequest({ request }) {
    // A request may carry a key of its own (Upload submits with a hospital's key).
    const key = getApiKey();
    if (key && !request.headers.has("X-API-Key")) request.headers.set("X-API-Key", key);
    return request;
  },
};

// fetch is looked up per call (not captured once), so tests can stand in for the gateway.
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(withKey);

/** An HTTP error with the gateway's own message, so views can say what went wrong. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The human message inside a FastAPI error body (`detail` as text, {code, message}, or a 422 list). */
export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (detail && typeof detail === "object" && "message" in detail) {
      const d = detail as { code?: unknown; message: unknown };
      return typeof d.code === "string" ? `${d.code}: ${String(d.message)}` : String(d.message);
    }
    if (Array.isArray(detail)) {
      return detail
        .map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg ?? ""}`)
        .join("; ");
    }
  }
  return fallback;
}

/** The data of an openapi-fetch result, or an ApiError carrying the gateway's message. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    throw new ApiError(result.response.status, errorMessage(result.error, `${result.response.status} ${result.response.statusText}`));
  }
  return result.data;
}
