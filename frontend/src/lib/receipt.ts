// A ledger receipt checked in the browser: the entry hashes to its leaf, the inclusion proof leads
// from that leaf to the root of a checkpoint, and the checkpoint carries the log's Ed25519 signature.
import type { Schemas } from "../api/client";
import { bytesToHex, equalBytes, hashBytes } from "./encoding";
import { leafHash, verifyInclusion } from "./merkle";
import { parseCheckpoint, parseNote, verifyNote, type SignatureCheck } from "./note";

export type Receipt = Schemas["ReceiptOut"];

export interface ReceiptCheck {
  ok: boolean;
  steps: { label: string; ok: boolean | null; detail: string }[];
  signature: SignatureCheck | { status: "absent"; reason: string };
}

/** Every check the browser can make on a receipt, each with what it found. */
export async function checkReceipt(receipt: Receipt, vkey: string | null): Promise<ReceiptCheck> {
  const steps: ReceiptCheck["steps"] = [];
  const leaf = await leafHash(new TextEncoder().encode(receipt.entry));
  const leafOk = equalBytes(leaf, hashBytes(receipt.leaf_hash));
  steps.push({ label: "entry hashes to its leaf", ok: leafOk, detail: `SHA-256(0x00‖entry) = ${bytesToHex(leaf).slice(0, 16)}…` });
  const checkpoint = parseCheckpoint(parseNote(receipt.checkpoint).body);
  const sameSize = checkpoint.size === receipt.tree_size;
  steps.push({
    label: "proof is for the checkpoint's tree",
    ok: sameSize,
    detail: `proof tree size ${receipt.tree_size}, checkpoint size ${checkpoint.size}`,
  });
  const path = receipt.inclusion_proof.map(hashBytes);
  const included = await verifyInclusion(receipt.index, receipt.tree_size, leaf, path, checkpoint.root);
  steps.push({
    label: "inclusion proof (RFC 9162) reaches the checkpoint root",
    ok: included,
    detail: `leaf ${receipt.index} of ${receipt.tree_size}, ${path.length} hashes, root ${bytesToHex(checkpoint.root).slice(0, 16)}…`,
  });
  const signature: ReceiptCheck["signature"] = vkey
    ? await verifyNote(receipt.checkpoint, vkey)
    : { status: "absent", reason: "no verifier key to check the signature with" };
  steps.push({
    label: "checkpoint signature (Ed25519)",
    ok: signature.status === "valid" ? true : signature.status === "invalid" ? false : null,
    detail: signature.status === "valid" ? `signed by ${signature.signer}` : signature.reason,
  });
  return { ok: leafOk && sameSize && included && signature.status !== "invalid", steps, signature };
}
