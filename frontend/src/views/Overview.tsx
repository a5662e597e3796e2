// The Overview: headline numbers, the pipeline's health, the last two weeks, the latest updates.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { useDaily, useSubmissions, useSummary, useWorkers } from "../api/queries";
import { readsAll, useSession } from "../auth/session";
import { VerdictBadge, StatusBadge } from "../components/Badges";
import { Empty, QueryView } from "../components/States";
import { VerdictBars } from "../components/VerdictBars";
import { percent, seconds, shortId, when } from "../lib/format";

export function OverviewView() {
  const { me } = useSession();
  const operator = readsAll(me);
  const summary = useSummary();
  const workers = useWorkers(operator);
  const daily = useDaily(14);
  const latest = useSubmissions({ limit: 8 });
  return (
    <section>
      <h1>Overview</h1>
      <QueryView query={summary} what="the summary">
        {(s) => (
          <div className="cards">
            <Card label="Submissions today" value={s.submissions_today} sub={`${s.submissions_total} in all`} />
            <Card label="In the pipeline" value={s.in_pipeline} />
            <Card label="Acceptance rate" value={percent(s.acceptance_rate)} sub={`${s.accepted} accepted · ${s.rejected} rejected`} />
            <Card label="Time to verdict" value={seconds(s.time_to_verdict_p50_s)} sub={`p95 ${seconds(s.time_to_verdict_p95_s)}`} />
            <Card
              label="Ledger entries"
              value={s.ledger_size}
              sub={
                <>
                  {s.checkpoint_size != null ? `signed checkpoint at ${s.checkpoint_size} · ` : "no checkpoint yet · "}
                  <Link to="/ledger">verify →</Link>
                </>
              }
            />
            <div className="card wide">
              <div className="label">Rejections by top reason</div>
              {s.rejections_by_signal.length === 0 ? (
                <Empty>No rejections yet.</Empty>
              ) : (
                <ul className="plain">
                  {s.rejections_by_signal.map((r) => (
                    <li key={r.signal}>
                      <code>{r.signal}</code> {r.count}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )}
      </QueryView>
      {operator && (
        <>
          <h2>Pipeline</h2>
          <QueryView query={workers} what="pipeline health">
            {(w) => (
              <>
                {w.alerts.map((a) => (
                  <p key={a} className="state error" role="alert">
                    {a}
                  </p>
                ))}
                <div className="stages">
                  {w.queues.map((q) => (
                    <div key={q.stage} className={`stage ${q.workers.length ? "ok" : "down"}`}>
                      <div className="label">{q.stage}</div>
                      <div className="value">{q.depth ?? "?"}</div>
                      <div className="sub">
                        waiting · {q.workers.length} worker{q.workers.length === 1 ? "" : "s"}
                      </div>
                    </div>
                  ))}
                </div>
                <p className="hint">Broker: {w.broker}. Workers online: {w.workers.map((x) => x.name).join(", ") || "none"}.</p>
              </>
            )}
          </QueryView>
        </>
      )}
      <h2>Last 14 days</h2>
      <QueryView query={daily} what="daily volume">
        {(days) =>
          days.every((d) => d.submitted === 0) ? (
            <Empty>No submissions in the last 14 days.</Empty>
          ) : (
            <div className="chart">
              <VerdictBars days={days} height={220} pending />
            </div>
          )
        }
      </QueryView>
      <h2>Latest updates</h2>
      <QueryView query={latest} what="the latest submissions">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>
              Nothing submitted yet. <Link to="/upload">Upload an update</Link> or run <code>aura demo</code>.
            </Empty>
          ) : (
            <ul className="plain latest">
              {page.items.map((s) => (
                <li key={s.id}>
                  <Link to={`/submissions/${s.id}`}>{shortId(s.id)}</Link> {s.hospital_id} · {s.task} r{s.round}{" "}
                  <StatusBadge status={s.status} /> <VerdictBadge verdict={s.verdict} /> <span className="muted">{when(s.created_at)}</span>
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </section>
  );
}

function Card({ label, value, sub }: { label: string; value: ReactNode; sub?: ReactNode }) {
  return (
    <div className="card">
      <div className="label">{label}</div>
      <div className="value">{value}</div>
      {sub && <div className="sub">{sub}</div>}
    </div>
  );
}
