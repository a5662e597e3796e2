// Upload: submit an update by hand with a hospital's key, then watch it move through the pipeline
// (or read exactly why the gateway refused it).
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useSubmission, useTasks } from "../api/queries";
import { useSession } from "../auth/session";
import { PipelineProgress, VerdictBadge } from "../components/Badges";
import { ErrorBox, QueryView } from "../components/States";

export function UploadView() {
  const { me } = useSession();
  const tasks = useTasks();
  const [hospitalKey, setHospitalKey] = useState("");
  const [task, setTask] = useState("");
  const [round, setRound] = useState("1");
  const [file, setFile] = useState<File | null>(null);
  const upload = useMutation({
    mutationFn: async () => {
      const form = new FormData();
      form.set("file", file!, file!.name);
      form.set("task", task || tasks.data?.[0]?.name || "");
      form.set("round", round);
      const headers: Record<string, string> = hospitalKey.trim() ? { "X-API-Key": hospitalKey.trim() } : {};
      // The generated body type describes the multipart fields; the browser's FormData is sent as is.
      return unwrap(
        await api.POST("/api/v1/submissions", { body: form as never, bodySerializer: (b: unknown) => b as FormData, headers }),
      );
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    upload.mutate();
  }

  return (
    <section>
      <h1>Upload an update</h1>
      <form className="panel upload" onSubmit={submit}>
        {me?.role !== "hospital" && (
          <label>
            Hospital API key
            <input
              type="password"
              autoComplete="off"
              value={hospitalKey}
              onChange={(e) => setHospitalKey(e.target.value)}
              placeholder="aura_… (only a hospital's key may submit)"
              required
            />
          </label>
        )}
        <QueryView query={tasks} what="tasks">
          {(list) => (
            <label>
              Task
              <select value={task || list[0]?.name || ""} onChange={(e) => setTask(e.target.value)}>
                {list.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name} — rounds {t.rounds.join(", ") || "none open"}
                  </option>
                ))}
              </select>
            </label>
          )}
        </QueryView>
        <label>
          Round
          <input type="number" min={1} value={round} onChange={(e) => setRound(e.target.value)} required />
        </label>
        <label>
          Update (.safetensors)
          <input type="file" accept=".safetensors" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required />
        </label>
        <button type="submit" disabled={!file || upload.isPending}>
          {upload.isPending ? "Uploading…" : "Submit"}
        </button>
      </form>
      {upload.isError && <ErrorBox error={upload.error} what="the upload (refused)" />}
      {upload.data && <Progress id={upload.data.id} />}
    </section>
  );
}

function Progress({ id }: { id: string }) {
  const submission = useSubmission(id);
  return (
    <div className="panel" role="status">
      <h2>
        Submitted: <Link to={`/submissions/${id}`}>{id.slice(0, 8)}</Link>
      </h2>
      {submission.isError ? (
        <ErrorBox error={submission.error} what="its progress (your signed-in key may not read this hospital)" />
      ) : (
        submission.data && (
          <>
            <PipelineProgress status={submission.data.status} /> <VerdictBadge verdict={submission.data.verdict} />
            {submission.data.decision && <p>{submission.data.decision.reasons[0]?.text}</p>}
          </>
        )
      )}
    </div>
  );
}
