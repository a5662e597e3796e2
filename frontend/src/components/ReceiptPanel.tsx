// The submission's ledger receipt, and a button that verifies it here, in the browser.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { asString, field, optionalJson } from "../api/pending";
import { checkReceipt, readReceipt, type ReceiptCheck } from "../lib/receipt";
import { Empty, ErrorBox, Loading } from "./States";

export function useReceipt(id: string, recorded: boolean) {
  return useQuery({
    queryKey: ["receipt", id],
    queryFn: () => optionalJson(`/api/v1/submissions/${encodeURIComponent(id)}/receipt`),
    enabled: recorded,
  });
}

/** The log's verifier key, for receipts that do not carry it. */
async function logKey(): Promise<string | null> {
  const result = await optionalJson("/api/v1/ledger/key");
  if (!result.available) return null;
  return typeof result.data === "string" ? result.data : asString(field(result.data, "vkey", "verifier_key", "key"));
}

export function ReceiptPanel({ id, recorded, ledgerIndex }: { id: string; recorded: boolean; ledgerIndex: number | null }) {
  const receipt = useReceipt(id, recorded);
  const [check, setCheck] = useState<ReceiptCheck | { error: string } | null>(null);
  const [busy, setBusy] = useState(false);

  if (!recorded) return <Empty>Not in the ledger yet: the receipt appears once the verdict is recorded.</Empty>;
  if (receipt.isPending) return <Loading what="the receipt" />;
  if (receipt.isError) return <ErrorBox error={receipt.error} what="the receipt" />;
  if (!receipt.data.available) {
    return (
      <Empty>
        Recorded as ledger entry #{ledgerIndex ?? "?"}. This gateway does not serve receipts yet, so there is no inclusion proof to
        verify here; the whole log can still be verified on the <a href="/ledger">Ledger</a> page.
      </Empty>
    );
  }
  const raw = receipt.data.data;

  async function verify() {
    setBusy(true);
    try {
      const parsed = readReceipt(raw);
      setCheck(await checkReceipt(parsed, parsed.vkey ?? (await logKey())));
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
