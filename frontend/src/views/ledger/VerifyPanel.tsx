// Whole-log verification: on the server, and recomputed here from the entries' bytes.
import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ErrorBox } from "../../components/States";
import { shortHash } from "../../lib/format";
import { allEntries, checkLog, type LogCheck } from "../../lib/ledgerChecks";
import type { Checkpoint } from "../../lib/note";

export function VerifyPanel({ checkpoint }: { checkpoint: Checkpoint | null }) {
  const server = useMutation({ mutationFn: async () => unwrap(await api.POST("/api/v1/ledger/verify")) });
  const browser = useMutation({
    mutationFn: async () => {
      const first = unwrap(await api.GET("/api/v1/ledger/entries", { params: { query: { limit: 1 } } }));
      return checkLog(await allEntries(first.total), checkpoint);
    },
  });
  return (
    <div className="panel">
      <h2>Verify the whole log</h2>
      <button type="button" onClick={() => server.mutate()} disabled={server.isPending}>
        {server.isPending ? "Verifying…" : "Verify on the server"}
      </button>{" "}
      <button type="button" onClick={() => browser.mutate()} disabled={browser.isPending}>
        {browser.isPending ? "Recomputing…" : "Recompute in this browser"}
      </button>
      {server.isError && <ErrorBox error={server.error} what="the verification" />}
      {server.data && (
        <p className={`verify-result ${server.data.ok ? "ok" : "bad"}`} role="status">
          {server.data.ok
            ? `✔ Ledger verified: all ${server.data.size} entries hash and chain correctly` +
              (server.data.checkpoints_checked ? `; ${server.data.checkpoints_checked} signed checkpoint(s) match the tree.` : ".")
            : `✘ Ledger broken at entry ${server.data.first_bad_index}: ${server.data.problem}`}
        </p>
      )}
      {browser.isError && <ErrorBox error={browser.error} what="the entries" />}
      {browser.data && (
        <p className={`verify-result ${browser.data.badLeaf === null && browser.data.matchesCheckpoint !== false ? "ok" : "bad"}`} role="status">
          {browser.data.badLeaf === null
            ? `✔ ${browser.data.entries - browser.data.withheld} entries hash to their leaves` +
              (browser.data.withheld ? ` (${browser.data.withheld} other hospitals' entries taken as the leaf hashes served)` : "")
            : `✘ entry ${browser.data.badLeaf} does not hash to its leaf`}
          {"; "}
          {rootSentence(browser.data)}
        </p>
      )}
    </div>
  );
}

// Exactly what was compared with what: the root of how many leaves, against which checkpoint.
export function rootSentence(check: LogCheck): string {
  const root = `the Merkle root of entries 0-${check.rootSize - 1} (${shortHash(check.root, 16)})`;
  if (check.matchesCheckpoint === null) return `${root}; no signed checkpoint covers them to compare with.`;
  const newer = check.entries - check.rootSize;
  return `${root} ${check.matchesCheckpoint ? "equals" : "does NOT equal"} the root of the signed checkpoint of size ` +
    `${check.rootSize}` + (newer > 0 ? `; the ${newer} newer entries are under no checkpoint yet.` : ".");
}
