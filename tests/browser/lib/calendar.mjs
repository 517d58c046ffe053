// The demo's calendar around the day the suite runs as (TAVLE_TODAY, else today in
// Oslo), as `tavle demo --print-calendar` prints it; run.mjs writes it to the file named
// by TAVLE_CALENDAR. Journeys pick the days they need from it, never from the wall clock,
// so they pass in holidays and in the summer too.
import { readJson } from './env.mjs';

function calendar() {
  const file = process.env.TAVLE_CALENDAR;
  if (!file) throw new Error('TAVLE_CALENDAR is not set: run the suite with `node tests/browser/run.mjs`');
  return readJson(file);
}

/** The day Tavle runs as, `YYYY-MM-DD`. */
export const today = () => calendar().today;

/** School days of the previous, current and next school years, in order. */
const schoolDays = () => {
  const c = calendar();
  return [...c.previous.school_days, ...c.current.school_days, ...c.next.school_days];
};

/** The date `n` days from `iso`. */
export const daysFrom = (iso, n) => {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

const weekday = (iso) => new Date(`${iso}T12:00:00Z`).getUTCDay();

/** The latest school day on or before today (the last one before a holiday or the summer). */
export const latestSchoolDay = () => schoolDays().filter((d) => d <= today()).at(-1);

/** The first school day that is a Monday, `atLeast` days or more after today: the weekend before it has no school. */
export const schoolMondayFrom = (atLeast) =>
  schoolDays().find((d) => d >= daysFrom(today(), atLeast) && weekday(d) === 1);

/** The first weekday after today. */
export const nextWeekday = () => {
  let d = daysFrom(today(), 1);
  while ([0, 6].includes(weekday(d))) d = daysFrom(d, 1);
  return d;
};
