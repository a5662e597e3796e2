import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App, titleFor } from "./App";
import { ADMIN, fakeGateway, renderView } from "./test/render";

const emptyStats = {
  submissions_total: 0, submissions_today: 0, in_pipeline: 0, accepted: 0, rejected: 0, errors: 0,
  acceptance_rate: null, rejections_by_signal: [], time_to_verdict_p50_s: null, time_to_verdict_p95_s: null,
  ledger_size: 0, checkpoint_size: null, checkpoint_root: null, checkpoint_at: null,
};

describe("sign-in and the nav bar", () => {
  it("signs in with a key, sends it as X-API-Key, and shows every view to an admin", async () => {
    const keys: (string | null)[] = [];
    fakeGateway((url, { headers }) => {
      keys.push(headers.get("X-API-Key"));
      if (url.pathname === "/api/v1/me") return { body: ADMIN };
      if (url.pathname === "/api/v1/stats/summary") return { body: emptyStats };
      if (url.pathname === "/api/v1/analytics/daily") return { body: [] };
      if (url.pathname === "/api/v1/submissions") return { body: { total: 0, items: [] } };
      if (url.pathname === "/api/v1/workers") return { body: { broker: "filesystem", queues: [], workers: [], alerts: [] } };
      return undefined;
    });
    renderView(<App />, { key: null });

    await userEvent.type(screen.getByLabelText("API key"), "aura_secret");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    const nav = await screen.findByRole("navigation", { name: "main" });
    expect(nav.textContent).toContain("Security");
    expect(keys[0]).toBe("aura_secret");
    expect(sessionStorage.getItem("aura.apiKey")).toBe("aura_secret");
    expect(await screen.findByText(/Nothing submitted yet/, undefined, { timeout: 10_000 })).toBeInTheDocument();
  });

  it("shows the gateway's refusal for a bad key", async () => {
    fakeGateway(() => ({ status: 401, body: { detail: "unknown or revoked API key" } }));
    renderView(<App />, { key: null });

    await userEvent.type(screen.getByLabelText("API key"), "aura_nope");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("unknown or revoked API key");
  });

  it("hides operator views from a hospital key", async () => {
    fakeGateway((url) => {
      if (url.pathname === "/api/v1/me") return { body: { role: "hospital", hospital_id: "h1", hospital_name: "Cleveland" } };
      if (url.pathname === "/api/v1/stats/summary") return { body: emptyStats };
      if (url.pathname === "/api/v1/analytics/daily") return { body: [] };
      if (url.pathname === "/api/v1/submissions") return { body: { total: 0, items: [] } };
      return undefined;
    });
    renderView(<App />);

    const nav = await screen.findByRole("navigation", { name: "main" });
    await waitFor(() => expect(nav.textContent).toContain("Upload"));
    expect(nav.textContent).not.toContain("Analytics");
    expect(screen.getByRole("link", { name: "Hospitals" })).toHaveAttribute("href", "/hospitals/h1");
  });
});

describe("the document title", () => {
  it("names the view, the submission or the hospital, so tabs and history tell views apart", () => {
    expect(titleFor("/")).toBe("Overview · AURA");
    expect(titleFor("/ledger")).toBe("Ledger · AURA");
    expect(titleFor("/submissions/3f2a9c1e-1111-4000-8000-000000000000")).toBe("Submission 3f2a9c1e · AURA");
    expect(titleFor("/hospitals/va-long-beach")).toBe("Hospital va-long-beach · AURA");
    expect(titleFor("/nowhere")).toBe("Not found · AURA");
  });
});
