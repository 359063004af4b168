-- A job row is written three times (created, dispatched, resulted). Indexes that name a
-- column those updates change (status, result_type, resulted_at) made every update write
-- every index anew; without them the updates are HOT (heap-only) and touch no index.
-- Live jobs (recovery) and cached resolutions are found through jobs_latest instead.
DROP INDEX jobs_live;
DROP INDEX jobs_cache;
-- Room on each page for the updated versions of its rows, which HOT needs.
ALTER TABLE jobs SET (fillfactor = 70);
-- The cluster of every job exists (clusters are never deleted); checking it took a row
-- lock on the cluster for every insert.
ALTER TABLE jobs DROP CONSTRAINT jobs_cluster_id_fkey;
