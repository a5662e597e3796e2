// Reading a run's per-round results, whatever shape the runner settles on (rounds as a list of
// objects, or parallel arrays of accuracies).
import { asNumber, asStrings, field } from "../api/pending";

export interface RunRound {
  round: number;
  aura: number | null;
  plain: number | null;
  accepted: string[];
}

export function roundsOf(results: unknown): RunRound[] {
  const rounds = field(results, "rounds", "history");
  if (Array.isArray(rounds)) {
    return rounds.map((r, i) => ({
      round: asNumber(field(r, "round")) ?? i + 1,
      aura: asNumber(field(r, "aura_accuracy", "accuracy_aura", "aura", "accuracy")),
      plain: asNumber(field(r, "plain_accuracy", "accuracy_plain", "fedavg_accuracy", "plain", "baseline_accuracy")),
      accepted: asStrings(field(r, "accepted", "accepted_hospitals")) ?? [],
    }));
  }
  const aura = field(results, "aura_accuracy", "accuracy_aura", "aura");
  const plain = field(results, "plain_accuracy", "accuracy_plain", "fedavg_accuracy", "plain");
  if (Array.isArray(aura) || Array.isArray(plain)) {
    const n = Math.max(Array.isArray(aura) ? aura.length : 0, Array.isArray(plain) ? plain.length : 0);
    const accepted = field(results, "accepted", "accepted_hospitals");
    return Array.from({ length: n }, (_, i) => ({
      round: i + 1,
      aura: Array.isArray(aura) ? asNumber(aura[i]) : null,
      plain: Array.isArray(plain) ? asNumber(plain[i]) : null,
      accepted: Array.isArray(accepted) ? (asStrings(accepted[i]) ?? []) : [],
    }));
  }
  return [];
}
