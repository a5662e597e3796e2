import { describe, expect, it } from "vitest";
import { metricRows, rankedShifts } from "./evidence";

describe("evidence helpers", () => {
  it("ranks features by the size of their attribution shift", () => {
    const shifts = rankedShifts(["age", "chol", "oldpeak"], [0.1, -0.5, 0.9], [0.1, 0.2, 0.1]);
    expect(shifts.map((s) => s.feature)).toEqual(["oldpeak", "chol", "age"]);
    expect(shifts[1]!.shift).toBeCloseTo(-0.7);
  });

  it("lines up update and global metrics with their difference", () => {
    const rows = metricRows({ loss: 0.9, accuracy: 0.6 }, { loss: 0.5, accuracy: 0.8, auc: 0.7 });
    expect(rows.map((r) => r.metric)).toEqual(["accuracy", "auc", "loss"]);
    expect(rows[2]!.delta).toBeCloseTo(0.4);
    expect(rows[1]!.update).toBeNull();
  });
});
