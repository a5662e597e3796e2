// The form that starts a federated run: how many rounds, and optionally one attacking hospital.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { ErrorBox } from "../components/States";

// The four Fed-Heart-Disease centres as the runner names them, and the attack suite's names.
const HOSPITALS = ["cleveland", "hungary", "switzerland", "va-long-beach"];
const ATTACKS = ["scaling", "sign-flip", "gaussian-noise", "label-flip", "backdoor", "alie", "ipm", "min-max"];

export function RunStart() {
  const client = useQueryClient();
  const [rounds, setRounds] = useState(5);
  const [attacker, setAttacker] = useState("");
  const [attack, setAttack] = useState("scaling");
  const start = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/runs", { body: { rounds, attacks: attacker ? [{ hospital: attacker, attack }] : [] } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["runs"] }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    start.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-label="start a run">
      <h2>Start a run</h2>
      <label>
        Rounds
        <input type="number" min={1} max={200} value={rounds} onChange={(e) => setRounds(Number(e.target.value))} />
      </label>
      <label>
        Attacking hospital
        <select aria-label="Attacking hospital" value={attacker} onChange={(e) => setAttacker(e.target.value)}>
          <option value="">none (all honest)</option>
          {HOSPITALS.map((h) => (
            <option key={h}>{h}</option>
          ))}
        </select>
      </label>
      {attacker && (
        <label>
          Attack
          <select aria-label="Attack" value={attack} onChange={(e) => setAttack(e.target.value)}>
            {ATTACKS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
      )}
      <button type="submit" disabled={start.isPending}>
        {start.isPending ? "Starting…" : "Start"}
      </button>
      {start.isError && <ErrorBox error={start.error} what="the new run" />}
    </form>
  );
}
