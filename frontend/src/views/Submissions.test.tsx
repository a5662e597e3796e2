import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ADMIN, fakeGateway, renderView } from "../test/render";
import { SubmissionsView } from "./Submissions";

const row = (id: string, status: string, verdict: string | null) => ({
  id, hospital_id: "h1", task: "heart-mlp", round: 1, status, verdict, file_sha256: "a".repeat(64),
  tensor_sha256: "b".repeat(64), size_bytes: 100, num_examples: null, attempts: 1,
  created_at: "2026-01-01T00:00:00Z", decided_at: null, recorded_at: null,
});

function gateway(items: unknown[]) {
  return fakeGateway((url) => {
    if (url.pathname === "/api/v1/me") return { body: ADMIN };
    if (url.pathname === "/api/v1/submissions") return { body: { total: items.length, items } };
    return undefined;
  });
}

describe("the submissions table", () => {
  it("lists submissions with their pipeline progress and verdict", async () => {
    gateway([row("11111111-aaaa", "fingerprinted", null), row("22222222-bbbb", "recorded", "rejected")]);
    renderView(<SubmissionsView />, { route: "/submissions" });

    const link = await screen.findByRole("link", { name: "22222222" });
    const tr = link.closest("tr")!;
    expect(within(tr).getByText("rejected")).toBeInTheDocument();
    expect(screen.getByLabelText("pipeline: fingerprinted")).toBeInTheDocument();
  });

  it("asks the server to sort and filter, and keeps both in the URL", async () => {
    const seen = gateway([row("11111111-aaaa", "recorded", "accepted")]);
    renderView(<SubmissionsView />, { route: "/submissions" });
    await screen.findByRole("link", { name: "11111111" });

    await userEvent.click(screen.getByRole("button", { name: /Round/ }));
    await userEvent.selectOptions(screen.getByLabelText("Verdict"), "rejected");

    await waitFor(() => expect(screen.getByTestId("location").textContent).toMatch(/verdict=rejected/));
    expect(screen.getByTestId("location").textContent).toMatch(/sort=-?round/);
    const last = seen.filter((u) => u.pathname === "/api/v1/submissions").at(-1)!;
    expect(last.searchParams.get("verdict")).toBe("rejected");
    expect(last.searchParams.get("sort")).toMatch(/^-?round$/);
  });

  it("says so when nothing matches", async () => {
    gateway([]);
    renderView(<SubmissionsView />, { route: "/submissions?verdict=error" });

    expect(await screen.findByText("No submissions match these filters.")).toBeInTheDocument();
  });

  it("shows the gateway's error", async () => {
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : { status: 500, body: { detail: "database down" } }));
    renderView(<SubmissionsView />, { route: "/submissions" });

    expect(await screen.findByRole("alert")).toHaveTextContent("database down");
  });
});
