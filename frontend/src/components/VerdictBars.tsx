// Verdicts per UTC day as stacked bars: the Overview's last two weeks and the Analytics window.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Schemas } from "../api/client";

export function VerdictBars({ days, height, pending = false }: { days: Schemas["DailyPoint"][]; height: number; pending?: boolean }) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={days}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Bar isAnimationActive={false} dataKey="accepted" stackId="v" fill="#2f9e44" />
        <Bar isAnimationActive={false} dataKey="rejected" stackId="v" fill="#e03131" />
        <Bar isAnimationActive={false} dataKey="errors" stackId="v" fill="#f08c00" />
        {pending && <Bar isAnimationActive={false} dataKey="pending" stackId="v" fill="#adb5bd" />}
      </BarChart>
    </ResponsiveContainer>
  );
}
