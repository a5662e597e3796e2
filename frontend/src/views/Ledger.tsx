// The Ledger: the signed checkpoint, entries with search, whole-log verification on the server and
// in the browser, and a consistency check against a checkpoint kept from earlier.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, api, unwrap, type Schemas } from "../api/client";
import { latestCheckpoint, logKey } from "../api/ledger";
import { Empty, ErrorBox, Loading, QueryView } from "../components/States";
import { shortHash, shortId, when } from "../lib/format";
import { allEntries, checkConsistency, checkLog } from "../lib/ledgerChecks";
import { parseCheckpoint, parseNote, verifyNote, type Checkpoint } from "../lib/note";

const PAGE = 20;

interface CheckpointInfo {
  note: string;
  checkpoint: Checkpoint;
  vkey: string;
}

async function loadCheckpoint(): Promise<CheckpointInfo | null> {
  const latest = await latestCheckpoint();
  if (!latest) return null;
  // The signed note is parsed here rather than trusting the response's size and root fields.
  return { note: latest.note, checkpoint: parseCheckpoint(parseNote(latest.note).body), vkey: await logKey() };
}

export function LedgerView() {
  const checkpoint = useQuery({ queryKey: ["checkpoint"], queryFn: loadCheckpoint, refetchInterval: 10_000 });
  return (
    <section>
      <h1>Ledger</h1>
      <h2>Signed checkpoint</h2>
      <QueryView query={checkpoint} what="the checkpoint">
        {(cp) => (cp ? <CheckpointPanel info={cp} /> : <Empty>No checkpoint has been signed yet: the log publishes one as entries arrive.</Empty>)}
      </QueryView>
      <VerifyPanel checkpoint={checkpoint.data?.checkpoint ?? null} />
      {checkpoint.data && <ConsistencyPanel current={checkpoint.data.checkpoint} vkey={checkpoint.data.vkey} />}
      <Entries />
    </section>
  );
}

function CheckpointPanel({ info }: { info: CheckpointInfo }) {
  const signature = useQuery({
    queryKey: ["checkpoint-signature", info.note, info.vkey],
    queryFn: () => verifyNote(info.note, info.vkey),
  });
  return (
    <div className="panel">
      <p>
        Origin <code>{info.checkpoint.origin}</code>, {info.checkpoint.size} entries.
      </p>
      <pre className="note">{info.note}</pre>
      <p role="status">
        {signature.data == null
          ? "Checking the signature…"
          : signature.data.status === "valid"
            ? `✔ Ed25519 signature by ${signature.data.signer} verified in this browser.`
            : signature.data.status === "unsupported"
              ? `This browser cannot check Ed25519 (${signature.data.reason}); the gateway checks it server-side.`
              : `✘ Signature does not verify: ${signature.data.reason}`}
      </p>
      <p className="hint">
        Verifier key: <code>{info.vkey}</code>
      </p>
    </div>
  );
}

function VerifyPanel({ checkpoint }: { checkpoint: Checkpoint | null }) {
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
          {browser.data.badLeaf === null ? `✔ ${browser.data.entries} entries hash to their leaves` : `✘ entry ${browser.data.badLeaf} does not hash to its leaf`}
          {"; "}root {shortHash(browser.data.root, 16)}
          {browser.data.matchesCheckpoint === true && " equals the signed checkpoint's root."}
          {browser.data.matchesCheckpoint === false && " does NOT equal the signed checkpoint's root."}
          {browser.data.matchesCheckpoint === null && " (no checkpoint to compare with)."}
        </p>
      )}
    </div>
  );
}

function ConsistencyPanel({ current, vkey }: { current: Checkpoint; vkey: string }) {
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

function Entries() {
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState("");
  const entries = useQuery({
    queryKey: ["ledger-entries", offset],
    queryFn: async () => unwrap(await api.GET("/api/v1/ledger/entries", { params: { query: { limit: PAGE, offset } } })),
    refetchInterval: 5_000,
    placeholderData: (p) => p,
  });
  const found = useMutation({ mutationFn: (term: string) => findEntry(term, entries.data?.total ?? 0) });
  return (
    <div>
      <h2>Entries</h2>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          found.mutate(search.trim());
        }}
      >
        <label>
          Find by index, submission id or hash
          <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder="12, 3f2a…, or a leaf/chain hash" />
        </label>
        <button type="submit" disabled={!search.trim()}>
          Find
        </button>
      </form>
      {found.isPending && <Loading what="the entry" />}
      {found.isError && <ErrorBox error={found.error} what="the entry" />}
      {found.data === null && <Empty>No entry matches “{search}”.</Empty>}
      {found.data && <EntryTable items={[found.data]} />}
      <QueryView query={entries} what="ledger entries">
        {(page) =>
          page.total === 0 ? (
            <Empty>The ledger is empty: no verdict has been recorded yet.</Empty>
          ) : (
            <>
              <EntryTable items={page.items} />
              <div className="pager">
                <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                  ← Newer
                </button>
                <span>
                  {offset + 1}–{Math.min(page.total, offset + PAGE)} of {page.total}
                </span>
                <button type="button" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
                  Older →
                </button>
              </div>
            </>
          )
        }
      </QueryView>
    </div>
  );
}

async function findEntry(term: string, total: number): Promise<Schemas["LedgerEntryOut"] | null> {
  if (/^\d+$/.test(term)) {
    try {
      return unwrap(await api.GET("/api/v1/ledger/entries/{index}", { params: { path: { index: Number(term) } } }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }
  // No server-side search by id or hash: scan the log (bounded by BROWSER_LIMIT) for a prefix.
  const needle = term.toLowerCase();
  const all = await allEntries(total);
  return all.find((e) => e.submission_id.startsWith(needle) || e.leaf_hash.startsWith(needle) || e.chain_hash.startsWith(needle)) ?? null;
}

function EntryTable({ items }: { items: Schemas["LedgerEntryOut"][] }) {
  return (
    <div className="table-wrap">
      <table className="entries">
        <thead>
          <tr>
            <th>#</th>
            <th>Submission</th>
            <th>Leaf hash</th>
            <th>Chain hash</th>
            <th>Recorded</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.index}>
              <td>{e.index}</td>
              <td>
                <Link to={`/submissions/${e.submission_id}`}>{shortId(e.submission_id)}</Link>
              </td>
              <td>
                <code title={e.leaf_hash}>{shortHash(e.leaf_hash, 16)}</code>
              </td>
              <td>
                <code title={e.chain_hash}>{shortHash(e.chain_hash, 16)}</code>
              </td>
              <td>{when(e.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
