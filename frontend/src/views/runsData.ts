// A run's per-round results as fl/run_worker records them in the run's free-form `results`:
// rounds: [{round, accuracy (with AURA), plain_accuracy (the unvetted aggregate), accepted}].
import { asNumber, asStrings, field } from "../api/json";

export interface RunRound {
  round: number;
  aura: number | null;
  plain: number | null;
  accepted: string[];
}

export function roundsOf(results: unknown): RunRound[] {
  const rounds = field(results, "rounds");
  if (!Array.isArray(rounds)) return [];
  return rounds.map((r, i) => ({
    round: asNumber(field(r, "round")) ?? i + 1,
    aura: asNumber(field(r, "accuracy")),
    plain: asNumber(field(r, "plain_accuracy")),
    accepted: asStrings(field(r, "accepted")) ?? [],
  }));
}
