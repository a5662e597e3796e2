// One submission's evidence: verdict and reasons, golden-set metrics, fingerprint, geometry,
// score against honest updates, and its ledger receipt. Polls until recorded.
import { Link, useParams } from "react-router";
import type { Schemas } from "../api/client";
import { useSubmission } from "../api/queries";
import { PipelineProgress, VerdictBadge } from "../components/Badges";
import { FingerprintChart } from "../components/FingerprintChart";
import { ReceiptPanel, useReceipt } from "../components/ReceiptPanel";
import { ScoreChart } from "../components/ScoreChart";
import { Empty, QueryView } from "../components/States";
import { download, evidenceReport, geometryRows, metricRows } from "../lib/evidence";
import { num, shortHash, when } from "../lib/format";

export function SubmissionView() {
  const { id = "" } = useParams();
  const query = useSubmission(id);
  const recorded = query.data?.status === "recorded";
  const receipt = useReceipt(id, recorded);
  return (
    <section className="evidence">
      <p className="crumbs">
        <Link to="/submissions">← Submissions</Link>
      </p>
      <QueryView query={query} what={`submission ${id}`}>
        {(s) => (
          <>
            <header className="evidence-head">
              <h1>
                Submission <code>{s.id.slice(0, 8)}</code> <VerdictBadge verdict={s.verdict} />
              </h1>
              <div className="actions no-print">
                <button
                  type="button"
                  onClick={() =>
                    download(
                      `aura-evidence-${s.id}.json`,
                      evidenceReport(s, receipt.data ?? null, new Date()),
                    )
                  }
                >
                  Download evidence (JSON)
                </button>
                <button type="button" onClick={() => window.print()}>
                  Print
                </button>
              </div>
            </header>
            <PipelineProgress status={s.status} />
            <dl className="facts">
              <dt>Hospital</dt>
              <dd>
                <Link to={`/hospitals/${encodeURIComponent(s.hospital_id)}`}>{s.hospital_id}</Link>
              </dd>
              <dt>Task · round</dt>
              <dd>
                {s.task} · {s.round}
              </dd>
              <dt>Submitted</dt>
              <dd>{when(s.created_at)}</dd>
              <dt>Decided</dt>
              <dd>{when(s.decided_at)}</dd>
              <dt>File SHA-256</dt>
              <dd>
                <code title={s.file_sha256}>{shortHash(s.file_sha256, 24)}</code>
              </dd>
              <dt>Examples</dt>
              <dd>{s.num_examples ?? "—"}</dd>
              <dt>Federation · run</dt>
              <dd>
                {s.federation} · run {s.run}
              </dd>
              <dt>Calibration</dt>
              <dd>{s.decision?.calibration ?? "—"}</dd>
              <dt>Signature</dt>
              <dd>{signatureText(s.signature)}</dd>
            </dl>
            {s.last_error && <p className="state error">Last error: {s.last_error}</p>}

            <h2>Why</h2>
            {s.decision ? (
              <ol className="reasons">
                {s.decision.reasons.map((r) => (
                  <li key={r.signal} className={r.severity >= s.decision!.threshold ? "severe" : ""}>
                    {/* low/high/optimum make a severe reason render red and a mild one green */}
                    <meter min={0} max={1} low={0.25} high={0.5} optimum={0} value={r.severity} title={`severity ${num(r.severity)}`} />
                    <code>{r.signal}</code> {r.text}
                  </li>
                ))}
              </ol>
            ) : (
              <Empty>No verdict yet: the detector has not run.</Empty>
            )}

            <div className="grid2">
              <div>
                <h2>Golden-set metrics</h2>
                {s.evaluation ? (
                  <table className="compact">
                    <thead>
                      <tr>
                        <th>metric</th>
                        <th>this update</th>
                        <th>global model</th>
                        <th>Δ</th>
                      </tr>
                    </thead>
                    <tbody>
                      {metricRows(s.evaluation.update_metrics, s.evaluation.global_metrics).map((m) => (
                        <tr key={m.metric}>
                          <td>{m.metric}</td>
                          <td>{num(m.update)}</td>
                          <td>{num(m.global)}</td>
                          <td>{m.delta == null ? "—" : `${m.delta >= 0 ? "+" : ""}${num(m.delta)}`}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <Empty>Not evaluated yet.</Empty>
                )}
              </div>
              <div>
                <h2>Geometry and detector features</h2>
                {s.decision ? (
                  <table className="compact">
                    <tbody>
                      {geometryRows(s.decision.features).map((f) => (
                        <tr key={f.name}>
                          <td>{f.name}</td>
                          <td>{typeof f.value === "number" ? num(f.value, 4) : f.value}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <Empty>Not decided yet.</Empty>
                )}
              </div>
            </div>

            <h2>Attribution fingerprint</h2>
            {s.fingerprint ? <FingerprintChart fingerprint={s.fingerprint} /> : <Empty>Not fingerprinted yet.</Empty>}

            <h2>Anomaly score</h2>
            {s.decision ? (
              <ScoreChart task={s.task} score={s.decision.score} threshold={s.decision.threshold} />
            ) : (
              <Empty>No score yet.</Empty>
            )}

            <h2>Ledger receipt</h2>
            <ReceiptPanel id={s.id} recorded={recorded} ledgerIndex={s.ledger_index ?? null} />
          </>
        )}
      </QueryView>
    </section>
  );
}

// What the intake checked of the hospital's Ed25519 signature (the ledger entry keeps the same record).
function signatureText(signature: Schemas["SubmissionDetail"]["signature"]): string {
  if (signature == null) return "unsigned";
  if (!signature.verified) return `unverified claim from before signatures were checked: ${signature.claimed ?? ""}`;
  return `✔ Ed25519, key ${signature.key}, verified at intake`;
}
