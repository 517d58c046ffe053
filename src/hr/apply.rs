//! The writing half of an HR import: what the database already holds that the file
//! refers to ([`Known`]), the stored employments a file may match or end
//! ([`Employments`]), and [`Apply`], which writes line by line and counts.

use std::collections::{BTreeSet, HashMap};

use crate::db::Conn;
use time::Date;
use uuid::Uuid;

use super::fields::Percentage;
use super::file::{HrLine, LineError};
use super::report::ImportReport;
use crate::domain::national_id::NationalId;

/// A school or a municipal unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Workplace {
    School(Uuid),
    Unit(Uuid),
}

impl Workplace {
    fn ids(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            Workplace::School(id) => (Some(id), None),
            Workplace::Unit(id) => (None, Some(id)),
        }
    }
}

struct Person {
    id: Uuid,
    given_name: String,
    family_name: String,
}

/// What the database already holds that the file's lines refer to.
pub(super) struct Known {
    workplaces: HashMap<String, Workplace>,
    /// By national id (all digits).
    persons: HashMap<String, Person>,
    staff_by_resource: HashMap<String, Uuid>,
    staff_by_person: HashMap<Uuid, String>,
}

impl Known {
    ///
    /// Every query names the tenant although row-level security already binds the
    /// transaction to it: a superuser connection (the embedded cluster's owner) is not
    /// bound by it, and `--full` must never end another municipality's employments.
    pub(super) async fn load(mut conn: Conn<'_>, tenant: Uuid, lines: &[HrLine]) -> Result<Self, sqlx::Error> {
        let rows: Vec<(String, Uuid, bool)> = sqlx::query_as(
            "SELECT org_number::text, id, true FROM schools WHERE tenant_id = $1 \
             UNION ALL SELECT org_number::text, id, false FROM municipal_units WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_all(&mut *conn)
        .await?;
        let workplaces = rows
            .into_iter()
            .map(|(org, id, school)| (org, if school { Workplace::School(id) } else { Workplace::Unit(id) }))
            .collect();

        let national_ids: Vec<&str> = lines.iter().map(|l| l.national_id.as_str()).collect();
        let rows: Vec<(Uuid, String, String, String)> = sqlx::query_as(
            "SELECT id, national_id, given_name, family_name FROM persons \
             WHERE tenant_id = $1 AND national_id = ANY($2::text[])",
        )
        .bind(tenant)
        .bind(&national_ids)
        .fetch_all(&mut *conn)
        .await?;
        let persons: HashMap<String, Person> = rows
            .into_iter()
            .map(|(id, nid, given_name, family_name)| (nid, Person { id, given_name, family_name }))
            .collect();

        let resources: Vec<&str> = lines.iter().map(|l| l.resource_number.as_str()).collect();
        let person_ids: Vec<Uuid> = persons.values().map(|p| p.id).collect();
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT person_id, resource_number FROM staff \
             WHERE tenant_id = $1 AND (resource_number = ANY($2::text[]) OR person_id = ANY($3::uuid[]))",
        )
        .bind(tenant)
        .bind(&resources)
        .bind(&person_ids)
        .fetch_all(&mut *conn)
        .await?;
        let staff_by_resource = rows.iter().map(|(p, r)| (r.clone(), *p)).collect();
        let staff_by_person = rows.into_iter().collect();
        Ok(Self { workplaces, persons, staff_by_resource, staff_by_person })
    }

    /// The checks that need the database: the workplace exists in this municipality, and
    /// resource number and national id do not contradict the staff Tavle already has.
    pub(super) fn check(&self, lines: &[HrLine], tenant_slug: &str) -> Vec<LineError> {
        let mut errors = Vec::new();
        let mut error = |line: &HrLine, message: String| errors.push(LineError { line: line.line, message });
        for l in lines {
            if !self.workplaces.contains_key(&l.workplace) {
                error(
                    l,
                    format!(
                        "workplace: no school or municipal unit in {tenant_slug} has organisation number {}",
                        l.workplace
                    ),
                );
            }
            let person = self.persons.get(l.national_id.as_str()).map(|p| p.id);
            if let Some(holder) = self.staff_by_resource.get(&l.resource_number) {
                if person != Some(*holder) {
                    error(l, format!("resource number {}: belongs to another person in Tavle", l.resource_number));
                }
            }
            if let Some(resource) = person.and_then(|p| self.staff_by_person.get(&p)) {
                if *resource != l.resource_number {
                    error(
                        l,
                        format!(
                            "national id {}: has resource number {resource} in Tavle, not {}",
                            l.national_id.masked(),
                            l.resource_number
                        ),
                    );
                }
            }
        }
        errors
    }

    /// Staff already in Tavle that the file names.
    pub(super) fn staff_ids(&self) -> Vec<Uuid> {
        self.staff_by_resource.values().copied().collect()
    }
}

/// An employment as stored.
struct Employment {
    id: Uuid,
    staff: Uuid,
    from: Date,
    until: Option<Date>,
    percentage: Option<Percentage>,
    on_leave: bool,
    matched: bool,
}

type EmploymentKey = (Uuid, Workplace, String, Date);

/// The stored employments an import may match or end.
pub(super) struct Employments {
    rows: Vec<Employment>,
    by_key: HashMap<EmploymentKey, Vec<usize>>,
}

impl Employments {
    /// The employments of `staff`, or with `all` every employment of the municipality.
    pub(super) async fn load(mut conn: Conn<'_>, tenant: Uuid, staff: &[Uuid], all: bool) -> Result<Self, sqlx::Error> {
        #[expect(clippy::type_complexity, reason = "one row, decoded once")]
        let rows: Vec<(Uuid, Uuid, Option<Uuid>, Option<Uuid>, String, i32, Date, Option<Date>, bool)> =
            sqlx::query_as(
                "SELECT id, staff_id, school_id, unit_id, position_code, (position_percentage * 100)::int4, \
                        from_date, to_date, on_leave \
                 FROM employments WHERE tenant_id = $1 AND ($2 OR staff_id = ANY($3::uuid[])) \
                 ORDER BY from_date, id",
            )
            .bind(tenant)
            .bind(all)
            .bind(staff)
            .fetch_all(&mut *conn)
            .await?;
        let mut by_key: HashMap<EmploymentKey, Vec<usize>> = HashMap::new();
        let mut stored = Vec::with_capacity(rows.len());
        for (id, staff, school, unit, code, percentage, from, until, on_leave) in rows {
            let workplace = match (school, unit) {
                (Some(s), _) => Workplace::School(s),
                (None, Some(u)) => Workplace::Unit(u),
                // The schema forbids it; such a row could never match a line anyway.
                (None, None) => continue,
            };
            by_key.entry((staff, workplace, code, from)).or_default().push(stored.len());
            let percentage = u16::try_from(percentage).ok().and_then(Percentage::from_hundredths);
            stored.push(Employment { id, staff, from, until, percentage, on_leave, matched: false });
        }
        Ok(Self { rows: stored, by_key })
    }

    /// The first stored employment with this key that no line has matched yet.
    fn take(&mut self, key: &EmploymentKey) -> Option<&mut Employment> {
        let index = self.by_key.get(key)?.iter().copied().find(|&i| self.rows.get(i).is_some_and(|e| !e.matched))?;
        let row = self.rows.get_mut(index)?;
        row.matched = true;
        Some(row)
    }
}

/// The writing half of an import, counting as it goes.
pub(super) struct Apply {
    pub(super) tenant: Uuid,
    pub(super) today: Date,
    pub(super) known: Known,
    pub(super) report: ImportReport,
    /// Everyone whose data was written, for the audit event.
    pub(super) subjects: BTreeSet<Uuid>,
}

impl Apply {
    pub(super) async fn line(
        &mut self,
        mut conn: Conn<'_>,
        employments: &mut Employments,
        line: &HrLine,
    ) -> Result<(), sqlx::Error> {
        let person = self.person(conn.re(), line).await?;
        let staff = self.staff(conn.re(), person, &line.resource_number).await?;
        let Some(&workplace) = self.known.workplaces.get(&line.workplace) else {
            // Checked before anything was written; unreachable.
            return Ok(());
        };
        let percentage = i32::from(line.percentage.hundredths());
        match employments.take(&(staff, workplace, line.position_code.clone(), line.from)) {
            Some(stored) => {
                if stored.percentage == Some(line.percentage)
                    && stored.until == line.until
                    && stored.on_leave == line.on_leave
                {
                    self.report.employments_unchanged += 1;
                    return Ok(());
                }
                sqlx::query(
                    "UPDATE employments SET position_percentage = $3::int4::numeric / 100, to_date = $4, \
                            on_leave = $5 \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(self.tenant)
                .bind(stored.id)
                .bind(percentage)
                .bind(line.until)
                .bind(line.on_leave)
                .execute(&mut *conn)
                .await?;
                self.report.employments_updated += 1;
            }
            None => {
                let (school, unit) = workplace.ids();
                sqlx::query(
                    "INSERT INTO employments (tenant_id, staff_id, school_id, unit_id, position_code, \
                         position_percentage, from_date, to_date, on_leave) \
                     VALUES ($1, $2, $3, $4, $5, $6::int4::numeric / 100, $7, $8, $9)",
                )
                .bind(self.tenant)
                .bind(staff)
                .bind(school)
                .bind(unit)
                .bind(&line.position_code)
                .bind(percentage)
                .bind(line.from)
                .bind(line.until)
                .bind(line.on_leave)
                .execute(&mut *conn)
                .await?;
                self.report.employments_created += 1;
            }
        }
        self.subjects.insert(staff);
        Ok(())
    }

    /// The person with the line's national id: created, or their names brought up to date.
    async fn person(&mut self, mut conn: Conn<'_>, line: &HrLine) -> Result<Uuid, sqlx::Error> {
        let nid: &NationalId = &line.national_id;
        if let Some(p) = self.known.persons.get_mut(nid.as_str()) {
            if p.given_name != line.given_name || p.family_name != line.family_name {
                sqlx::query(
                    "UPDATE persons SET given_name = $3, family_name = $4, updated_at = now() \
                     WHERE tenant_id = $1 AND id = $2",
                )
                .bind(self.tenant)
                .bind(p.id)
                .bind(&line.given_name)
                .bind(&line.family_name)
                .execute(&mut *conn)
                .await?;
                p.given_name.clone_from(&line.given_name);
                p.family_name.clone_from(&line.family_name);
                self.report.persons_updated += 1;
                self.subjects.insert(p.id);
            }
            return Ok(p.id);
        }
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(self.tenant)
        .bind(nid.as_str())
        .bind(&line.given_name)
        .bind(&line.family_name)
        .bind(nid.birth_date())
        .fetch_one(&mut *conn)
        .await?;
        self.known.persons.insert(
            nid.as_str().to_owned(),
            Person { id, given_name: line.given_name.clone(), family_name: line.family_name.clone() },
        );
        self.report.persons_created += 1;
        self.subjects.insert(id);
        Ok(id)
    }

    /// The person's staff row (created when new). The checks made sure that an existing
    /// resource number belongs to this person.
    async fn staff(&mut self, mut conn: Conn<'_>, person: Uuid, resource: &str) -> Result<Uuid, sqlx::Error> {
        if self.known.staff_by_person.contains_key(&person) {
            return Ok(person);
        }
        sqlx::query("INSERT INTO staff (tenant_id, person_id, resource_number) VALUES ($1, $2, $3)")
            .bind(self.tenant)
            .bind(person)
            .bind(resource)
            .execute(&mut *conn)
            .await?;
        self.known.staff_by_person.insert(person, resource.to_owned());
        self.known.staff_by_resource.insert(resource.to_owned(), person);
        self.report.staff_created += 1;
        self.subjects.insert(person);
        Ok(person)
    }

    /// Current employments no line matched: ended (or, not yet begun, removed) with
    /// `full`; otherwise only counted.
    pub(super) async fn unmatched(
        &mut self,
        mut conn: Conn<'_>,
        employments: &Employments,
        full: bool,
    ) -> Result<(), sqlx::Error> {
        let today = self.today;
        let current = employments.rows.iter().filter(|e| !e.matched && e.until.is_none_or(|u| u > today));
        if !full {
            self.report.employments_not_in_file = current.count();
            return Ok(());
        }
        for e in current {
            if e.from < today {
                // Ends are exclusive: the last day was yesterday, access ends today.
                sqlx::query("UPDATE employments SET to_date = $3 WHERE tenant_id = $1 AND id = $2")
                    .bind(self.tenant)
                    .bind(e.id)
                    .bind(today)
                    .execute(&mut *conn)
                    .await?;
                self.report.employments_ended += 1;
            } else {
                // Not begun: it never took effect, so there is no history to keep (and an
                // end on or before its start would not be an employment).
                sqlx::query("DELETE FROM employments WHERE tenant_id = $1 AND id = $2")
                    .bind(self.tenant)
                    .bind(e.id)
                    .execute(&mut *conn)
                    .await?;
                self.report.employments_removed += 1;
            }
            self.subjects.insert(e.staff);
        }
        Ok(())
    }
}
