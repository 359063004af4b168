-- Resource namespaces (issue 15): limits shared by the resources of one namespace
-- (PUT /resources-namespaces/:name). A namespace without a row has none of them; a NULL
-- column is unlimited (max_workers) or off (the others).
CREATE TABLE resource_namespaces (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  name text NOT NULL,
  -- At most this many works of the namespace queued or running at once.
  max_workers integer,
  -- A resource synced longer ago than this becomes `expired` and is worked again.
  expiry_ttl interval,
  -- Resources synced (without expiry) or deleted longer ago than this are purged.
  synced_retention interval,
  deleted_retention interval,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cluster_id, name)
);
