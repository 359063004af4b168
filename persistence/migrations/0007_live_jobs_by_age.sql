-- A job no longer enters live_jobs when it is created, only if it is still live a
-- moment later: each cluster moves its older live jobs there once a second, so most
-- jobs finish without a live_jobs row to insert and delete (a sixth of Postgres's work
-- per job). A restart finds the younger live jobs in jobs by creation time. Every live
-- job created before live_jobs_before has its row in live_jobs; until now every live
-- job had one, so the existing clusters start from now.
ALTER TABLE clusters ADD COLUMN live_jobs_before timestamptz NOT NULL DEFAULT now();
