import { useState, type FormEvent } from "react";
import { useSession } from "../auth/session";

export function SignIn() {
  const { signIn } = useSession();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(key);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <h1>AURA</h1>
      <p>Every model update a hospital sends, its evidence, its verdict and the ledger that records it.</p>
      <form onSubmit={submit}>
        <label>
          API key
          <input
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="aura_…"
            required
          />
        </label>
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {error && (
          <p className="state error" role="alert">
            {error}
          </p>
        )}
        <p className="hint">
          An operator key (printed by <code>aura up</code>) sees everything; a hospital key sees its own hospital.
          The key stays in this tab only.
        </p>
      </form>
    </main>
  );
}
