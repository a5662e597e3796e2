import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ADMIN, fakeGateway, renderView } from "../test/render";
import { SubmissionView } from "./SubmissionDetail";

const detail = {
  id: "abcdef12-0000", hospital_id: "h9", task: "heart-mlp", federation: "heart-consortium", run: 2, round: 1,
  status: "decided", verdict: "rejected",
  file_sha256: "f".repeat(64), tensor_sha256: "e".repeat(64), size_bytes: 10, num_examples: 50, attempts: 1,
  created_at: "2026-01-01T00:00:00Z", decided_at: "2026-01-01T00:00:02Z", recorded_at: null, last_error: null,
  evaluation: { update_metrics: { loss: 1.2, accuracy: 0.5 }, global_metrics: { loss: 0.6, accuracy: 0.7 } },
  fingerprint: { method: "deeplift", features: ["age", "oldpeak", "chol"], attribution: [0.1, 0.9, 0.0], attribution_abs: [0.1, 0.9, 0.0], reference: [0.1, 0.1, 0.05], peer_reference: null },
  decision: {
    verdict: "rejected", score: 0.9, threshold: 0.5, features: { norm_ratio: 6.1 }, calibration: "heart-consortium v3",
    reasons: [
      { signal: "update_norm", severity: 0.9, value: 12, reference: 2, text: "update norm 12 is 6.1x the reference median" },
      { signal: "golden_loss", severity: 0.2, value: 1.2, reference: 0.6, text: "golden-set loss 1.200 vs global 0.600" },
    ],
  },
  ledger_index: null,
  signature: { verified: true, alg: "ed25519", key: "0123456789abcdef", signed: {}, sig: "AAAA", claimed: null },
};

describe("the evidence page", () => {
  it("shows ranked reasons, metrics beside the global model's, and names the largest attribution shift", async () => {
    fakeGateway((url) => {
      if (url.pathname === "/api/v1/me") return { body: ADMIN };
      if (url.pathname === "/api/v1/submissions/abcdef12-0000") return { body: detail };
      if (url.pathname === "/api/v1/analytics/scores")
        return { body: { bin_edges: [0, 0.5, 1], accepted: [3, 0], rejected: [0, 1], threshold: 0.5, accepted_p50: 0.1, accepted_p95: 0.2 } };
      return undefined;
    });
    renderView(<SubmissionView />, { route: "/submissions/abcdef12-0000", path: "/submissions/:id" });

    const reasons = await screen.findAllByRole("listitem");
    expect(reasons.find((li) => li.textContent?.includes("update norm 12"))).toHaveClass("severe");
    expect(screen.getByText("+0.6")).toBeInTheDocument(); // loss delta, update vs global
    expect(screen.getByText(/Largest shifts from the global model/).textContent).toMatch(/oldpeak.*\+0\.8/);
    expect(screen.getByText(/Not in the ledger yet/)).toBeInTheDocument();
    expect(await screen.findByText(/accepted updates score 0.1 at the median/)).toBeInTheDocument();
    expect(screen.getByText("heart-consortium · run 2")).toBeInTheDocument();
    expect(screen.getByText("heart-consortium v3")).toBeInTheDocument(); // the calibration the verdict used
    expect(screen.getByText("✔ Ed25519, key 0123456789abcdef, verified at intake")).toBeInTheDocument();
  });
});
