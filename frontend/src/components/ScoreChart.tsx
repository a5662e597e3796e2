// Where an update's anomaly score falls among the scores of accepted (honest) and rejected updates.
import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, unwrap } from "../api/client";
import { num } from "../lib/format";
import { QueryView } from "./States";

export function ScoreChart({ task, score, threshold }: { task: string; score: number; threshold: number }) {
  const query = useQuery({
    queryKey: ["scores", task],
    queryFn: async () => unwrap(await api.GET("/api/v1/analytics/scores", { params: { query: { task } } })),
  });
  return (
    <QueryView query={query} what="the score distribution">
      {(dist) => {
        const width = (dist.bin_edges[1] ?? 0.05) - (dist.bin_edges[0] ?? 0);
        const data = dist.accepted.map((accepted, i) => ({
          bin: Number(((dist.bin_edges[i] ?? 0) + width / 2).toFixed(3)),
          accepted,
          rejected: dist.rejected[i] ?? 0,
        }));
        return (
          <figure aria-label="score distribution">
            <div className="chart">
              <ResponsiveContainer width="100%" height={220}>
                <BarChart data={data} barCategoryGap={1}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="bin" type="number" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Legend />
                  <Bar isAnimationActive={false} dataKey="accepted" name="accepted updates" fill="#2f9e44" barSize={14} />
                  <Bar isAnimationActive={false} dataKey="rejected" name="rejected updates" fill="#e03131" barSize={14} />
                  <ReferenceLine x={threshold} stroke="#f08c00" strokeDasharray="4 2" label={{ value: "threshold", position: "top" }} />
                  <ReferenceLine x={Math.min(1, score)} stroke="#1c7ed6" strokeWidth={2} label={{ value: "this update", position: "insideTopRight" }} />
                </BarChart>
              </ResponsiveContainer>
            </div>
            <figcaption>
              Score {num(score)} against threshold {num(threshold)}; accepted updates score {num(dist.accepted_p50)} at the median,{" "}
              {num(dist.accepted_p95)} at the 95th percentile.
            </figcaption>
          </figure>
        );
      }}
    </QueryView>
  );
}
