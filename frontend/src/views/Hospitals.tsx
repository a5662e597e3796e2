// Hospitals: the federation's members with their records; admins register hospitals here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { useHospitals, useTasks } from "../api/queries";
import { useSession } from "../auth/session";
import { Empty, ErrorBox, QueryView } from "../components/States";
import { percent } from "../lib/format";
import { NewKey } from "./HospitalKeys";

export function HospitalsView() {
  const { me } = useSession();
  const hospitals = useHospitals();
  return (
    <section>
      <h1>Hospitals</h1>
      <QueryView query={hospitals} what="hospitals">
        {(list) =>
          list.length === 0 ? (
            <Empty>No hospitals registered yet.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Hospital</th>
                    <th>Name</th>
                    <th>Centre</th>
                    <th>Submissions</th>
                    <th>Accepted</th>
                    <th>Rejected</th>
                    <th>Acceptance</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((h) => (
                    <tr key={h.id}>
                      <td>
                        <Link to={`/hospitals/${encodeURIComponent(h.id)}`}>{h.id}</Link>
                      </td>
                      <td>{h.name}</td>
                      <td>{h.centre ?? "—"}</td>
                      <td>{h.submissions}</td>
                      <td>{h.accepted}</td>
                      <td>{h.rejected}</td>
                      <td>{percent(h.accepted + h.rejected ? h.accepted / (h.accepted + h.rejected) : null)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
      {me?.role === "admin" && <AddHospital />}
    </section>
  );
}

function AddHospital() {
  const client = useQueryClient();
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [centre, setCentre] = useState("");
  // The centres some task's golden set holds rows of: the detector compares an update with the
  // golden rows of its hospital's own centre, so a hospital registered with one gets that check.
  const centres = [...new Set((useTasks().data ?? []).flatMap((t) => t.centres))].sort();
  const add = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/hospitals", { body: { id, name: name || id, centre: centre || null } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["hospitals"] }),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    add.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-label="add a hospital">
      <h2>Add a hospital</h2>
      <label>
        Id <input value={id} onChange={(e) => setId(e.target.value)} required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" />
      </label>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Centre{" "}
        <select value={centre} onChange={(e) => setCentre(e.target.value)}>
          <option value="">none</option>
          {centres.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={add.isPending || !id}>
        Add
      </button>
      {add.isError && <ErrorBox error={add.error} what="the new hospital" />}
      {add.data && <NewKey label={`Key for ${add.data.id}`} apiKey={add.data.api_key} />}
    </form>
  );
}
