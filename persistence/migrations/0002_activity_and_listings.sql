-- The newest jobs of a whole cluster (cluster details, the activity log).
CREATE INDEX jobs_latest ON jobs (cluster_id, created_at DESC);
-- The activity of one deployment.
CREATE INDEX events_deployment ON events (cluster_id, deployment_id, created_at DESC)
  WHERE deployment_id IS NOT NULL;
-- Pruning by age.
CREATE INDEX client_events_time ON client_events (occurred_at);
CREATE INDEX events_time ON events (created_at);
