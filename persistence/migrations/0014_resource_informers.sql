-- Informers of resource controllers (issue 15): a kind whose inform_interval_seconds is
-- set has its controller's `inform` function called that often; the function returns
-- resources to inform. last_informed_at is when the last successful run started (the
-- informer gets it as `lastRunAt`); it is written in the same commit as that run's
-- informs, so a restart or a hand-off continues the schedule from it.
ALTER TABLE resource_kinds
  ADD COLUMN inform_interval_seconds integer,
  ADD COLUMN last_informed_at timestamptz;
