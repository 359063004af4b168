-- The events of resource controllers (issue 15): every state change of a resource,
-- written in the same commit as the change, numbered per cluster. `seq` is the cursor of
-- GET /resources/events; the owner of the cluster's lease numbers them, loading the
-- highest at start, so they grow across restarts and moves to other nodes (numbers of a
-- commit that failed are skipped). The activity log shows them too, derived from this
-- table when it is read. Rows older than --activity-retention-hours are deleted.
CREATE TABLE resource_events (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  kind text NOT NULL,
  object_id text NOT NULL,
  -- The state entered, or 'purged' (the resource was removed).
  type text NOT NULL,
  -- The state after the change, and the one before (NULL: a new resource).
  state text NOT NULL,
  previous_state text,
  attempt integer NOT NULL,
  -- Why the last attempt failed (failed, degraded).
  message text,
  -- The work job queued or running after the change.
  job_id text,
  at timestamptz NOT NULL,
  PRIMARY KEY (cluster_id, seq)
);

-- Retention deletes by time; rows arrive in time order, so a BRIN index is enough and
-- costs the inserts next to nothing.
CREATE INDEX resource_events_by_time ON resource_events USING brin (at);
