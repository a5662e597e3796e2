// The live submissions table: filters, sorting and paging happen on the server and live in the URL,
// so any view of the table is a link; it re-polls so statuses move without a reload.
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type SortingState,
} from "@tanstack/react-table";
import { Link, useSearchParams } from "react-router";
import type { Schemas } from "../api/client";
import { useSubmissions, type SubmissionFilters } from "../api/queries";
import { readsAll, useSession } from "../auth/session";
import { PipelineProgress, VerdictBadge } from "../components/Badges";
import { Empty, ErrorBox, Loading } from "../components/States";
import { shortId, when } from "../lib/format";
import { filtersFromParams, PAGE_SIZE, SORTABLE, sortParam } from "./submissionFilters";

type Row = Schemas["SubmissionSummary"];
const column = createColumnHelper<Row>();

const columns = [
  column.accessor("id", {
    header: "Submission",
    enableSorting: false,
    cell: (c) => <Link to={`/submissions/${c.getValue()}`}>{shortId(c.getValue())}</Link>,
  }),
  column.accessor("hospital_id", { header: "Hospital" }),
  column.accessor("task", { header: "Task", enableSorting: false }),
  column.accessor("round", { header: "Round" }),
  column.accessor("status", {
    header: "Progress",
    enableSorting: false,
    cell: (c) => <PipelineProgress status={c.getValue()} />,
  }),
  column.accessor("verdict", { header: "Verdict", enableSorting: false, cell: (c) => <VerdictBadge verdict={c.getValue()} /> }),
  column.accessor("created_at", { header: "Submitted", cell: (c) => when(c.getValue()) }),
];

export function SubmissionsView() {
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const filters: SubmissionFilters = filtersFromParams(params);
  const query = useSubmissions(filters);
  const sort = filters.sort ?? "-created_at";
  const sorting: SortingState = [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
  const page = Math.floor((filters.offset ?? 0) / PAGE_SIZE);
  const total = query.data?.total ?? 0;

  const table = useReactTable({
    data: query.data?.items ?? [],
    columns,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    enableSortingRemoval: false,
    rowCount: total,
    state: { sorting },
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(sorting) : updater;
      const first = next[0];
      if (first && SORTABLE.has(first.id)) update({ sort: sortParam(first.id, first.desc), offset: null });
    },
  });

  function update(changes: Record<string, string | null>) {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  }

  return (
    <section>
      <h1>Submissions</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="filters">
        {readsAll(me) && (
          <label>
            Hospital
            <input name="hospital" defaultValue={filters.hospital ?? ""} onChange={(e) => update({ hospital: e.target.value, offset: null })} />
          </label>
        )}
        <label>
          Task
          <input name="task" defaultValue={filters.task ?? ""} onChange={(e) => update({ task: e.target.value, offset: null })} />
        </label>
        <label>
          Round
          <input name="round" type="number" min={1} defaultValue={filters.round ?? ""} onChange={(e) => update({ round: e.target.value, offset: null })} />
        </label>
        <label>
          Verdict
          <select name="verdict" value={filters.verdict ?? ""} onChange={(e) => update({ verdict: e.target.value, offset: null })}>
            <option value="">any</option>
            <option value="accepted">accepted</option>
            <option value="rejected">rejected</option>
            <option value="error">error</option>
          </select>
        </label>
        <span className="live" title="refreshes every 2 s">
          {query.isFetching ? "● updating" : "● live"}
        </span>
      </form>
      {query.isPending ? (
        <Loading what="submissions" />
      ) : query.isError ? (
        <ErrorBox error={query.error} what="submissions" />
      ) : total === 0 ? (
        <Empty>No submissions match these filters.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                {table.getHeaderGroups().map((group) => (
                  <tr key={group.id}>
                    {group.headers.map((header) => {
                      const sorted = header.column.getIsSorted();
                      return (
                        <th key={header.id} aria-sort={sorted ? (sorted === "desc" ? "descending" : "ascending") : undefined}>
                          {header.column.getCanSort() ? (
                            <button type="button" className="link" onClick={header.column.getToggleSortingHandler()}>
                              {flexRender(header.column.columnDef.header, header.getContext())}
                              {sorted === "desc" ? " ▼" : sorted === "asc" ? " ▲" : ""}
                            </button>
                          ) : (
                            flexRender(header.column.columnDef.header, header.getContext())
                          )}
                        </th>
                      );
                    })}
                  </tr>
                ))}
              </thead>
              <tbody>
                {table.getRowModel().rows.map((row) => (
                  <tr key={row.id} data-status={row.original.status} data-verdict={row.original.verdict ?? ""}>
                    {row.getVisibleCells().map((cell) => (
                      <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="pager">
            <button type="button" disabled={page === 0} onClick={() => update({ offset: String((page - 1) * PAGE_SIZE) })}>
              ← Newer
            </button>
            <span>
              {page * PAGE_SIZE + 1}–{Math.min(total, (page + 1) * PAGE_SIZE)} of {total}
            </span>
            <button type="button" disabled={(page + 1) * PAGE_SIZE >= total} onClick={() => update({ offset: String((page + 1) * PAGE_SIZE) })}>
              Older →
            </button>
          </div>
        </>
      )}
    </section>
  );
}
