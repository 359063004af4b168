-- The two creation-time indexes in ascending order: a new job's entry then goes to the
-- right-hand edge of its cluster's (and service's) range, and for the last range of the
-- index Postgres inserts into the cached right-most leaf without descending the tree.
-- In descending order every insert descended to the left-hand edge of its range. The
-- listings (newest first) and the restart's reads (oldest first) scan either way.
DROP INDEX jobs_latest;
CREATE INDEX jobs_latest ON jobs (cluster_id, created_at);
DROP INDEX jobs_service_latest;
CREATE INDEX jobs_service_latest ON jobs (cluster_id, service, created_at);
