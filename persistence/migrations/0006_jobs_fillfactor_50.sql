-- Results arrive in batches: one group commit updates many rows of the same page, and
-- until it commits none of their old versions can be pruned, so a page needs room for
-- all its new versions at once. At fillfactor 70, 62 % of the final updates found that
-- room; the rest were not HOT (a tuple lock, a new page and an entry in each index of
-- jobs). At 50, 91 % are HOT and Postgres spends about 7 % less CPU per job in the
-- saturated cycle. The cost is room: a finished job takes 4 % more heap, a pending one
-- 18 % more (a million pending: 614 instead of 519 MB), and reloading a million pending
-- jobs 2 % longer (docs/BENCHMARKS.md, fourth round). Pages written before this keep
-- their old fill.
ALTER TABLE jobs SET (fillfactor = 50);
