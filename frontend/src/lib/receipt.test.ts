import { describe, expect, it } from "vitest";
import kat from "./fixtures/ledger-kat.json";
import { checkReceipt, readReceipt } from "./receipt";

const proof = kat.inclusion.find((p) => p.size === 11 && p.index === 4)!;
const body = {
  leaf_index: 4,
  tree_size: 11,
  entry: kat.entries[4],
  leaf_hash: kat.leaves[4],
  inclusion_proof: proof.path,
  checkpoint: kat.note,
  vkey: kat.vkey,
};

describe("ledger receipts checked in the browser", () => {
  it("accepts a receipt made by services/ledger", async () => {
    const check = await checkReceipt(readReceipt(body));
    expect(check.steps.filter((s) => s.ok === false)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.signature.status).toBe("valid");
  });

  it("fails a receipt whose entry was altered", async () => {
    const check = await checkReceipt(readReceipt({ ...body, entry: "entry 5" }));
    expect(check.ok).toBe(false);
  });

  it("reads the nested shape too", () => {
    const nested = { index: 4, inclusion_proof: { tree_size: 11, hashes: proof.path }, checkpoint: { note: kat.note } };
    const r = readReceipt(nested);
    expect([r.index, r.treeSize, r.path.length, r.note]).toEqual([4, 11, proof.path.length, kat.note]);
  });

  it("refuses a body with no proof", () => {
    expect(() => readReceipt({ leaf_index: 1 })).toThrow(/no leaf index/);
  });
});
