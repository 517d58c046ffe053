-- Whether a guardian lives with the pupil is corrected by the office (issue 18): the
-- value before each correction is kept with the rest of the guardianship's history.
-- NULL in rows written before, and by the register import, which never changes it on
-- a guardianship that exists.
ALTER TABLE guardianship_history ADD COLUMN lives_with boolean;
