// The ledger's entries, newest first, with lookup by index, submission id or hash.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { Empty, ErrorBox, Loading, QueryView } from "../../components/States";
import { shortHash, shortId, when } from "../../lib/format";
import { allEntries } from "../../lib/ledgerChecks";

const PAGE = 20;

export function Entries() {
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
  return (
    all.find((e) => e.submission_id?.startsWith(needle) || e.leaf_hash.startsWith(needle) || e.chain_hash.startsWith(needle)) ??
    null
  );
}

/** The calibration a calibration entry records ("FED vN"), read from its canonical bytes. */
function calibrationName(entry: string): string {
  try {
    const fields = JSON.parse(entry) as { calibration?: unknown };
    return typeof fields.calibration === "string" ? fields.calibration : "";
  } catch {
    return "";
  }
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
                {e.submission_id ? (
                  <Link to={`/submissions/${e.submission_id}`}>{shortId(e.submission_id)}</Link>
                ) : e.entry === null ? (
                  <span title="Another hospital's verdict: its hashes are shown so the log can be verified, not its evidence">
                    another hospital
                  </span>
                ) : (
                  <span title="A recalibration: every later verdict of this federation is judged with it">
                    calibration {calibrationName(e.entry)}
                  </span>
                )}
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
