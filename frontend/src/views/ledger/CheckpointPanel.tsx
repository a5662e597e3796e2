// The signed checkpoint, with its Ed25519 signature checked in this browser.
import { useQuery } from "@tanstack/react-query";
import { verifyNote } from "../../lib/note";
import type { CheckpointInfo } from "./checkpoint";

export function CheckpointPanel({ info }: { info: CheckpointInfo }) {
  const signature = useQuery({
    queryKey: ["checkpoint-signature", info.note, info.vkey],
    queryFn: () => verifyNote(info.note, info.vkey),
  });
  return (
    <div className="panel">
      <p>
        Origin <code>{info.checkpoint.origin}</code>, {info.checkpoint.size} entries.
      </p>
      <pre className="note">{info.note}</pre>
      <p role="status">
        {signature.data == null
          ? "Checking the signature…"
          : signature.data.status === "valid"
            ? `✔ Ed25519 signature by ${signature.data.signer} verified in this browser.`
            : signature.data.status === "unsupported"
              ? `This browser cannot check Ed25519 (${signature.data.reason}); the gateway checks it server-side.`
              : `✘ Signature does not verify: ${signature.data.reason}`}
      </p>
      <p className="hint">
        Verifier key: <code>{info.vkey}</code>
      </p>
    </div>
  );
}
