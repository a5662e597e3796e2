// Turning a submission's stored evidence into what the evidence page shows and downloads.

export interface Shift {
  feature: string;
  attribution: number;
  reference: number;
  shift: number;
}

/** Per-feature attribution next to the global model's, largest absolute shift first. */
export function rankedShifts(features: string[], attribution: number[], reference: number[]): Shift[] {
  return features
    .map((feature, i) => {
      const a = attribution[i] ?? 0;
      const r = reference[i] ?? 0;
      return { feature, attribution: a, reference: r, shift: a - r };
    })
    .sort((x, y) => Math.abs(y.shift) - Math.abs(x.shift));
}

/** Metric rows present in either model, update beside global, in a stable order. */
export function metricRows(
  update: Record<string, number | null>,
  global: Record<string, number | null>,
): { metric: string; update: number | null; global: number | null; delta: number | null }[] {
  const names = [...new Set([...Object.keys(update), ...Object.keys(global)])].sort();
  return names.map((metric) => {
    const u = update[metric] ?? null;
    const g = global[metric] ?? null;
    return { metric, update: u, global: g, delta: u != null && g != null ? u - g : null };
  });
}

/** Numeric geometry/detector features, leaving out the ones the other panels already show. */
export function geometryRows(features: Record<string, unknown>): { name: string; value: number | string }[] {
  return Object.entries(features)
    .filter(([, v]) => typeof v === "number" || typeof v === "string")
    .map(([name, v]) => ({ name, value: v as number | string }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The evidence report a person can keep: everything the page shows, as one JSON document. */
export function evidenceReport(submission: unknown, receipt: unknown, generatedAt: Date): string {
  return JSON.stringify(
    { kind: "aura-evidence-report", version: 1, generated_at: generatedAt.toISOString(), submission, receipt },
    null,
    2,
  );
}

/** Offer `text` as a file download. */
export function download(filename: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}
