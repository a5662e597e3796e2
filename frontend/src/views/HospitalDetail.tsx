// One hospital's record over rounds: verdicts, scores and fingerprint drift; admins manage its keys.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api/client";
import { useSession } from "../auth/session";
import { VerdictBadge } from "../components/Badges";
import { Empty, QueryView } from "../components/States";
import { num, percent, shortId, when } from "../lib/format";
import { HospitalKeys } from "./HospitalKeys";

export function HospitalView() {
  const { id = "" } = useParams();
  const { me } = useSession();
  const history = useQuery({
    queryKey: ["hospital-history", id],
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/hospitals/{hospital_id}/history", { params: { path: { hospital_id: id } } })),
    refetchInterval: 5_000,
  });
  return (
    <section>
      <QueryView query={history} what={`hospital ${id}`}>
        {(h) => (
          <>
            <h1>
              {h.name} <span className="muted">({h.hospital_id})</span>
            </h1>
            <div className="cards">
              <div className="card">
                <div className="label">Submissions</div>
                <div className="value">{h.submissions}</div>
              </div>
              <div className="card">
                <div className="label">Acceptance</div>
                <div className="value">{percent(h.acceptance_rate)}</div>
                <div className="sub">
                  {h.accepted} accepted · {h.rejected} rejected
                </div>
              </div>
            </div>
            {h.rounds.length === 0 ? (
              <Empty>This hospital has not submitted an update yet.</Empty>
            ) : (
              <>
                <h2>Score and fingerprint drift over rounds</h2>
                <div className="chart">
                  <ResponsiveContainer width="100%" height={240}>
                    <LineChart data={h.rounds.map((r) => ({ ...r, label: `${r.task} r${r.round}` }))}>
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis dataKey="label" />
                      <YAxis />
                      <Tooltip />
                      <Legend />
                      <Line isAnimationActive={false} dataKey="score" name="anomaly score" stroke="#e03131" />
                      <Line isAnimationActive={false} dataKey="drift_from_global" name="drift from global" stroke="#1c7ed6" />
                      <Line isAnimationActive={false} dataKey="drift_from_previous" name="drift from previous round" stroke="#82c91e" />
                      {h.rounds[0]?.threshold != null && <ReferenceLine y={h.rounds[0].threshold} stroke="#f08c00" strokeDasharray="4 2" />}
                    </LineChart>
                  </ResponsiveContainer>
                </div>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th>Task</th>
                        <th>Round</th>
                        <th>Submission</th>
                        <th>Verdict</th>
                        <th>Score</th>
                        <th>Top reason</th>
                        <th>Drift (global / previous)</th>
                        <th>Submitted</th>
                      </tr>
                    </thead>
                    <tbody>
                      {h.rounds.map((r) => (
                        <tr key={r.submission_id}>
                          <td>{r.task}</td>
                          <td>{r.round}</td>
                          <td>
                            <Link to={`/submissions/${r.submission_id}`}>{shortId(r.submission_id)}</Link>
                          </td>
                          <td>
                            <VerdictBadge verdict={r.verdict} />
                          </td>
                          <td>{num(r.score)}</td>
                          <td>{r.top_signal ?? "—"}</td>
                          <td>
                            {num(r.drift_from_global)} / {num(r.drift_from_previous)}
                          </td>
                          <td>{when(r.created_at)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )}
            {me?.role === "admin" && <HospitalKeys hospitalId={h.hospital_id} />}
          </>
        )}
      </QueryView>
    </section>
  );
}
