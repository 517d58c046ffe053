//! Pupil lists and the pupil card: who sees which pupils of a school, and which parts of
//! a pupil's record.

use crate::db::Conn;
use uuid::Uuid;

use super::actor::*;
use crate::domain::role::Role;
use crate::error::{AppError, Result};

// ---------------------------------------------------------------------------------
// Pupil lists
// ---------------------------------------------------------------------------------

/// Which pupils of a school a list may contain, and why the actor looks.
#[derive(Debug, Clone, Copy)]
pub struct PupilListScope {
    pub school_id: Uuid,
    /// SFO staff see only pupils enrolled in an SFO group of the school.
    pub sfo_only: bool,
    /// The school office and the municipality's readers keep the register: they are
    /// told which pupils lack what the register must have (a birth date).
    pub keeps_register: bool,
    pub role: Role,
    pub purpose: Purpose,
}

/// The schools whose pupil list the actor may open, in no particular order.
pub async fn pupil_list_schools(mut conn: Conn<'_>, actor: &Actor) -> Result<Vec<Uuid>> {
    if actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS).is_some() {
        return Ok(sqlx::query_scalar("SELECT id FROM schools WHERE tenant_id = $1 ORDER BY name")
            .bind(conn.tenant)
            .fetch_all(&mut *conn)
            .await?);
    }
    let mut schools: Vec<Uuid> = actor
        .grants
        .iter()
        .filter(|g| actor.is_staff() && g.role.is_school_scoped())
        .filter_map(|g| g.school_id)
        .collect();
    schools.sort();
    schools.dedup();
    Ok(schools)
}

/// May the actor list the pupils of `school`? Not found otherwise.
pub fn pupil_list_scope(actor: &Actor, school: Uuid) -> Result<PupilListScope> {
    const ORDER: [Role; 5] = [Role::Principal, Role::OfficeClerk, Role::DepartmentHead, Role::Teacher, Role::SfoStaff];
    let role = actor
        .at_school(school, &ORDER)
        .or_else(|| actor.tenant_wide(&TENANT_WIDE_PUPIL_READERS))
        .ok_or(AppError::NotFound)?;
    Ok(PupilListScope {
        school_id: school,
        sfo_only: role == Role::SfoStaff,
        keeps_register: SCHOOL_ADMINISTRATORS.contains(&role) || TENANT_WIDE_PUPIL_READERS.contains(&role),
        role,
        purpose: Purpose::for_role(role),
    })
}

// ---------------------------------------------------------------------------------
// The pupil card
// ---------------------------------------------------------------------------------

/// How much of a guardian the viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GuardianDetail {
    None,
    Names,
    /// Names, phone and e-mail (and parental responsibility, lives with, invoice).
    Contact,
}

/// What parts of a pupil's record the actor may see. Fields not granted are not
/// fetched at all.
#[derive(Debug, Clone, Copy)]
pub struct PupilCardAccess {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
    pub national_id: bool,
    pub reveal_national_id: bool,
    pub address: bool,
    pub guardians: GuardianDetail,
    pub contact_persons: bool,
    pub enrolments: bool,
    pub groups: bool,
    /// The pupil's special arrangements (school transport, special education…): the
    /// office, the pupil's teachers and the guardians.
    pub arrangements: bool,
    /// The viewer is a guardian from whom the child's whereabouts are protected: the
    /// card says so and shows nothing that places the child.
    pub whereabouts_protected: bool,
}

impl PupilCardAccess {
    fn full(pupil_id: Uuid, role: Role, reveal: bool) -> Self {
        Self {
            pupil_id,
            acting_as: Some(role),
            purpose: Purpose::for_role(role),
            national_id: true,
            reveal_national_id: reveal,
            address: true,
            guardians: GuardianDetail::Contact,
            contact_persons: true,
            enrolments: true,
            groups: true,
            arrangements: true,
            whereabouts_protected: false,
        }
    }

    fn limited(pupil_id: Uuid, role: Option<Role>, purpose: Purpose) -> Self {
        Self {
            pupil_id,
            acting_as: role,
            purpose,
            national_id: false,
            reveal_national_id: false,
            address: false,
            guardians: GuardianDetail::None,
            contact_persons: false,
            enrolments: false,
            groups: true,
            arrangements: false,
            whereabouts_protected: false,
        }
    }

    /// The child's name and that its details are protected; nothing else is fetched.
    fn protected_whereabouts(pupil_id: Uuid) -> Self {
        let mut a = Self::limited(pupil_id, None, Purpose::GuardianAccess);
        a.groups = false;
        a.whereabouts_protected = true;
        a
    }
}

/// Facts about a pupil relative to the actor, fetched in one query.
#[derive(sqlx::FromRow)]
struct PupilFacts {
    schools: Vec<Uuid>,
    sfo_schools: Vec<Uuid>,
    contact_teacher: bool,
    /// The actor teaches a group the pupil is in now.
    teaches: bool,
}

static CARD_FACTS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT \
           coalesce(array_agg(DISTINCT e.school_id) FILTER (WHERE e.school_id IS NOT NULL), '{{}}') AS schools, \
           coalesce((SELECT array_agg(DISTINCT g.school_id) FROM group_memberships m \
                     JOIN groups g ON g.tenant_id = m.tenant_id AND g.id = m.group_id \
                     WHERE m.tenant_id = $1 AND m.pupil_id = p.person_id AND g.kind = 'sfo' \
                       AND m.from_date <= tavle_today() \
                       AND (m.to_date IS NULL OR m.to_date > tavle_today())), '{{}}') AS sfo_schools, \
           {contact} AS contact_teacher, {teaches} AS teaches \
         FROM pupils p \
         LEFT JOIN enrolments e ON e.tenant_id = p.tenant_id AND e.pupil_id = p.person_id \
              AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today()) \
         WHERE p.tenant_id = $1 AND p.person_id = $2 \
         GROUP BY p.person_id",
        contact = super::staffing::is_contact_teacher("p.person_id", "$3", None),
        teaches = super::staffing::teaches("p.person_id", "$3"),
    )
});

/// May the actor open `pupil`'s card, and which parts? Not found otherwise.
pub async fn pupil_card_access(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<PupilCardAccess> {
    match actor.audience {
        Audience::Guardian => {
            if actor.whereabouts_protected(pupil) {
                return Ok(PupilCardAccess::protected_whereabouts(pupil));
            }
            return if actor.children.contains(&pupil) {
                let mut a = PupilCardAccess::limited(pupil, None, Purpose::GuardianAccess);
                a.national_id = true;
                a.address = true;
                a.guardians = GuardianDetail::Names;
                a.contact_persons = true;
                a.enrolments = true;
                a.arrangements = true;
                Ok(a)
            } else {
                Err(AppError::NotFound)
            };
        }
        Audience::Pupil => {
            return if actor.person_id == pupil {
                let mut a = PupilCardAccess::limited(pupil, None, Purpose::OwnData);
                a.guardians = GuardianDetail::Names;
                a.enrolments = true;
                Ok(a)
            } else {
                Err(AppError::NotFound)
            };
        }
        Audience::Staff => {}
    }
    // Current enrolments, SFO memberships and whether the actor is a contact teacher
    // of a base group the pupil belongs to now.
    let facts: Option<PupilFacts> = sqlx::query_as(&CARD_FACTS_SQL)
        .bind(conn.tenant)
        .bind(pupil)
        .bind(actor.person_id)
        .fetch_optional(&mut *conn)
        .await?;
    let facts = facts.ok_or(AppError::NotFound)?;

    if let Some(role) = actor.tenant_wide(&[Role::SystemAdmin, Role::ItSupport, Role::MunicipalDirector]) {
        let reveal = role == Role::SystemAdmin;
        return Ok(PupilCardAccess::full(pupil, role, reveal));
    }
    for &school in &facts.schools {
        if let Some(role) = actor.at_school(school, &SCHOOL_ADMINISTRATORS) {
            let reveal = matches!(role, Role::OfficeClerk | Role::Principal);
            return Ok(PupilCardAccess::full(pupil, role, reveal));
        }
    }
    let teacher_here = facts.schools.iter().any(|&s| actor.at_school(s, &[Role::Teacher]).is_some());
    if teacher_here && facts.contact_teacher {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::Teacher), Purpose::Teaching);
        a.guardians = GuardianDetail::Contact;
        a.contact_persons = true;
        a.enrolments = true;
        a.arrangements = true;
        return Ok(a);
    }
    if teacher_here {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::Teacher), Purpose::Teaching);
        // Those who teach the pupil need the arrangements to teach; the school's other
        // teachers do not.
        a.arrangements = facts.teaches;
        return Ok(a);
    }
    if facts.sfo_schools.iter().any(|&s| actor.at_school(s, &[Role::SfoStaff]).is_some()) {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::SfoStaff), Purpose::SfoCare);
        // Staff at SFO call guardians and contact persons about pick-up.
        a.guardians = GuardianDetail::Contact;
        a.contact_persons = true;
        return Ok(a);
    }
    if actor.tenant_wide(&[Role::BillingOfficer]).is_some() && !facts.sfo_schools.is_empty() {
        let mut a = PupilCardAccess::limited(pupil, Some(Role::BillingOfficer), Purpose::Billing);
        a.guardians = GuardianDetail::Contact;
        return Ok(a);
    }
    Err(AppError::NotFound)
}

/// The schools `pupil` attends today (enrolled now).
pub(crate) async fn current_schools(mut conn: Conn<'_>, pupil: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT e.school_id FROM enrolments e WHERE e.tenant_id = $1 AND e.pupil_id = $2 \
           AND e.from_date <= tavle_today() AND (e.to_date IS NULL OR e.to_date > tavle_today())",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_all(&mut *conn)
    .await?)
}

/// The roles that keep a pupil's register data at their school.
pub(crate) const OFFICE: [Role; 3] = [Role::OfficeClerk, Role::Principal, Role::DepartmentHead];

/// The school and role in which the actor keeps `pupil`'s register data: the school
/// office, the principal or a department head of a school the pupil attends today. Not
/// found otherwise.
pub(crate) async fn office_for_pupil(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<(Uuid, Role)> {
    if actor.audience != Audience::Staff {
        return Err(AppError::NotFound);
    }
    let schools = current_schools(conn, pupil).await?;
    schools.into_iter().find_map(|s| actor.at_school(s, &OFFICE).map(|r| (s, r))).ok_or(AppError::NotFound)
}

/// The actor keeps `pupil`'s contact persons, acting as `role`.
#[derive(Debug, Clone, Copy)]
pub struct ContactPersonsAccess {
    pub pupil_id: Uuid,
    pub role: Role,
    pub purpose: Purpose,
}

/// Who adds, corrects and removes a pupil's contact persons? The office and leaders of
/// a school the pupil attends today. Not found otherwise.
pub async fn contact_persons_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    let (_, role) = office_for_pupil(conn, actor, pupil).await?;
    Ok(ContactPersonsAccess { pupil_id: pupil, role, purpose: Purpose::for_role(role) })
}

/// Who records and ends restrictions on a pupil's guardians? The office and leaders
/// of a school the pupil attends today (as for contact persons). Not found otherwise.
pub async fn guardian_restrictions_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    contact_persons_access(conn, actor, pupil).await
}

access_in_role!(ContactPersonsAccess);

/// Who corrects a pupil's details the office keeps (other mother tongue; names and birth
/// date of a pupil the population register does not have)? The office and leaders of a
/// school the pupil attends today (as for contact persons). Not found otherwise.
pub async fn pupil_details_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    contact_persons_access(conn, actor, pupil).await
}

/// Who links a guardian the population register does not give (a manual link, with a
/// reason code) and ends such a link? The principal of a school the pupil attends
/// today. The school's office and department heads see the pupil but may not (403);
/// everyone else: not found.
pub async fn manual_guardian_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    if actor.audience != Audience::Staff {
        return Err(AppError::NotFound);
    }
    let schools = current_schools(conn, pupil).await?;
    if schools.iter().any(|&s| actor.at_school(s, &[Role::Principal]).is_some()) {
        let role = Role::Principal;
        return Ok(ContactPersonsAccess { pupil_id: pupil, role, purpose: Purpose::for_role(role) });
    }
    if schools.iter().any(|&s| actor.at_school(s, &OFFICE).is_some()) {
        return Err(AppError::Forbidden);
    }
    Err(AppError::NotFound)
}

/// Who corrects whether a guardian lives with the pupil? For a child whose address is
/// strictly confidential it decides whether the guardian learns where the child is
/// (`guardianship::writes_to`, the session's protected children): there, as for a
/// manual link, the principal of a school the pupil attends today (the office 403);
/// for any other child, the office and leaders (as for contact persons). Not found
/// otherwise.
pub async fn lives_with_access(mut conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    if actor.audience != Audience::Staff {
        return Err(AppError::NotFound);
    }
    let strict: Option<bool> = sqlx::query_scalar(
        "SELECT p.address_protection = 'strictly_confidential' FROM persons p WHERE p.tenant_id = $1 AND p.id = $2",
    )
    .bind(conn.tenant)
    .bind(pupil)
    .fetch_optional(&mut *conn)
    .await?;
    if strict.unwrap_or(false) {
        manual_guardian_access(conn, actor, pupil).await
    } else {
        contact_persons_access(conn, actor, pupil).await
    }
}

/// Who records a pupil's special arrangements? The office and leaders of a school the
/// pupil attends today (as for contact persons). Not found otherwise.
pub async fn special_arrangements_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    contact_persons_access(conn, actor, pupil).await
}

/// Who records the requests for information of a parent without parental
/// responsibility (barnelova § 47)? The office and leaders of a school the pupil
/// attends today (as for contact persons). Not found otherwise.
pub async fn information_requests_access(conn: Conn<'_>, actor: &Actor, pupil: Uuid) -> Result<ContactPersonsAccess> {
    contact_persons_access(conn, actor, pupil).await
}

/// The population register queue the actor works: the schools whose items they see,
/// or every item (the system administrator, who also gets those no school's office
/// can take: a person who is neither a pupil nor a pupil's guardian).
#[derive(Debug, Clone)]
pub struct RegisterQueueAccess {
    /// None: every item of the municipality.
    pub schools: Option<Vec<Uuid>>,
    pub role: Role,
    pub purpose: Purpose,
}

impl RegisterQueueAccess {
    /// Whether an item for `school` (None: for no school) is the actor's.
    pub fn sees(&self, school: Option<Uuid>) -> bool {
        match (&self.schools, school) {
            (None, _) => true,
            (Some(schools), Some(s)) => schools.contains(&s),
            (Some(_), None) => false,
        }
    }
}

/// Who works the register queue? The office and leaders of a school, for the items of
/// their schools; the system administrator, for all. Not found otherwise.
pub fn register_queue_access(actor: &Actor) -> Result<RegisterQueueAccess> {
    if let Some(role) = actor.tenant_wide(&[Role::SystemAdmin]) {
        return Ok(RegisterQueueAccess { schools: None, role, purpose: Purpose::for_role(role) });
    }
    if !actor.is_staff() {
        return Err(AppError::NotFound);
    }
    let role = OFFICE.into_iter().find(|r| actor.grants.iter().any(|g| g.role == *r && g.school_id.is_some()));
    let Some(role) = role else { return Err(AppError::NotFound) };
    let mut schools: Vec<Uuid> =
        actor.grants.iter().filter(|g| OFFICE.contains(&g.role)).filter_map(|g| g.school_id).collect();
    schools.sort_unstable();
    schools.dedup();
    Ok(RegisterQueueAccess { schools: Some(schools), role, purpose: Purpose::for_role(role) })
}

/// Who sees which guardians need letters on paper (reserved against digital
/// communication in KRR, or without an e-mail address)? Those who work the register
/// queue, for the same schools.
pub fn paper_letters_access(actor: &Actor) -> Result<RegisterQueueAccess> {
    register_queue_access(actor)
}

impl Actor {
    /// Whether the pupils page links to the register queue.
    pub fn may_open_register_queue(&self) -> bool {
        register_queue_access(self).is_ok()
    }
}

access_in_role!(RegisterQueueAccess);

/// Why a person with the right asks to see a full national id number: the reason is
/// the audit event's purpose.
pub const REVEAL_REASONS: [Purpose; 4] =
    [Purpose::IdentityCheck, Purpose::ExternalRegistration, Purpose::AuthorityReport, Purpose::RegisterCorrection];

/// Showing a pupil's full national id number, for a reason.
#[derive(Debug, Clone, Copy)]
pub struct NationalIdReveal {
    pub pupil_id: Uuid,
    pub acting_as: Option<Role>,
    pub purpose: Purpose,
}

/// May the card's viewer see the full number, for `reason` (one of [`REVEAL_REASONS`])?
/// Only those whose card access allows it (403 otherwise: they see the card).
pub fn national_id_reveal(access: &PupilCardAccess, reason: Purpose) -> Result<NationalIdReveal> {
    if !access.reveal_national_id || !REVEAL_REASONS.contains(&reason) {
        return Err(AppError::Forbidden);
    }
    Ok(NationalIdReveal { pupil_id: access.pupil_id, acting_as: access.acting_as, purpose: reason })
}

access_in_role!(PupilListScope);
access_acting_as!(PupilCardAccess, NationalIdReveal);
