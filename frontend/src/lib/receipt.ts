// A ledger receipt checked in the browser: the entry hashes to its leaf, the inclusion proof leads
// from that leaf to the root of a checkpoint, and the checkpoint carries the log's Ed25519 signature.
import { asNumber, asString, asStrings, field } from "../api/pending";
import { bytesToHex, equalBytes, hashBytes } from "./encoding";
import { leafHash, verifyInclusion } from "./merkle";
import { parseCheckpoint, parseNote, verifyNote, type SignatureCheck } from "./note";

export interface Receipt {
  index: number;
  treeSize: number;
  entry: string | null;
  leafHash: Uint8Array | null;
  path: Uint8Array[];
  note: string | null;
  vkey: string | null;
}

export interface ReceiptCheck {
  ok: boolean;
  steps: { label: string; ok: boolean | null; detail: string }[];
  signature: SignatureCheck | { status: "absent"; reason: string };
}

/** Read a receipt body, whichever of the settling field names it uses; throws when it lacks the essentials. */
export function readReceipt(raw: unknown): Receipt {
  const proof = field(raw, "inclusion_proof", "proof");
  const checkpoint = field(raw, "checkpoint");
  const index = asNumber(field(raw, "leaf_index", "index", "seq")) ?? asNumber(field(proof, "leaf_index", "index"));
  const treeSize = asNumber(field(raw, "tree_size", "size")) ?? asNumber(field(proof, "tree_size", "size"));
  const path = asStrings(proof) ?? asStrings(field(proof, "hashes", "path", "audit_path")) ?? asStrings(field(raw, "audit_path", "path"));
  if (index === null || treeSize === null || path === null) throw new Error("the receipt has no leaf index, tree size or proof path");
  const leaf = asString(field(raw, "leaf_hash"));
  return {
    index,
    treeSize,
    entry: asString(field(raw, "entry")),
    leafHash: leaf ? hashBytes(leaf) : null,
    path: path.map(hashBytes),
    note: asString(checkpoint) ?? asString(field(checkpoint, "note", "text")) ?? asString(field(raw, "checkpoint_note", "note")),
    vkey: asString(field(raw, "vkey", "verifier_key", "public_key")) ?? asString(field(checkpoint, "vkey", "verifier_key")),
  };
}

/** Every check the browser can make on a receipt, each with what it found. */
export async function checkReceipt(receipt: Receipt, vkey: string | null = receipt.vkey): Promise<ReceiptCheck> {
  const steps: ReceiptCheck["steps"] = [];
  let leaf = receipt.leafHash;
  if (receipt.entry !== null) {
    const computed = await leafHash(new TextEncoder().encode(receipt.entry));
    const matches = leaf === null || equalBytes(computed, leaf);
    steps.push({ label: "entry hashes to its leaf", ok: matches, detail: `SHA-256(0x00‖entry) = ${bytesToHex(computed).slice(0, 16)}…` });
    leaf = computed;
  }
  if (!receipt.note) {
    steps.push({ label: "signed checkpoint", ok: false, detail: "the receipt carries no checkpoint" });
    return { ok: false, steps, signature: { status: "absent", reason: "no checkpoint" } };
  }
  const checkpoint = parseCheckpoint(parseNote(receipt.note).body);
  const sameSize = checkpoint.size === receipt.treeSize;
  steps.push({
    label: "proof is for the checkpoint's tree",
    ok: sameSize,
    detail: `proof tree size ${receipt.treeSize}, checkpoint size ${checkpoint.size}`,
  });
  const included = leaf !== null && (await verifyInclusion(receipt.index, receipt.treeSize, leaf, receipt.path, checkpoint.root));
  steps.push({
    label: "inclusion proof (RFC 9162) reaches the checkpoint root",
    ok: included,
    detail: `leaf ${receipt.index} of ${receipt.treeSize}, ${receipt.path.length} hashes, root ${bytesToHex(checkpoint.root).slice(0, 16)}…`,
  });
  const signature: ReceiptCheck["signature"] = vkey
    ? await verifyNote(receipt.note, vkey)
    : { status: "absent", reason: "no verifier key to check the signature with" };
  steps.push({
    label: "checkpoint signature (Ed25519)",
    ok: signature.status === "valid" ? true : signature.status === "invalid" ? false : null,
    detail: signature.status === "valid" ? `signed by ${signature.signer}` : signature.reason,
  });
  return { ok: steps.every((s) => s.ok !== false) && included && sameSize, steps, signature };
}
