import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ADMIN, fakeGateway, renderView } from "../test/render";
import { RunsView } from "./Runs";
import { roundsOf } from "./runsData";

describe("the runs view", () => {
  it("says clearly when the gateway has no runs API", async () => {
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : undefined));
    renderView(<RunsView />);

    expect(await screen.findByRole("alert")).toHaveTextContent(/does not offer this/);
  });

  it("says when there are no runs yet", async () => {
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : url.pathname === "/api/v1/runs" ? { body: { total: 0, items: [] } } : undefined));
    renderView(<RunsView />);

    expect(await screen.findByText(/No runs yet/)).toBeInTheDocument();
  });

  it("charts a run's rounds", async () => {
    const run = { id: "run-1234", status: "done", config: {}, model_sha256: "ab", error: null, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", results: { rounds: [{ round: 1, accuracy: 0.8, plain_accuracy: 0.6, accepted: ["h1"] }] } };
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : url.pathname === "/api/v1/runs" ? { body: { total: 1, items: [run] } } : undefined));
    renderView(<RunsView />);

    expect(await screen.findByText(/Final accuracy: AURA 80.0% vs plain 60.0%/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Download model" })).toHaveAttribute("href", "/api/v1/runs/run-1234/model");
  });

  it("reads the runner's rounds, tolerating a missing plain baseline or no rounds yet", () => {
    expect(roundsOf({ rounds: [{ round: 1, accuracy: 0.7, plain_accuracy: null, accepted: ["a", "b"] }] })).toEqual([
      { round: 1, aura: 0.7, plain: null, accepted: ["a", "b"] },
    ]);
    expect(roundsOf({ progress: { round: 0, of: 5 } })).toEqual([]);
  });
});
