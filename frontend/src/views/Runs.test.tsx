import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ADMIN, fakeGateway, renderView } from "../test/render";
import { RunsView } from "./Runs";
import { roundsOf } from "./runsData";

describe("the runs view", () => {
  it("says clearly when the gateway has no runs API", async () => {
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : undefined));
    renderView(<RunsView />);

    expect(await screen.findByText(/does not offer federated runs yet/)).toBeInTheDocument();
  });

  it("charts a run's rounds", async () => {
    const run = { id: "run-1234", status: "done", created_at: "2026-01-01T00:00:00Z", results: { rounds: [{ round: 1, aura_accuracy: 0.8, plain_accuracy: 0.6, accepted: ["h1"] }] } };
    fakeGateway((url) => (url.pathname === "/api/v1/me" ? { body: ADMIN } : url.pathname === "/api/v1/runs" ? { body: [run] } : undefined));
    renderView(<RunsView />);

    expect(await screen.findByText(/Final accuracy: AURA 80.0% vs plain 60.0%/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Download model" })).toHaveAttribute("href", "/api/v1/runs/run-1234/model");
  });

  it("reads rounds given as parallel arrays", () => {
    expect(roundsOf({ aura_accuracy: [0.5, 0.7], plain_accuracy: [0.5, 0.4] })).toEqual([
      { round: 1, aura: 0.5, plain: 0.5, accepted: [] },
      { round: 2, aura: 0.7, plain: 0.4, accepted: [] },
    ]);
  });
});
