-- "Today" is a Norwegian date that the application can state.
--
-- Every rule that depends on the date (an enrolment, employment, guardianship or group
-- membership being current, a child under 18, the current school year, the days a
-- register may be taken) asks `tavle_today()` instead of `current_date`. It is the
-- Oslo date of the transaction's start, unless the connection or transaction has set
-- `tavle.today`: `tavle demo` and the test suite do so (TAVLE_TODAY), so that the demo
-- and every test can be run as if on any day of the school year. `tavle serve`
-- refuses to start when TAVLE_TODAY is set or its connections carry `tavle.today`.
-- `tavle_local_now()` is the wall-clock time of day in Oslo on that date (for times of
-- day, such as an SFO arrival); instants (`now()`, timestamps of records) are real.

CREATE FUNCTION tavle_today() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(nullif(current_setting('tavle.today', true), '')::date,
                        (now() AT TIME ZONE 'Europe/Oslo')::date)
    $$;

CREATE FUNCTION tavle_local_now() RETURNS timestamp
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT tavle_today() + (now() AT TIME ZONE 'Europe/Oslo')::time
    $$;

GRANT EXECUTE ON FUNCTION tavle_today() TO tavle_app;
GRANT EXECUTE ON FUNCTION tavle_local_now() TO tavle_app;

ALTER TABLE guardianships ALTER COLUMN from_date SET DEFAULT tavle_today();
