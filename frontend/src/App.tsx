// Routes and the nav bar; which views a key sees follows from its role.
import { NavLink, Navigate, Route, Routes } from "react-router";
import { readsAll, useSession } from "./auth/session";
import { Loading } from "./components/States";
import { AnalyticsView } from "./views/Analytics";
import { DatasetsView } from "./views/Datasets";
import { HospitalView, HospitalsView } from "./views/Hospitals";
import { LedgerView } from "./views/Ledger";
import { OverviewView } from "./views/Overview";
import { RunsView } from "./views/Runs";
import { SecurityView } from "./views/Security";
import { SignIn } from "./views/SignIn";
import { SubmissionView } from "./views/SubmissionDetail";
import { SubmissionsView } from "./views/Submissions";
import { UploadView } from "./views/Upload";

interface NavItem {
  to: string;
  label: string;
  operatorOnly?: boolean;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Overview" },
  { to: "/submissions", label: "Submissions" },
  { to: "/hospitals", label: "Hospitals" },
  { to: "/runs", label: "Runs", operatorOnly: true },
  { to: "/datasets", label: "Datasets", operatorOnly: true },
  { to: "/ledger", label: "Ledger" },
  { to: "/analytics", label: "Analytics", operatorOnly: true },
  { to: "/security", label: "Security", operatorOnly: true },
  { to: "/upload", label: "Upload" },
];

export function App() {
  const { me, restoring, signOut } = useSession();
  if (restoring) return <Loading what="your session" />;
  if (!me) return <SignIn />;
  const operator = readsAll(me);
  const hospitalHome = me.hospital_id ? `/hospitals/${encodeURIComponent(me.hospital_id)}` : "/hospitals";
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">AURA</span>
        <nav aria-label="main">
          {NAV.filter((item) => operator || !item.operatorOnly).map((item) => (
            <NavLink key={item.to} to={item.to === "/hospitals" && !operator ? hospitalHome : item.to} end={item.to === "/"}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <span className="who">
          {me.role}
          {me.hospital_id ? ` · ${me.hospital_name ?? me.hospital_id}` : ""}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<OverviewView />} />
          <Route path="/submissions" element={<SubmissionsView />} />
          <Route path="/submissions/:id" element={<SubmissionView />} />
          <Route path="/hospitals" element={operator ? <HospitalsView /> : <Navigate to={hospitalHome} replace />} />
          <Route path="/hospitals/:id" element={<HospitalView />} />
          <Route path="/ledger" element={<LedgerView />} />
          <Route path="/upload" element={<UploadView />} />
          {operator && (
            <>
              <Route path="/runs" element={<RunsView />} />
              <Route path="/datasets" element={<DatasetsView />} />
              <Route path="/analytics" element={<AnalyticsView />} />
              <Route path="/security" element={<SecurityView />} />
            </>
          )}
          <Route path="*" element={<p className="state empty">No such page. Pick a view above.</p>} />
        </Routes>
      </main>
    </div>
  );
}
