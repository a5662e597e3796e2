// Routes and the nav bar; which views a key sees follows from its role.
import { lazy, Suspense, useEffect } from "react";
import { NavLink, Navigate, Route, Routes, useLocation } from "react-router";
import { readsAll, useSession } from "./auth/session";
import { Loading } from "./components/States";
import { SignIn } from "./views/SignIn";

// Each view is its own chunk, so the first page loads without every chart of every view.
const OverviewView = lazy(() => import("./views/Overview").then((m) => ({ default: m.OverviewView })));
const SubmissionsView = lazy(() => import("./views/Submissions").then((m) => ({ default: m.SubmissionsView })));
const SubmissionView = lazy(() => import("./views/SubmissionDetail").then((m) => ({ default: m.SubmissionView })));
const HospitalsView = lazy(() => import("./views/Hospitals").then((m) => ({ default: m.HospitalsView })));
const HospitalView = lazy(() => import("./views/HospitalDetail").then((m) => ({ default: m.HospitalView })));
const RunsView = lazy(() => import("./views/Runs").then((m) => ({ default: m.RunsView })));
const DatasetsView = lazy(() => import("./views/Datasets").then((m) => ({ default: m.DatasetsView })));
const LedgerView = lazy(() => import("./views/Ledger").then((m) => ({ default: m.LedgerView })));
const AnalyticsView = lazy(() => import("./views/Analytics").then((m) => ({ default: m.AnalyticsView })));
const SecurityView = lazy(() => import("./views/Security").then((m) => ({ default: m.SecurityView })));
const UploadView = lazy(() => import("./views/Upload").then((m) => ({ default: m.UploadView })));

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

// The browser tab and history name the view: "Submission 3f2a9c1e · AURA", not the same title everywhere.
export function titleFor(pathname: string): string {
  const [, first = "", id] = pathname.split("/");
  const view = NAV.find((item) => item.to === `/${first}`)?.label ?? (first === "" ? "Overview" : "Not found");
  if (id && first === "submissions") return `Submission ${decodeURIComponent(id).slice(0, 8)} · AURA`;
  if (id && first === "hospitals") return `Hospital ${decodeURIComponent(id)} · AURA`;
  return `${view} · AURA`;
}

function useDocumentTitle() {
  const { pathname } = useLocation();
  useEffect(() => {
    document.title = titleFor(pathname);
  }, [pathname]);
}

export function App() {
  useDocumentTitle();
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
        <Suspense fallback={<Loading what="the view" />}>
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
        </Suspense>
      </main>
    </div>
  );
}
