-- Resource controllers (issue 15): objects of the outside world, informed by clients and
-- kept in sync by a controller's `work` function, which runs as an ordinary job of
-- service `resources.<kind>` (work_job_id). One row per (cluster, kind, object id).
CREATE TABLE resources (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  kind text NOT NULL,
  object_id text NOT NULL,
  -- The informed object and the SHA-256 (hex) of its canonical JSON: an inform with the
  -- same hash of a synced resource changes nothing.
  object jsonb NOT NULL,
  hash text NOT NULL,
  -- The client's version, for ordering (NULL: none): an older one is refused as stale.
  version bigint,
  namespace text NOT NULL DEFAULT 'default',
  tags jsonb NOT NULL DEFAULT '{}',
  metadata jsonb,
  external_created_at timestamptz,
  state text NOT NULL
    CHECK (state IN ('scheduled', 'pending', 'synced', 'failed', 'degraded', 'expired',
                     'deleted')),
  -- Attempts of the current object's work, and the most it gets before `degraded`.
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 10,
  -- [{"attempt", "message", "at"}] of the failed attempts of the current object.
  errors jsonb NOT NULL DEFAULT '[]',
  -- Informed while its work ran: exactly one more work follows when that one ends.
  dirty boolean NOT NULL DEFAULT false,
  -- The job of the queued or running work (NULL: none).
  work_job_id text,
  -- When a failed resource's next attempt is due (its backoff).
  next_attempt_at timestamptz,
  -- Grows with every write of the row; a write only lands over an older revision.
  revision bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, kind, object_id)
);

-- Listings by state and by namespace, in key order (the cursor is the last key).
CREATE INDEX resources_by_state ON resources (cluster_id, state, kind, object_id);
CREATE INDEX resources_by_namespace ON resources (cluster_id, namespace, kind, object_id);

-- A kind's controller settings (PUT /resources-kinds/:kind); NULL: the server's default.
CREATE TABLE resource_kinds (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  kind text NOT NULL,
  backoff_base_ms bigint,
  backoff_cap_ms bigint,
  timeout_seconds integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, kind)
);
