-- An informer's error (issue 15): why its last run failed, stored with the kind's last
-- successful run (last_informed_at), so that a restart or a hand-off still shows it as
-- the kind's informError. NULL: the last run did not fail. Every write of a kind's row
-- carries the error in effect (a settings change keeps it).
ALTER TABLE resource_kinds ADD COLUMN inform_error text;
