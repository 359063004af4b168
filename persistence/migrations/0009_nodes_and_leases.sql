-- Nodes are the `diffplane serve` processes sharing this database. A node is live while
-- its heartbeat is younger than the lease TTL and it has not left (stopped_at).
CREATE TABLE nodes (
  id text PRIMARY KEY,
  http_address text NOT NULL DEFAULT '',
  caf_host text NOT NULL DEFAULT '',
  caf_port integer NOT NULL DEFAULT 0,
  hostname text NOT NULL DEFAULT '',
  pid integer NOT NULL DEFAULT 0,
  -- CAF's node id, derived from host data and the pid: two containers whose server is
  -- pid 1 may get the same, which the middleman cannot tell apart.
  caf_node text NOT NULL DEFAULT '',
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz
);

-- Each cluster is served by the node holding its lease. The epoch grows with every
-- acquisition and is the fencing token: each write of a cluster locks this row and checks
-- the epoch in the same transaction, so a node that lost the lease writes nothing more,
-- and an acquisition waits for the writes in flight (its load then sees them). Every
-- time is the database's, so the nodes' clocks need not agree.
CREATE TABLE cluster_leases (
  cluster_id text PRIMARY KEY REFERENCES clusters (id) ON DELETE CASCADE,
  node_id text,
  epoch bigint NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL DEFAULT '-infinity',
  acquired_at timestamptz
);
INSERT INTO cluster_leases (cluster_id) SELECT id FROM clusters;

-- One row per acquisition: who held each epoch and until when, for operators and for the
-- tests that check that no two nodes ever held one cluster at the same time.
CREATE TABLE lease_history (
  cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  epoch bigint NOT NULL,
  node_id text NOT NULL,
  acquired_at timestamptz NOT NULL,
  -- When the lease ran out or was released; NULL while held.
  ended_at timestamptz,
  PRIMARY KEY (cluster_id, epoch)
);

-- The secret a node's gate wants with every request another node forwards to it: only
-- processes with access to this database know it, so the CAF port is no way around the
-- API secrets. One row, written by the first node that starts.
CREATE TABLE mesh_secret (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  secret text NOT NULL
);
