// The log's latest signed checkpoint as the Ledger view uses it: the note, what it says, the key.
import { latestCheckpoint, logKey } from "../../api/ledger";
import { parseCheckpoint, parseNote, type Checkpoint } from "../../lib/note";

export interface CheckpointInfo {
  note: string;
  checkpoint: Checkpoint;
  vkey: string;
}

export async function loadCheckpoint(): Promise<CheckpointInfo | null> {
  const latest = await latestCheckpoint();
  if (!latest) return null;
  // The signed note is parsed here rather than trusting the response's size and root fields.
  return { note: latest.note, checkpoint: parseCheckpoint(parseNote(latest.note).body), vkey: await logKey() };
}
