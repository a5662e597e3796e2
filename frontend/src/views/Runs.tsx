// Runs: federated runs started through the API, per-round accuracy of AURA against a plain
// aggregate, accepted hospitals per round, and the resulting model. The /runs API is being built
// alongside the dashboard; until the gateway offers it this view says so.
import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { asNumber, asString, field, optionalJson } from "../api/pending";
import { Empty, QueryView } from "../components/States";
import { percent, when } from "../lib/format";
import { RunStart } from "./RunStart";
import { roundsOf, type RunRound } from "./runsData";

interface RunRow {
  id: string;
  status: string;
  created_at: string | null;
  error: string | null;
  rounds: RunRound[];
  progress: string | null;
  raw: unknown;
}

function readRun(raw: unknown): RunRow {
  return {
    id: asString(field(raw, "id")) ?? "?",
    status: asString(field(raw, "status")) ?? "?",
    created_at: asString(field(raw, "created_at")),
    error: asString(field(raw, "error")),
    rounds: roundsOf(field(raw, "results")),
    progress: progressOf(field(field(raw, "results"), "progress")),
    raw,
  };
}

function progressOf(progress: unknown): string | null {
  const round = asNumber(field(progress, "round"));
  const of = asNumber(field(progress, "of"));
  return round !== null && of !== null ? `round ${round} of ${of}` : null;
}

async function listRuns(): Promise<RunRow[] | null> {
  const result = await optionalJson("/api/v1/runs");
  if (!result.available) return null;
  const items = Array.isArray(result.data) ? result.data : field(result.data, "items");
  return Array.isArray(items) ? items.map(readRun) : [];
}

export function RunsView() {
  const runs = useQuery({ queryKey: ["runs"], queryFn: listRuns, refetchInterval: 3_000 });
  return (
    <section>
      <h1>Runs</h1>
      <QueryView query={runs} what="runs">
        {(list) =>
          list === null ? (
            <Empty>
              This gateway does not offer federated runs yet (<code>/api/v1/runs</code> is missing). Run <code>aura demo</code> from a shell
              instead.
            </Empty>
          ) : (
            <>
              <RunStart />
              {list.length === 0 ? <Empty>No runs yet.</Empty> : list.map((r) => <RunCard key={r.id} run={r} />)}
            </>
          )
        }
      </QueryView>
    </section>
  );
}

function RunCard({ run }: { run: RunRow }) {
  const final = run.rounds.at(-1);
  return (
    <article className="panel run">
      <h2>
        Run <code>{run.id.slice(0, 8)}</code> <span className={`badge status-${run.status}`}>{run.status}</span>{" "}
        <span className="muted">
          {when(run.created_at)}
          {run.progress && run.status !== "done" ? ` · ${run.progress}` : ""}
        </span>
      </h2>
      {run.error && <p className="state error">{run.error}</p>}
      {run.rounds.length === 0 ? (
        <Empty>No rounds finished yet.</Empty>
      ) : (
        <>
          <div className="chart">
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={run.rounds}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="round" />
                <YAxis domain={[0, 1]} tickFormatter={(v: number) => percent(v, 0)} />
                <Tooltip formatter={(v) => percent(Number(v))} />
                <Legend />
                <Line isAnimationActive={false} dataKey="aura" name="AURA" stroke="#2f9e44" connectNulls />
                <Line isAnimationActive={false} dataKey="plain" name="plain aggregate" stroke="#e03131" connectNulls />
              </LineChart>
            </ResponsiveContainer>
          </div>
          <p>
            Final accuracy: AURA {percent(final?.aura)} vs plain {percent(final?.plain)}. Accepted per round:{" "}
            {run.rounds.map((r) => `r${r.round}: ${r.accepted.join(", ") || "—"}`).join(" · ")}
          </p>
        </>
      )}
      {run.status === "done" && (
        <a className="button" href={`/api/v1/runs/${encodeURIComponent(run.id)}/model`} download>
          Download model
        </a>
      )}
      <details>
        <summary>Run as served</summary>
        <pre>{JSON.stringify(run.raw, null, 2)}</pre>
      </details>
    </article>
  );
}

