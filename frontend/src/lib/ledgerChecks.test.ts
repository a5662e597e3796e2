import { afterEach, describe, expect, it, vi } from "vitest";
import { bytesToBase64, hexToBytes } from "./encoding";
import kat from "./fixtures/ledger-kat.json";
import { rootSentence } from "../views/ledger/VerifyPanel";
import { checkConsistency, checkLog } from "./ledgerChecks";
import { parseCheckpoint, parseNote } from "./note";

const roots = kat.roots as Record<string, string>;
const current = parseCheckpoint(parseNote(kat.note).body); // tree of 11
const unsigned = (size: number) => `aura.example/ledger\n${size}\n${bytesToBase64(hexToBytes(roots[String(size)]!))}\n`;

function serveProof(size1: number) {
  const proof = kat.consistency.find((c) => c.size1 === size1 && c.size2 === 11)!.proof.map((h) => bytesToBase64(hexToBytes(h)));
  vi.stubGlobal("fetch", async (input: Request) => {
    const url = new URL(input.url);
    expect(url.searchParams.get("from")).toBe(String(size1));
    return new Response(JSON.stringify({ old_size: size1, new_size: 11, proof }), { headers: { "Content-Type": "application/json" } });
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("ledger checks in the browser", () => {
  it("accepts an older tree head the log extends", async () => {
    serveProof(7);
    expect(await checkConsistency(unsigned(7), current, kat.vkey)).toMatchObject({ ok: true });
  });

  it("refuses an older tree head with another root (a fork)", async () => {
    serveProof(7);
    const forked = unsigned(7).replace(bytesToBase64(hexToBytes(roots["7"]!)), bytesToBase64(hexToBytes(roots["6"]!)));
    expect(await checkConsistency(forked, current, kat.vkey)).toMatchObject({ ok: false });
  });

  it("refuses a signed checkpoint whose text was edited", async () => {
    const edited = kat.note.replace("\n11\n", "\n12\n");
    const result = await checkConsistency(edited, current, kat.vkey);
    expect(result.detail).toMatch(/signature does not verify/);
  });

  it("recomputes the root from entries and compares it with the checkpoint", async () => {
    const entries = kat.entries.map((entry, index) => ({
      index, entry, submission_id: `s${index}`, leaf_hash: kat.leaves[index]!, chain_hash: "", created_at: "",
    }));
    expect(await checkLog(entries, current)).toMatchObject({ badLeaf: null, matchesCheckpoint: true, entries: 11 });
    const tampered = entries.map((e) => (e.index === 3 ? { ...e, entry: "entry 3!" } : e));
    expect(await checkLog(tampered, current)).toMatchObject({ badLeaf: 3, matchesCheckpoint: false });
  });

  it("takes another hospital's withheld entries as their leaf hashes and says how many", async () => {
    const entries = kat.entries.map((entry, index) => ({
      index, entry: index % 3 ? entry : null, submission_id: null, leaf_hash: kat.leaves[index]!, chain_hash: "", created_at: "",
    }));
    expect(await checkLog(entries, current)).toMatchObject({ badLeaf: null, matchesCheckpoint: true, withheld: 4 });
    const forged = entries.map((e) => (e.index === 0 ? { ...e, leaf_hash: kat.leaves[1]! } : e));
    expect(await checkLog(forged, current)).toMatchObject({ matchesCheckpoint: false });
  });

  it("says which leaves the root covers and which checkpoint it was compared with", async () => {
    const entries = kat.entries.map((entry, index) => ({
      index, entry, submission_id: `s${index}`, leaf_hash: kat.leaves[index]!, chain_hash: "", created_at: "",
    }));
    const seven = parseCheckpoint(`aura.example/ledger\n7\n${bytesToBase64(hexToBytes(roots["7"]!))}\n`);
    const check = await checkLog(entries, seven);

    expect(check).toMatchObject({ entries: 11, rootSize: 7, matchesCheckpoint: true });
    expect(rootSentence(check)).toMatch(
      /^the Merkle root of entries 0-6 \([0-9a-f]{16}…?\) equals the root of the signed checkpoint of size 7; the 4 newer entries are under no checkpoint yet\.$/);
    expect(rootSentence(await checkLog(entries, null))).toMatch(/entries 0-10 .*no signed checkpoint covers them/);
  });
});
