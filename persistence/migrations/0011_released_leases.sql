-- Whether a lease's holder released it (a hand-off, or an orderly stop) after every write
-- it sent had committed, rather than letting it run out. The attempts the next owner finds
-- running are then still running on their workers: it adopts them instead of counting
-- them as stalled, so that a hand-off costs no job an attempt.
ALTER TABLE cluster_leases ADD COLUMN released boolean NOT NULL DEFAULT false;
