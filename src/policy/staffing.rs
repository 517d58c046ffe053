//! Which staff a pupil has now, as SQL: the one definition of "the pupil's contact
//! teacher" (a contact teacher of a class, a base group, the pupil is in today) and of
//! "teaches the pupil" (assigned to any group the pupil is in today), for every rule
//! that asks (the card, leave, absence review, assessment, messages).
//!
//! `p` and `s` are SQL expressions of the pupil's and the staff member's person ids;
//! `$1` is the municipality, as everywhere. The subqueries use their own aliases (`cm`,
//! `cg`, `cs`), so they fit in any query.

/// `m` (a row of `group_memberships`) holds today.
fn member_today(m: &str) -> String {
    format!("{m}.from_date <= tavle_today() AND ({m}.to_date IS NULL OR {m}.to_date > tavle_today())")
}

/// The pupil's classes today and their contact teachers (`cg` the class, `cs` the
/// assignment), as the FROM and WHERE of a subquery.
fn contact_teaching(p: &str) -> String {
    format!(
        "FROM group_memberships cm \
         JOIN groups cg ON cg.tenant_id = cm.tenant_id AND cg.id = cm.group_id AND cg.kind = 'base' \
         JOIN group_staff cs ON cs.tenant_id = cg.tenant_id AND cs.group_id = cg.id AND cs.assignment = 'contact_teacher' \
         WHERE cm.tenant_id = $1 AND cm.pupil_id = {p} AND {today}",
        today = member_today("cm")
    )
}

/// The schools at which `s` is the pupil's contact teacher today (a `uuid[]`).
pub fn contact_teacher_schools(p: &str, s: &str) -> String {
    format!("coalesce((SELECT array_agg(DISTINCT cg.school_id) {} AND cs.staff_id = {s}), '{{}}')", contact_teaching(p))
}

/// `s` is the pupil's contact teacher today; at the school `school` if given.
pub fn is_contact_teacher(p: &str, s: &str, school: Option<&str>) -> String {
    let at = school.map(|school| format!(" AND cg.school_id = {school}")).unwrap_or_default();
    format!("EXISTS (SELECT 1 {} AND cs.staff_id = {s}{at})", contact_teaching(p))
}

/// The pupil's contact teachers today (a `uuid[]`, ordered).
pub fn contact_teachers(p: &str) -> String {
    format!("coalesce((SELECT array_agg(DISTINCT cs.staff_id ORDER BY cs.staff_id) {}), '{{}}')", contact_teaching(p))
}

/// `s` teaches the pupil: assigned (as teacher or contact teacher) to a group the pupil
/// is in today.
pub fn teaches(p: &str, s: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM group_memberships cm \
                 JOIN group_staff cs ON cs.tenant_id = cm.tenant_id AND cs.group_id = cm.group_id \
                 WHERE cm.tenant_id = $1 AND cm.pupil_id = {p} AND cs.staff_id = {s} AND {today})",
        today = member_today("cm")
    )
}
