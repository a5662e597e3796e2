// Security: uploads the gateway refused and failed authentications, by code, hospital and day.
import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api/client";
import { Empty, QueryView } from "../components/States";
import { when } from "../lib/format";

export function SecurityView() {
  const summary = useQuery({
    queryKey: ["security"],
    queryFn: async () => unwrap(await api.GET("/api/v1/security/summary", { params: { query: { days: 30 } } })),
    refetchInterval: 10_000,
  });
  return (
    <section>
      <h1>Security</h1>
      <QueryView query={summary} what="refusals">
        {(s) => (
          <>
            <div className="cards">
              <div className="card">
                <div className="label">Refused uploads ({s.days} d)</div>
                <div className="value">{s.refused_uploads}</div>
              </div>
              <div className="card">
                <div className="label">Failed authentications</div>
                <div className="value">{s.failed_auth}</div>
              </div>
            </div>
            {s.by_code.length === 0 ? (
              <Empty>Nothing refused in the last {s.days} days.</Empty>
            ) : (
              <>
                <div className="grid2">
                  <table className="compact">
                    <thead>
                      <tr>
                        <th>code</th>
                        <th>kind</th>
                        <th>count</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.by_code.map((c) => (
                        <tr key={c.code}>
                          <td>
                            <code>{c.code}</code>
                          </td>
                          <td>{c.auth ? "authentication" : "upload"}</td>
                          <td>{c.count}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <div className="chart">
                    <ResponsiveContainer width="100%" height={200}>
                      <BarChart data={s.daily}>
                        <CartesianGrid strokeDasharray="3 3" />
                        <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
                        <YAxis allowDecimals={false} />
                        <Tooltip />
                        <Legend />
                        <Bar isAnimationActive={false} dataKey="uploads" name="refused uploads" fill="#f08c00" stackId="r" />
                        <Bar isAnimationActive={false} dataKey="auth" name="failed auth" fill="#e03131" stackId="r" />
                      </BarChart>
                    </ResponsiveContainer>
                  </div>
                </div>
                <h2>Latest</h2>
                <div className="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th>When</th>
                        <th>Hospital</th>
                        <th>Client</th>
                        <th>Code</th>
                        <th>Times</th>
                        <th>Message</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.recent.map((r) => (
                        <tr key={r.id}>
                          <td>{when(r.created_at)}</td>
                          <td>{r.hospital_id ?? "—"}</td>
                          <td>{r.client ?? "—"}</td>
                          <td>
                            <code>{r.code}</code>
                          </td>
                          <td title="repeats within a minute from the same client are counted on one row">{r.count}</td>
                          <td>{r.message}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )}
          </>
        )}
      </QueryView>
    </section>
  );
}
