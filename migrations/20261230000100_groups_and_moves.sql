-- The office keeps classes and groups, and moves pupils (issue 18, points 4 and 5).
--
-- A group is closed on a day rather than deleted: its memberships end that day and
-- its lessons, registers and grades keep pointing at it.
ALTER TABLE groups ADD COLUMN closed_on date;

-- A pupil may leave a group and come back later in the year: each stay is its own row,
-- and a stay is never rewritten, only ended. (At most one open stay per pupil and group
-- is kept by the code that writes them, in one transaction under the group's lock.)
ALTER TABLE group_memberships DROP CONSTRAINT group_memberships_pkey;
ALTER TABLE group_memberships ADD PRIMARY KEY (tenant_id, group_id, pupil_id, from_date);

-- Why an enrolment ended: moved to another school of the municipality, or out of the
-- municipality (with the municipality number it went to, when known). NULL while it
-- runs, and for enrolments that ended before this was recorded.
ALTER TABLE enrolments
    ADD COLUMN ended_by text CHECK (ended_by IN ('moved_school', 'moved_out', 'left')),
    ADD COLUMN moved_to_municipality char(4) CHECK (moved_to_municipality ~ '^[0-9]{4}$'),
    ADD CONSTRAINT enrolments_moved_to_only_out CHECK (moved_to_municipality IS NULL OR ended_by = 'moved_out');
