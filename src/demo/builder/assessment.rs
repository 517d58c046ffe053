//! Assessment in the demo: each school with grades 8 and up gets its periods (last
//! year's autumn and spring, closed and published; this year's autumn, open for entry
//! around the demo's day and its school day, and published after it), and the pupils of its teaching
//! groups their grades: this autumn's (not yet published), and last year's for those
//! who were in grade 8 or 9 then (published: what the pupil and the guardians read);
//! grade 10 is drawn for the written exam in mathematics.
//! Ids and values come from a random stream of their own, so the rest of the demo is
//! as it was without them.

use rand::Rng;
use time::{Date, Duration};
use uuid::Uuid;

use super::{uuid_from, Builder};

/// A teaching group of grade 8 and up, as built.
pub(super) struct Graded {
    school: usize,
    group: Uuid,
    name: String,
    code: &'static str,
    grade: i16,
    pupils: Vec<Uuid>,
    teacher: Option<Uuid>,
}

impl Graded {
    pub(super) fn new(
        school: usize,
        group: Uuid,
        name: &str,
        code: &'static str,
        grade: i16,
        members: &[(Uuid, Date)],
        teacher: Option<Uuid>,
    ) -> Self {
        let pupils = members.iter().map(|m| m.0).collect();
        Graded { school, group, name: name.to_owned(), code, grade, pupils, teacher }
    }
}

/// A grade as teachers give them: mostly 3-5, some 2 and 6, now and then IV.
fn draw(rng: &mut impl Rng) -> &'static str {
    const VALUES: [&str; 12] = ["2", "3", "3", "4", "4", "4", "4", "5", "5", "5", "6", "6"];
    if rng.gen_ratio(1, 80) {
        "IV"
    } else {
        VALUES[rng.gen_range(0..VALUES.len())]
    }
}

impl Builder<'_> {
    fn period(&mut self, school: Uuid, year: Uuid, kind: &str, opens: Date, closes: Date, publish: Date) -> Uuid {
        let id = uuid_from(&mut self.assessment_rng);
        self.t
            .periods
            .uuid(self.tenant)
            .uuid(id)
            .uuid(school)
            .uuid(year)
            .text(kind)
            .date(opens)
            .date(closes)
            .date(publish)
            .text("08:00")
            .end();
        id
    }

    fn grade(&mut self, period: Uuid, subject: Uuid, pupil: Uuid, group: Option<Uuid>, by: Uuid, on: Date) {
        let value = draw(&mut self.assessment_rng);
        let at = format!("{} 12:00:00+00", crate::domain::date::iso(on));
        let t = self.tenant;
        self.t
            .grades
            .uuid(t)
            .uuid(period)
            .uuid(subject)
            .uuid(pupil)
            .text(value)
            .opt_uuid(group)
            .uuid(by)
            .text(&at)
            .end();
        self.t.grade_history.uuid(t).uuid(period).uuid(subject).uuid(pupil).text(value).uuid(by).text(&at).end();
    }

    pub(super) fn assessment(&mut self) {
        let today = self.years.today;
        let (previous, current) = (self.years.previous.year, self.years.current.year);
        let (prev_year, year) = (self.previous_year, self.year);
        let graded = std::mem::take(&mut self.graded);
        for s in 0..self.schools.len() {
            if self.plan_of(s).last < 8 {
                continue;
            }
            let school = self.schools[s].id;
            let (ps, pe) = (previous.starts(), previous.ends());
            let prev_autumn = self.period(
                school,
                prev_year,
                "autumn",
                ps + Duration::days(105),
                ps + Duration::days(122),
                ps + Duration::days(124),
            );
            let prev_spring = self.period(
                school,
                prev_year,
                "spring",
                pe - Duration::days(40),
                pe - Duration::days(30),
                pe - Duration::days(28),
            );
            // Open around both the demo's day and its school day (in a holiday or the
            // summer the latest before it; in August before school, the first), which
            // the tests of a school day run as.
            let school_today = self.years.school_today();
            let opens = (today.min(school_today) - Duration::days(10)).max(current.starts());
            let closes = today.max(school_today) + Duration::days(10);
            let autumn = self.period(school, year, "autumn", opens, closes, closes + Duration::days(3));
            for g in graded.iter().filter(|g| g.school == s) {
                let (Some(by), Some(subject)) =
                    (g.teacher, self.subjects.iter().find(|(c, _)| *c == g.code).map(|x| x.1))
                else {
                    continue;
                };
                for &pupil in &g.pupils {
                    // This autumn: most grades entered by the demo's day, some still to come.
                    if self.assessment_rng.gen_ratio(9, 10) {
                        self.grade(autumn, subject, pupil, Some(g.group), by, opens);
                    }
                    // Last year (grade 8 or 9 then): both half-years.
                    if g.grade >= 9 {
                        self.grade(prev_autumn, subject, pupil, None, by, ps + Duration::days(110));
                        self.grade(prev_spring, subject, pupil, None, by, pe - Duration::days(35));
                    }
                    // Grade 10 is drawn for the written exam in mathematics (no
                    // numbers or results yet: those come from PAS).
                    if g.grade == 10 && g.code == "MAT" {
                        let t = self.tenant;
                        self.t
                            .exam_candidates
                            .uuid(t)
                            .uuid(year)
                            .uuid(subject)
                            .uuid(pupil)
                            .uuid(school)
                            .text(&g.name)
                            .end();
                    }
                }
            }
        }
        self.graded = graded;
    }
}
