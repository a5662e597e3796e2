// Hospitals: the federation's members with their records; admins register hospitals and manage keys.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api/client";
import { useHospitals } from "../api/queries";
import { useSession } from "../auth/session";
import { VerdictBadge } from "../components/Badges";
import { Empty, ErrorBox, QueryView } from "../components/States";
import { num, percent, shortId, when } from "../lib/format";

export function HospitalsView() {
  const { me } = useSession();
  const hospitals = useHospitals();
  return (
    <section>
      <h1>Hospitals</h1>
      <QueryView query={hospitals} what="hospitals">
        {(list) =>
          list.length === 0 ? (
            <Empty>No hospitals registered yet.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Hospital</th>
                    <th>Name</th>
                    <th>Submissions</th>
                    <th>Accepted</th>
                    <th>Rejected</th>
                    <th>Acceptance</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((h) => (
                    <tr key={h.id}>
                      <td>
                        <Link to={`/hospitals/${encodeURIComponent(h.id)}`}>{h.id}</Link>
                      </td>
                      <td>{h.name}</td>
                      <td>{h.submissions}</td>
                      <td>{h.accepted}</td>
                      <td>{h.rejected}</td>
                      <td>{percent(h.accepted + h.rejected ? h.accepted / (h.accepted + h.rejected) : null)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
      {me?.role === "admin" && <AddHospital />}
    </section>
  );
}

function AddHospital() {
  const client = useQueryClient();
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const add = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/hospitals", { body: { id, name: name || id } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["hospitals"] }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    add.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-label="add a hospital">
      <h2>Add a hospital</h2>
      <label>
        Id <input value={id} onChange={(e) => setId(e.target.value)} required pattern="[A-Za-z0-9._-]+" />
      </label>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" disabled={add.isPending || !id}>
        Add
      </button>
      {add.isError && <ErrorBox error={add.error} what="the new hospital" />}
      {add.data && <NewKey label={`Key for ${add.data.id}`} apiKey={add.data.api_key} />}
    </form>
  );
}

function NewKey({ label, apiKey }: { label: string; apiKey: string }) {
  return (
    <div className="newkey" role="status">
      {label} (shown this once): <code>{apiKey}</code>
      <button type="button" className="link" onClick={() => void navigator.clipboard?.writeText(apiKey)}>
        copy
      </button>
    </div>
  );
}

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
            {me?.role === "admin" && <Keys hospitalId={h.hospital_id} />}
          </>
        )}
      </QueryView>
    </section>
  );
}

function Keys({ hospitalId }: { hospitalId: string }) {
  const client = useQueryClient();
  const keys = useQuery({
    queryKey: ["keys", hospitalId],
    queryFn: async () => unwrap(await api.GET("/api/v1/keys", { params: { query: { hospital: hospitalId } } })),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["keys", hospitalId] });
  const issue = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/keys", { body: { role: "hospital", hospital_id: hospitalId } })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: async (keyId: number) => unwrap(await api.DELETE("/api/v1/keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: refresh,
  });
  return (
    <div className="panel">
      <h2>API keys</h2>
      <button type="button" onClick={() => issue.mutate()} disabled={issue.isPending}>
        Issue a new key
      </button>
      {issue.data && <NewKey label="New key" apiKey={issue.data.api_key} />}
      {issue.isError && <ErrorBox error={issue.error} what="a new key" />}
      {revoke.isError && <ErrorBox error={revoke.error} what="the revocation" />}
      <QueryView query={keys} what="keys">
        {(list) =>
          list.length === 0 ? (
            <Empty>No keys.</Empty>
          ) : (
            <table className="compact">
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>issued {when(k.created_at)}</td>
                    <td>
                      {k.revoked_at ? (
                        `revoked ${when(k.revoked_at)}`
                      ) : (
                        <button type="button" onClick={() => revoke.mutate(k.id)} disabled={revoke.isPending}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </div>
  );
}
