-- A cache ttl may be longer than the 24 hours of resolutions a cluster keeps in memory;
-- a miss for such a ttl reads the latest resolution of the key from here. Only columns
-- set when the job is inserted are indexed, so the updates of a job stay HOT (0003).
CREATE INDEX jobs_cache_lookup ON jobs (cluster_id, service, target_fn, cache_key)
  WHERE cache_key IS NOT NULL;
