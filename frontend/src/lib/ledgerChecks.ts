// Whole-log and consistency checks the Ledger view runs in the browser.
import { api, unwrap, type Schemas } from "../api/client";
import { bytesToHex, hashBytes } from "./encoding";
import { leafHash, rootOf, verifyConsistency } from "./merkle";
import { parseCheckpoint, parseNote, verifyNote, type Checkpoint } from "./note";

const PAGE = 500;
export const BROWSER_LIMIT = 20_000; // entries the browser will download to recompute the tree

/** Every entry, oldest first (the API pages newest first). */
export async function allEntries(total: number): Promise<Schemas["LedgerEntryOut"][]> {
  const out: Schemas["LedgerEntryOut"][] = [];
  for (let offset = 0; offset < Math.min(total, BROWSER_LIMIT); offset += PAGE) {
    const page = unwrap(await api.GET("/api/v1/ledger/entries", { params: { query: { limit: PAGE, offset } } }));
    out.push(...page.items);
  }
  return out.sort((a, b) => a.index - b.index);
}

export interface LogCheck {
  entries: number;
  withheld: number; // other hospitals' entries, served as their leaf hashes only (a hospital key)
  badLeaf: number | null; // first entry whose bytes do not hash to its stored leaf hash
  root: string; // hex MTH of the first `rootSize` leaves
  rootSize: number; // the checkpoint's tree size when one covers the entries read, else all of them
  matchesCheckpoint: boolean | null;
}

/**
 * Recompute every leaf hash from the entry bytes, and the tree root at the checkpoint's size. An
 * entry served without its bytes (another hospital's, to a hospital key) enters the tree as the
 * leaf hash served, and is counted as withheld.
 */
export async function checkLog(entries: Schemas["LedgerEntryOut"][], checkpoint: Checkpoint | null): Promise<LogCheck> {
  const leaves: Uint8Array[] = [];
  let badLeaf: number | null = null;
  let withheld = 0;
  for (const e of entries) {
    if (e.entry === null) {
      withheld += 1;
      leaves.push(hashBytes(e.leaf_hash));
      continue;
    }
    const leaf = await leafHash(new TextEncoder().encode(e.entry));
    if (badLeaf === null && bytesToHex(leaf) !== e.leaf_hash) badLeaf = e.index;
    leaves.push(leaf);
  }
  const size = checkpoint && checkpoint.size <= leaves.length ? checkpoint.size : leaves.length;
  const root = await rootOf(leaves.slice(0, size));
  return {
    entries: entries.length,
    withheld,
    badLeaf,
    root: bytesToHex(root),
    rootSize: size,
    matchesCheckpoint: checkpoint && checkpoint.size <= leaves.length ? bytesToHex(root) === bytesToHex(checkpoint.root) : null,
  };
}

/** Is the log's current checkpoint consistent with an older one someone kept (pasted note)? */
export async function checkConsistency(pasted: string, current: Checkpoint, vkey: string): Promise<{ ok: boolean; detail: string }> {
  const text = pasted.trim() + "\n";
  const signed = text.includes("\n\n");
  const old = parseCheckpoint(signed ? parseNote(text).body : text);
  // A kept checkpoint is evidence only if the log signed it; an unsigned one is checked as given.
  if (signed) {
    const signature = await verifyNote(text, vkey);
    if (signature.status === "invalid") return { ok: false, detail: `the pasted checkpoint's signature does not verify: ${signature.reason}` };
  }
  if (old.size > current.size) return { ok: false, detail: `the pasted tree (${old.size}) is larger than the log's (${current.size})` };
  const hashes = unwrap(
    await api.GET("/api/v1/ledger/proofs/consistency", { params: { query: { from: old.size, to: current.size } } }),
  ).proof;
  const ok = await verifyConsistency(old.size, current.size, old.root, current.root, hashes.map(hashBytes));
  return {
    ok,
    detail: ok
      ? `tree ${old.size} is a prefix of tree ${current.size} (${hashes.length} proof hashes)`
      : `the proof does not show tree ${old.size} is a prefix of tree ${current.size}: the log forked or was rewritten`,
  };
}


