// The attribution fingerprint: the update's mean SHAP value per feature beside the global model's,
// with the features that moved most named in words.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Schemas } from "../api/client";
import { rankedShifts } from "../lib/evidence";
import { num } from "../lib/format";

export function FingerprintChart({ fingerprint }: { fingerprint: Schemas["FingerprintOut"] }) {
  const shifts = rankedShifts(fingerprint.features, fingerprint.attribution, fingerprint.reference);
  const peers = fingerprint.peer_reference;
  const data = fingerprint.features.map((feature, i) => ({
    feature,
    update: fingerprint.attribution[i] ?? 0,
    global: fingerprint.reference[i] ?? 0,
    ...(peers ? { peers: peers[i] ?? 0 } : {}),
  }));
  const top = shifts.slice(0, 3);
  return (
    <figure className="fingerprint" aria-label="attribution fingerprint">
      <div className="chart" style={{ height: Math.max(280, data.length * (peers ? 40 : 32)) }}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} layout="vertical" margin={{ left: 24 }} barGap={1} barCategoryGap="18%">
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis type="number" />
            <YAxis type="category" dataKey="feature" width={150} interval={0} tick={{ fontSize: 12 }} />
            <Tooltip formatter={(v) => num(Number(v), 4)} />
            <Legend />
            <Bar isAnimationActive={false} dataKey="update" name="this update" fill="#1c7ed6" />
            <Bar isAnimationActive={false} dataKey="global" name="global model" fill="#adb5bd" />
            {peers && <Bar isAnimationActive={false} dataKey="peers" name="round's peers" fill="#82c91e" />}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
        Mean SHAP attribution per feature ({fingerprint.method}). Largest shifts from the global model:{" "}
        {top.map((s, i) => (
          <span key={s.feature}>
            <code>{s.feature}</code> ({s.shift >= 0 ? "+" : ""}
            {num(s.shift, 3)}){i < top.length - 1 ? ", " : "."}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
