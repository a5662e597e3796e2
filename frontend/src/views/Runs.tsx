// Runs: federated runs started through the API, per-round accuracy of AURA against a plain
// aggregate, accepted hospitals per round, and the resulting model.
import { useQuery } from "@tanstack/react-query";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap, type Schemas } from "../api/client";
import { asNumber, field } from "../api/json";
import { Empty, QueryView } from "../components/States";
import { percent, when } from "../lib/format";
import { RunStart } from "./RunStart";
import { roundsOf } from "./runsData";

type Run = Schemas["RunOut"];

function progressOf(run: Run): string | null {
  const progress = field(run.results, "progress");
  const round = asNumber(field(progress, "round"));
  const of = asNumber(field(progress, "of"));
  return round !== null && of !== null ? `round ${round} of ${of}` : null;
}

export function RunsView() {
  const runs = useQuery({
    queryKey: ["runs"],
    queryFn: async () => unwrap(await api.GET("/api/v1/runs")),
    refetchInterval: 3_000,
  });
  return (
    <section>
      <h1>Runs</h1>
      <QueryView query={runs} what="runs">
        {(page) => (
          <>
            <RunStart />
            {page.items.length === 0 ? (
              <Empty>No runs yet. Start one above, or run <code>aura demo</code> from a shell.</Empty>
            ) : (
              page.items.map((r) => <RunCard key={r.id} run={r} />)
            )}
          </>
        )}
      </QueryView>
    </section>
  );
}

function RunCard({ run }: { run: Run }) {
  const rounds = roundsOf(run.results);
  const final = rounds.at(-1);
  const progress = progressOf(run);
  return (
    <article className="panel run">
      <h2>
        Run <code>{run.id.slice(0, 8)}</code> <span className={`badge status-${run.status}`}>{run.status}</span>{" "}
        <span className="muted">
          {when(String(run.created_at))}
          {progress && run.status !== "done" ? ` · ${progress}` : ""}
        </span>
      </h2>
      {run.error && <p className="state error">{run.error}</p>}
      {rounds.length === 0 ? (
        <Empty>No rounds finished yet.</Empty>
      ) : (
        <>
          <div className="chart">
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={rounds}>
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
            {rounds.map((r) => `r${r.round}: ${r.accepted.join(", ") || "—"}`).join(" · ")}
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
        <pre>{JSON.stringify(run, null, 2)}</pre>
      </details>
    </article>
  );
}

