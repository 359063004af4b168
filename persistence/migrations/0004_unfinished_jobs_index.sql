-- Recovery reads the unfinished jobs of a cluster. Without an index of its own that read
-- scanned every job the cluster ever had, so restarts slowed as history grew. The
-- predicate names resulted_at, which only a job's final write sets: the dispatch update
-- stays HOT, and a job leaves the index when it finishes.
CREATE INDEX jobs_unfinished ON jobs (cluster_id, created_at) WHERE resulted_at IS NULL;
