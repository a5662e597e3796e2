// The submission's ledger receipt, and a button that verifies it here, in the browser.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";
import { logKey } from "../api/ledger";
import { checkReceipt, type ReceiptCheck } from "../lib/receipt";
import { Empty, ErrorBox, Loading } from "./States";

export function useReceipt(id: string, recorded: boolean) {
  return useQuery({
    queryKey: ["receipt", id],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/submissions/{submission_id}/receipt", { params: { path: { submission_id: id } } })),
    enabled: recorded,
  });
}

export function ReceiptPanel({ id, recorded, ledgerIndex }: { id: string; recorded: boolean; ledgerIndex: number | null }) {
  const receipt = useReceipt(id, recorded);
  const [check, setCheck] = useState<ReceiptCheck | { error: string } | null>(null);
  const [busy, setBusy] = useState(false);

  if (!recorded) return <Empty>Not in the ledger yet: the receipt appears once the verdict is recorded.</Empty>;
  if (receipt.isPending) return <Loading what="the receipt" />;
  if (receipt.isError) return <ErrorBox error={receipt.error} what="the receipt" />;
  const raw = receipt.data;

  async function verify() {
    setBusy(true);
    try {
      setCheck(await checkReceipt(raw, await logKey()));
    } catch (e) {
      setCheck({ error: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="receipt">
      <p>
        Ledger entry #{ledgerIndex ?? "?"}.{" "}
        <button type="button" onClick={verify} disabled={busy}>
          {busy ? "Verifying…" : "Verify inclusion in this browser"}
        </button>
      </p>
      {check && "error" in check && (
        <p className="state error" role="alert">
          Could not verify: {check.error}
        </p>
      )}
      {check && "steps" in check && (
        <div className={`verify-result ${check.ok ? "ok" : "bad"}`} role="status">
          <strong>{check.ok ? "Receipt verified" : "Receipt does NOT verify"}</strong>
          <ul className="plain">
            {check.steps.map((s) => (
              <li key={s.label}>
                {s.ok === true ? "✔" : s.ok === false ? "✘" : "–"} {s.label}: <span className="muted">{s.detail}</span>
              </li>
            ))}
          </ul>
          {check.signature.status === "unsupported" && (
            <p className="hint">This browser cannot check Ed25519; the gateway checks the checkpoint signature server-side.</p>
          )}
        </div>
      )}
      <details>
        <summary>Receipt as served</summary>
        <pre>{JSON.stringify(raw, null, 2)}</pre>
      </details>
    </div>
  );
}
