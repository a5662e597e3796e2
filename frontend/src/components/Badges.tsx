// Status and verdict badges, and the pipeline progress a submission moves along.
const STAGES = ["queued", "evaluated", "fingerprinted", "decided", "recorded"] as const;

export function VerdictBadge({ verdict }: { verdict: string | null | undefined }) {
  if (!verdict) return <span className="badge pending">pending</span>;
  return <span className={`badge ${verdict}`}>{verdict}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** Five steps, filled up to the submission's current stage. */
export function PipelineProgress({ status }: { status: string }) {
  const reached = STAGES.indexOf(status as (typeof STAGES)[number]);
  return (
    <ol className="pipeline" aria-label={`pipeline: ${status}`}>
      {STAGES.map((stage, i) => (
        <li key={stage} className={i <= reached ? "done" : ""} aria-current={i === reached ? "step" : undefined}>
          {stage}
        </li>
      ))}
    </ol>
  );
}
