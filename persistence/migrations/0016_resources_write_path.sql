-- The write path of informs (issue 15: >= 20,000 changed informs/s in batches,
-- bench/resources).
-- Room on each page for the next version of its rows. An inform that changes the object
-- of a queued resource keeps its state and namespace, so with room on the page the
-- update is HOT: one heap record, no index entry. On full pages every such update moved
-- the row to another page, with an entry in each of the three indexes (six WAL records
-- instead of two, 53-70 µs instead of 24-33 µs of Postgres per inform). Rows written
-- from now on get the room; existing pages get it as their rows move.
ALTER TABLE resources SET (fillfactor = 50);
-- The cluster of every resource and event exists (clusters are never deleted; jobs lost
-- their check in 0003): checking it ran a trigger with a query and a row lock on the
-- cluster for each new row, 17-23 µs of Postgres per new resource and as much again per
-- event.
ALTER TABLE resources DROP CONSTRAINT resources_cluster_id_fkey;
ALTER TABLE resource_events DROP CONSTRAINT resource_events_cluster_id_fkey;
