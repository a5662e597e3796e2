// Analytics: volume and verdicts per day, and attacks by signal, by hospital and over time.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api/client";
import { useDaily } from "../api/queries";
import { Empty, QueryView } from "../components/States";
import { VerdictBars } from "../components/VerdictBars";
import { seconds } from "../lib/format";

const PALETTE = ["#e03131", "#1c7ed6", "#f08c00", "#7048e8", "#2f9e44", "#0c8599", "#c2255c"];

export function AnalyticsView() {
  const [days, setDays] = useState(30);
  const daily = useDaily(days);
  const attacks = useQuery({
    queryKey: ["attacks", days],
    queryFn: async () => unwrap(await api.GET("/api/v1/analytics/attacks", { params: { query: { days } } })),
    refetchInterval: 10_000,
  });
  return (
    <section>
      <h1>Analytics</h1>
      <label className="inline">
        Window{" "}
        <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={7}>7 days</option>
          <option value={30}>30 days</option>
          <option value={90}>90 days</option>
        </select>
      </label>
      <h2>Submissions and verdicts per day</h2>
      <QueryView query={daily} what="daily figures">
        {(points) =>
          points.every((p) => p.submitted === 0) ? (
            <Empty>No submissions in this window.</Empty>
          ) : (
            <div className="grid2">
              <div className="chart">
                <VerdictBars days={points} height={240} />
                <figcaption>Verdicts per day (UTC).</figcaption>
              </div>
              <div className="chart">
                <ResponsiveContainer width="100%" height={240}>
                  <LineChart data={points}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
                    <YAxis tickFormatter={(v: number) => seconds(v)} />
                    <Tooltip formatter={(v) => seconds(Number(v))} />
                    <Line isAnimationActive={false} dataKey="time_to_verdict_p50_s" name="median time to verdict" stroke="#1c7ed6" connectNulls />
                  </LineChart>
                </ResponsiveContainer>
                <figcaption>Median seconds from upload to verdict, per day.</figcaption>
              </div>
            </div>
          )
        }
      </QueryView>
      <h2>Attacks</h2>
      <QueryView query={attacks} what="attack figures">
        {(a) => {
          if (a.by_signal.length === 0) return <Empty>No rejected updates in this window.</Empty>;
          const signals = a.by_signal.map((s) => s.signal);
          const overTime = a.daily.map((d) => ({ day: d.day, ...d.signals }));
          return (
            <>
              <div className="grid2">
                <div className="chart">
                  <ResponsiveContainer width="100%" height={240}>
                    <BarChart data={a.by_signal} layout="vertical" margin={{ left: 40 }}>
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis type="number" allowDecimals={false} />
                      <YAxis type="category" dataKey="signal" width={120} />
                      <Tooltip />
                      <Bar isAnimationActive={false} dataKey="count" name="rejections (top reason)" fill="#e03131" maxBarSize={36} />
                    </BarChart>
                  </ResponsiveContainer>
                  <figcaption>Rejections by the signal ranked first.</figcaption>
                </div>
                <div className="chart">
                  <ResponsiveContainer width="100%" height={240}>
                    <BarChart data={overTime}>
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
                      <YAxis allowDecimals={false} />
                      <Tooltip />
                      <Legend />
                      {signals.map((s, i) => (
                        <Bar isAnimationActive={false} key={s} dataKey={s} stackId="s" fill={PALETTE[i % PALETTE.length]} maxBarSize={48} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                  <figcaption>Rejections per day, by signal.</figcaption>
                </div>
              </div>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Hospital</th>
                      <th>Submitted</th>
                      <th>Rejected</th>
                      <th>Caught by</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.by_hospital.map((h) => (
                      <tr key={h.hospital_id}>
                        <td>
                          <Link to={`/hospitals/${encodeURIComponent(h.hospital_id)}`}>{h.hospital_id}</Link>
                        </td>
                        <td>{h.submitted}</td>
                        <td>{h.rejected}</td>
                        <td>
                          {Object.entries(h.signals)
                            .map(([s, n]) => `${s} ×${n}`)
                            .join(", ")}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          );
        }}
      </QueryView>
    </section>
  );
}
