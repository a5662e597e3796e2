// Is today's log an append-only extension of a checkpoint someone kept? (RFC 9162 consistency)
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ErrorBox } from "../../components/States";
import { checkConsistency } from "../../lib/ledgerChecks";
import type { Checkpoint } from "../../lib/note";

export function ConsistencyPanel({ current, vkey }: { current: Checkpoint; vkey: string }) {
  const [pasted, setPasted] = useState("");
  const check = useMutation({ mutationFn: () => checkConsistency(pasted, current, vkey) });
  return (
    <form
      className="panel"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        check.mutate();
      }}
    >
      <h2>Consistency with a checkpoint you kept</h2>
      <textarea value={pasted} onChange={(e) => setPasted(e.target.value)} rows={5} placeholder="Paste an earlier checkpoint note" aria-label="earlier checkpoint" />
      <button type="submit" disabled={!pasted.trim() || check.isPending}>
        Check consistency
      </button>
      {check.isError && <ErrorBox error={check.error} what="the consistency proof" />}
      {check.data && (
        <p className={`verify-result ${check.data.ok ? "ok" : "bad"}`} role="status">
          {check.data.ok ? "✔ " : "✘ "}
          {check.data.detail}
        </p>
      )}
    </form>
  );
}
