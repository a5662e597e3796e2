// Datasets: the golden set and each centre's partitions as summary statistics (the API never sends rows).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";
import { Empty, QueryView } from "../components/States";
import { num, percent } from "../lib/format";

export function DatasetsView() {
  const tasks = useQuery({ queryKey: ["datasets"], queryFn: async () => unwrap(await api.GET("/api/v1/datasets")) });
  const [task, setTask] = useState<string | null>(null);
  const chosen = task ?? tasks.data?.[0] ?? null;
  const summary = useQuery({
    queryKey: ["dataset", chosen],
    queryFn: async () => unwrap(await api.GET("/api/v1/datasets/{task}", { params: { path: { task: chosen! } } })),
    enabled: chosen !== null,
    staleTime: Infinity,
  });
  return (
    <section>
      <h1>Datasets</h1>
      <QueryView query={tasks} what="tasks">
        {(list) =>
          list.length === 0 ? (
            <Empty>No tasks registered.</Empty>
          ) : (
            <label className="inline">
              Task{" "}
              <select value={chosen ?? ""} onChange={(e) => setTask(e.target.value)}>
                {list.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </label>
          )
        }
      </QueryView>
      {chosen && (
        <QueryView query={summary} what={`the ${chosen} data`}>
          {(d) => (
            <>
              <p className="hint">Feature values: {d.feature_space}.</p>
              <h2>Partitions</h2>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Partition</th>
                      <th>Role</th>
                      <th>Rows</th>
                      <th>Positive (disease)</th>
                      <th>Class balance</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[d.golden, ...d.partitions].map((p) => (
                      <tr key={`${p.name}-${p.role}`}>
                        <td>{p.name}</td>
                        <td>{p.role}</td>
                        <td>{p.rows}</td>
                        <td>{p.positives}</td>
                        <td>
                          <span className="balance" style={{ ["--pos" as string]: `${(p.positive_rate ?? 0) * 100}%` }} />{" "}
                          {percent(p.positive_rate)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p className="hint">
                Golden rows by centre:{" "}
                {Object.entries(d.golden_by_centre)
                  .map(([c, n]) => `${c} ${n}`)
                  .join(" · ")}
              </p>
              <FeatureTable partition={d.golden} />
            </>
          )}
        </QueryView>
      )}
    </section>
  );
}

function FeatureTable({ partition }: { partition: Schemas["PartitionStats"] }) {
  return (
    <>
      <h2>Golden set, per feature</h2>
      <div className="table-wrap">
        <table className="compact">
          <thead>
            <tr>
              <th>feature</th>
              <th>mean</th>
              <th>std</th>
              <th>min</th>
              <th>q25</th>
              <th>median</th>
              <th>q75</th>
              <th>max</th>
            </tr>
          </thead>
          <tbody>
            {partition.features.map((f) => (
              <tr key={f.name}>
                <td>{f.name}</td>
                {[f.mean, f.std, f.min, f.q25, f.median, f.q75, f.max].map((v, i) => (
                  <td key={i}>{num(v, 2)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
