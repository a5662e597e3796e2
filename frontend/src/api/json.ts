// Reading free-form JSON the API passes through untyped (a run's `results` belong to the runner,
// which records them as it sees fit), field by field and defensively.

/** A field of an untyped object, trying each name in turn. */
export function field(obj: unknown, ...names: string[]): unknown {
  if (!obj || typeof obj !== "object") return undefined;
  for (const name of names) {
    const value = (obj as Record<string, unknown>)[name];
    if (value !== undefined) return value;
  }
  return undefined;
}

export const asNumber = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
export const asStrings = (v: unknown): string[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : null;
