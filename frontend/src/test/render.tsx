// Rendering a view as the app does (query client, router, session), against a stand-in gateway.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { vi } from "vitest";
import { setApiKey } from "../api/key";
import { SessionProvider } from "../auth/session";

export type Handler = (url: URL, init: { method: string; headers: Headers }) => { status?: number; body: unknown } | undefined;

/** Replace fetch with `handler`; returns the list of requests made, for assertions. */
export function fakeGateway(handler: Handler): URL[] {
  const seen: URL[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), location.origin), init);
    const url = new URL(request.url);
    seen.push(url);
    const answer = handler(url, { method: request.method, headers: request.headers }) ?? { status: 404, body: { detail: "Not Found" } };
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { "Content-Type": "application/json" } });
  });
  return seen;
}

function LocationProbe() {
  const location = useLocation();
  return <output data-testid="location">{location.pathname + location.search}</output>;
}

/** Render `ui` at `route`, signed in as `me` when given (null: signed out). */
export function renderView(ui: ReactNode, { route = "/", path = "*", key = "aura_test" }: { route?: string; path?: string; key?: string | null } = {}) {
  if (key) {
    sessionStorage.setItem("aura.apiKey", key);
    setApiKey(key);
  }
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[route]}>
        <SessionProvider>
          <Routes>
            <Route path={path} element={ui} />
          </Routes>
          <LocationProbe />
        </SessionProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

export const ADMIN = { role: "admin", hospital_id: null, hospital_name: null };
