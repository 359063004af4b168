-- Clusters are tenants: an API secret, settings, and everything below hangs off one.
CREATE TABLE clusters (
  id text PRIMARY KEY,
  api_secret text NOT NULL UNIQUE,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  predictive_retries_enabled boolean NOT NULL DEFAULT false,
  cloud_enabled boolean NOT NULL DEFAULT false
);

-- A service's definition as its workers announce it when they poll.
CREATE TABLE services (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  name text NOT NULL,
  functions jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, name)
);

-- Worker machines; last_ping_at is refreshed at most every few seconds.
CREATE TABLE machines (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  id text NOT NULL,
  service text,
  ip text,
  deployment_id text,
  last_ping_at timestamptz NOT NULL,
  PRIMARY KEY (cluster_id, id)
);

CREATE TABLE jobs (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  id text NOT NULL,
  service text NOT NULL,
  target_fn text NOT NULL,
  -- Payloads are the SDK's base64 msgpack, stored and returned byte for byte.
  target_args text NOT NULL,
  status text NOT NULL
    CHECK (status IN ('pending', 'running', 'success', 'failure', 'stalled')),
  result text,
  result_type text CHECK (result_type IN ('resolution', 'rejection')),
  attempts_used integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  timeout_seconds integer NOT NULL,
  predictive_retries_on_rejection boolean NOT NULL DEFAULT false,
  background boolean NOT NULL DEFAULT false,
  cache_key text,
  executing_machine_id text,
  function_execution_time_ms integer,
  -- Grows with every transition; writes only land over an older revision.
  revision bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_dispatched_at timestamptz,
  resulted_at timestamptz,
  PRIMARY KEY (cluster_id, id)
);

-- Recovery loads the live jobs of a cluster.
CREATE INDEX jobs_live ON jobs (cluster_id, created_at)
  WHERE status IN ('pending', 'running', 'stalled');
-- Cache lookups: the latest resolution of (service, fn, key).
CREATE INDEX jobs_cache ON jobs (cluster_id, service, target_fn, cache_key, resulted_at DESC)
  WHERE cache_key IS NOT NULL AND result_type = 'resolution';
-- Management listings: latest jobs of a cluster or of one service.
CREATE INDEX jobs_service_latest ON jobs (cluster_id, service, created_at DESC);

-- The activity log of a cluster.
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  type text NOT NULL,
  job_id text,
  machine_id text,
  deployment_id text,
  service text,
  meta jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_cluster_time ON events (cluster_id, created_at DESC);
CREATE INDEX events_job ON events (cluster_id, job_id, created_at) WHERE job_id IS NOT NULL;

-- Telemetry the SDKs send to POST /metrics.
CREATE TABLE client_events (
  id bigserial PRIMARY KEY,
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  machine_id text,
  deployment_id text,
  type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  tags jsonb,
  int_fields jsonb
);
CREATE INDEX client_events_cluster_time ON client_events (cluster_id, occurred_at DESC);
