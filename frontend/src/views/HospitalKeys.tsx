// A hospital's API keys for admins: issue a new one (shown once), revoke old ones.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Empty, ErrorBox, QueryView } from "../components/States";
import { when } from "../lib/format";

export function NewKey({ label, apiKey }: { label: string; apiKey: string }) {
  return (
    <div className="newkey" role="status">
      {label} (shown this once): <code>{apiKey}</code>
      <button type="button" className="link" onClick={() => void navigator.clipboard?.writeText(apiKey)}>
        copy
      </button>
    </div>
  );
}

export function HospitalKeys({ hospitalId }: { hospitalId: string }) {
  const client = useQueryClient();
  const keys = useQuery({
    queryKey: ["keys", hospitalId],
    queryFn: async () => unwrap(await api.GET("/api/v1/keys", { params: { query: { hospital: hospitalId } } })),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["keys", hospitalId] });
  const issue = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/keys", { body: { role: "hospital", hospital_id: hospitalId } })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: async (keyId: number) => unwrap(await api.DELETE("/api/v1/keys/{key_id}", { params: { path: { key_id: keyId } } })),
    onSuccess: refresh,
  });
  return (
    <div className="panel">
      <h2>API keys</h2>
      <button type="button" onClick={() => issue.mutate()} disabled={issue.isPending}>
        Issue a new key
      </button>
      {issue.data && <NewKey label="New key" apiKey={issue.data.api_key} />}
      {issue.isError && <ErrorBox error={issue.error} what="a new key" />}
      {revoke.isError && <ErrorBox error={revoke.error} what="the revocation" />}
      <QueryView query={keys} what="keys">
        {(list) =>
          list.length === 0 ? (
            <Empty>No keys.</Empty>
          ) : (
            <table className="compact">
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>issued {when(k.created_at)}</td>
                    <td>
                      {k.revoked_at ? (
                        `revoked ${when(k.revoked_at)}`
                      ) : (
                        <button type="button" onClick={() => revoke.mutate(k.id)} disabled={revoke.isPending}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </div>
  );
}
