"""Read-side summaries for the dashboard: pure helpers the stats and analytics routers share."""
