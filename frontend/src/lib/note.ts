// C2SP signed notes and tlog checkpoints, parsed and (where the browser can) verified here.
// Ed25519 in WebCrypto ships in current Chromium; where it is missing, verifyNote says so
// instead of pretending, and the dashboard points to the server-side check.
import { base64ToBytes, concat, equalBytes } from "./encoding";

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

export interface SignedNote {
  body: string; // the signed text, ending with a newline
  signatures: { name: string; keyId: Uint8Array; signature: Uint8Array }[];
}

export type SignatureCheck =
  | { status: "valid"; signer: string }
  | { status: "invalid"; reason: string }
  | { status: "unsupported"; reason: string };

/** Split a signed note into its text and signature lines (the last blank line separates them). */
export function parseNote(note: string): SignedNote {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("not a signed note: no signature block");
  const body = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2, -1)
    .split("\n")
    .map((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new Error(`malformed signature line: ${line}`);
      const raw = base64ToBytes(m[2]!);
      if (raw.length < 5) throw new Error(`signature by ${m[1]} is too short`);
      return { name: m[1]!, keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
  return { body, signatures };
}

/** Parse checkpoint text: origin, decimal size, base64 root, extension lines. */
export function parseCheckpoint(body: string): Checkpoint {
  if (!body.endsWith("\n")) throw new Error("checkpoint does not end with a newline");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3 || lines.some((l) => l === "")) throw new Error("checkpoint needs origin, size and root lines");
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1]!)) throw new Error(`invalid tree size ${lines[1]}`);
  const root = base64ToBytes(lines[2]!);
  if (root.length !== 32) throw new Error("root hash is not 32 bytes");
  return { origin: lines[0]!, size: Number(lines[1]), root, extensions: lines.slice(3) };
}

/** Parse Go verifier-key text "<name>+<hex key id>+<base64(0x01 || key)>". */
export function parseVerifierKey(vkey: string): { name: string; keyId: Uint8Array; publicKey: Uint8Array } {
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first < 1 || second < 0) throw new Error("verifier key is not <name>+<id>+<key>");
  const raw = base64ToBytes(vkey.slice(second + 1));
  if (raw.length !== 33 || raw[0] !== 1) throw new Error("verifier key is not an Ed25519 key");
  const hexId = vkey.slice(first + 1, second);
  const keyId = Uint8Array.from(hexId.match(/../g) ?? [], (h) => parseInt(h, 16));
  return { name: vkey.slice(0, first), keyId, publicKey: raw.slice(1) };
}

/** The 4-byte key id SHA-256(name || "\n" || 0x01 || key)[:4]. */
export async function keyId(name: string, publicKey: Uint8Array): Promise<Uint8Array> {
  const data = concat(new TextEncoder().encode(`${name}\n`), new Uint8Array([1]), publicKey);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource)).slice(0, 4);
}

/** Check the note's signature by this verifier key with WebCrypto Ed25519. */
export async function verifyNote(note: string, vkey: string): Promise<SignatureCheck> {
  let parsed: SignedNote;
  let key: ReturnType<typeof parseVerifierKey>;
  try {
    parsed = parseNote(note);
    key = parseVerifierKey(vkey);
  } catch (e) {
    return { status: "invalid", reason: e instanceof Error ? e.message : String(e) };
  }
  const expectedId = await keyId(key.name, key.publicKey);
  if (!equalBytes(expectedId, key.keyId)) return { status: "invalid", reason: "verifier key id does not match its key" };
  const mine = parsed.signatures.find((s) => s.name === key.name && equalBytes(s.keyId, expectedId));
  if (!mine) return { status: "invalid", reason: `no signature by ${key.name}` };
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await crypto.subtle.importKey("raw", key.publicKey as BufferSource, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    return { status: "unsupported", reason: `this browser's WebCrypto has no Ed25519 (${e instanceof Error ? e.name : e})` };
  }
  const ok = await crypto.subtle.verify(
    { name: "Ed25519" },
    cryptoKey,
    mine.signature as BufferSource,
    new TextEncoder().encode(parsed.body) as BufferSource,
  );
  return ok ? { status: "valid", signer: key.name } : { status: "invalid", reason: "Ed25519 signature does not verify" };
}
