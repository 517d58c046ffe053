//! The audit log: every read of a person's data and every write, with who, what, when,
//! why and from where, written in the same transaction as the work it records.
//!
//! The table is append-only for the application (INSERT and SELECT only) and each
//! tenant's events are chained with SHA-256 by a trigger (see the identity migration),
//! so that `tavle audit verify` can find a changed or deleted row. Events are written
//! to `audit_pending`, committed with the work, and chained into `audit_events` by the
//! commit when the tenant's chain is free; otherwise by the next commit that finds it
//! free, or within a second by the sweep (migrations 000011 and 000012). Reading the
//! log first chains what is pending ([`chain_pending`]), so it is never behind.
//!
//! `verify` is that check. The data protection officer's view of the log is a feature
//! of its own, `audit_log`.

pub mod verify;

use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::coded::coded_enum;
use crate::error::Result;
use crate::policy::Purpose;

coded_enum! {
    /// What was done. The codes are stored; never rename one.
    pub enum Action {
        Read = "read",
        Create = "create",
        Update = "update",
        Delete = "delete",
        Export = "export",
        RevealNationalId = "reveal_national_id",
        SignIn = "sign_in",
        SignOut = "sign_out",
        /// A batch from another system (e.g. the HR import) written by Tavle itself.
        Import = "import",
    }
}

impl Action {
    /// Translation key of the action's name (audit log page).
    pub fn label_key(self) -> &'static str {
        match self {
            Action::Read => "audit.action.read",
            Action::Create => "audit.action.create",
            Action::Update => "audit.action.update",
            Action::Delete => "audit.action.delete",
            Action::Export => "audit.action.export",
            Action::RevealNationalId => "audit.action.reveal_national_id",
            Action::SignIn => "audit.action.sign_in",
            Action::SignOut => "audit.action.sign_out",
            Action::Import => "audit.action.import",
        }
    }
}

coded_enum! {
    /// What kind of thing an event is about. The codes are stored; never rename one. Each
    /// has a name in the translation catalogue (a test checks it), which the audit log
    /// page shows.
    pub enum Resource {
        Session = "session",
        PupilList = "pupil_list",
        PupilCard = "pupil_card",
        PupilTimetable = "pupil_timetable",
        AuditLog = "audit_log",
        RoleMapping = "role_mapping",
        HrImport = "hr_import",
        Lesson = "lesson",
        TimetableImport = "timetable_import",
        AbsenceRegister = "absence_register",
        AbsenceDayRegister = "absence_day_register",
        AbsenceReport = "absence_report",
        AbsenceReports = "absence_reports",
        AbsenceReview = "absence_review",
        AbsenceTotals = "absence_totals",
        AbsenceClassOverview = "absence_class_overview",
        AbsenceStatistics = "absence_statistics",
        AbsenceSettings = "absence_settings",
        LeaveApplication = "leave_application",
        LeaveApplications = "leave_applications",
        LeaveQueue = "leave_queue",
        LeaveSettings = "leave_settings",
        SfoAttendance = "sfo_attendance",
        MailOutbox = "mail_outbox",
        MailMessage = "mail_message",
        MailWeeklySummary = "mail_weekly_summary",
        Grades = "grades",
        AssessmentPeriods = "assessment_periods",
        Conduct = "conduct",
        Remarks = "remarks",
        AssessmentWarnings = "assessment_warnings",
        GradeStatistics = "grade_statistics",
        Exemptions = "exemptions",
        Diploma = "diploma",
        ExamCandidates = "exam_candidates",
        PickupPermissions = "pickup_permissions",
        ContactPersons = "contact_persons",
        GuardianRestrictions = "guardian_restrictions",
        FolkeregisterImport = "folkeregister_import",
        RegisterQueue = "register_queue",
        KrrImport = "krr_import",
        PaperRecipients = "paper_recipients",
        GuardianContact = "guardian_contact",
        InformationRequests = "information_requests",
        Groups = "groups",
        GroupMembers = "group_members",
        GroupStaff = "group_staff",
        Enrolment = "enrolment",
        Rollover = "rollover",
        PupilDetails = "pupil_details",
        GuardianLinks = "guardian_links",
        SpecialArrangements = "special_arrangements",
        LetterAddresses = "letter_addresses",
        Roster = "roster",
        Intake = "intake",
        SchoolDistricts = "school_districts",
        MessageThreads = "message_threads",
        MessageThread = "message_thread",
        MessageRecipients = "message_recipients",
        Broadcast = "broadcast",
        EmergencyNotice = "emergency_notice",
        EmergencyRecipients = "emergency_recipients",
        TenantFeatures = "tenant_features",
    }
}

impl Resource {
    /// Translation key of the resource's name (audit log page).
    pub fn label_key(self) -> String {
        format!("audit.resource.{}", self.code())
    }
}

/// One event: what was done to what kind of thing, the persons whose data it concerns,
/// and why.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: Action,
    pub resource: Resource,
    pub resource_id: Option<Uuid>,
    pub subjects: &'a [Uuid],
    pub purpose: Purpose,
}

/// Record work done by Tavle itself on a municipality's data, not by a signed-in person
/// (an import run from the command line, the mail worker): no actor, role, session or
/// address; `purpose` says why.
pub async fn record_by_system(
    conn: &mut PgConnection,
    tenant: Uuid,
    action: Action,
    resource: Resource,
    resource_id: Option<Uuid>,
    subjects: &[Uuid],
    purpose: Purpose,
) -> Result<()> {
    insert(conn, tenant, None, None, None, None, Event { action, resource, resource_id, subjects, purpose }).await
}

/// What an import changed, for its audit row.
pub struct Imported<'a> {
    pub resource: Resource,
    pub resource_id: Option<Uuid>,
    pub subjects: &'a [Uuid],
    pub purpose: Purpose,
    /// Whether it changed anything: no row for a run that changed nothing.
    pub changed: bool,
}

/// How every import ends: the audit row of what it changed, as the system's (none when
/// it changed nothing), then commit; a dry run rolls everything back instead.
pub async fn end_import(mut tx: crate::db::Tx, tenant: Uuid, dry_run: bool, what: Imported<'_>) -> Result<()> {
    if dry_run {
        tx.rollback().await?;
        return Ok(());
    }
    if what.changed {
        let Imported { resource, resource_id, subjects, purpose, .. } = what;
        record_by_system(&mut tx, tenant, Action::Import, resource, resource_id, subjects, purpose).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Record a sign-in or sign-out (`action`) of `person`'s session, as its `audience`
/// (`auth::session`: before a `Work` exists, and after it has ended).
pub async fn record_session(
    conn: &mut PgConnection,
    tenant: Uuid,
    person: Uuid,
    audience: &str,
    session: Uuid,
    ip: Option<&str>,
    action: Action,
) -> Result<()> {
    let event = Event {
        action,
        resource: Resource::Session,
        resource_id: Some(session),
        subjects: &[],
        purpose: Purpose::SignIn,
    };
    insert(conn, tenant, Some(person), Some(audience), Some(session), ip, event).await
}

/// The raw insert: `Work::audit` for a signed-in request, the sign-in and sign-out
/// (`auth::session`, before and after a `Work` exists), `record_by_system`.
pub async fn insert(
    conn: &mut PgConnection,
    tenant: Uuid,
    actor: Option<Uuid>,
    role: Option<&str>,
    session: Option<Uuid>,
    ip: Option<&str>,
    event: Event<'_>,
) -> Result<()> {
    // Into the pending table: a deferred trigger chains it into audit_events as the
    // transaction commits if the tenant's chain is free (migrations 000011, 000012).
    sqlx::query(
        "INSERT INTO audit_pending (tenant_id, actor_person_id, actor_role, session_id, action, \
             resource, resource_id, subject_ids, purpose, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(actor)
    .bind(role)
    .bind(session)
    .bind(event.action.code())
    .bind(event.resource.code())
    .bind(event.resource_id)
    .bind(event.subjects)
    .bind(event.purpose.code())
    .bind(ip)
    .execute(conn)
    .await?;
    Ok(())
}

/// Chain every event of `tenant` still pending, waiting for the tenant's chain if a
/// commit holds it. Called before the log is read, inside the reading transaction
/// (which must be bound to `tenant`), so that what is shown is complete.
pub async fn chain_pending(conn: &mut PgConnection, tenant: Uuid) -> Result<()> {
    sqlx::query("SELECT tavle_audit_chain_pending($1, true)").bind(tenant).execute(conn).await?;
    Ok(())
}

/// Chain what is pending in every municipality whose chain is free, in a transaction
/// of each municipality's own (distributed by municipality, each is one shard's work,
/// and the municipality reaches it by `SET LOCAL`; the SQL function
/// `tavle_audit_sweep()` loops in one transaction with `set_config`, which Citus does
/// not pass on). Returns how many events were chained.
pub async fn sweep(pool: &PgPool) -> Result<i32> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants ORDER BY id").fetch_all(pool).await?;
    let mut chained = 0;
    for tenant in tenants {
        let mut tx = crate::db::begin(pool, tenant).await?;
        let n: i32 =
            sqlx::query_scalar("SELECT tavle_audit_chain_pending($1, false)").bind(tenant).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        chained += n;
    }
    Ok(chained)
}

/// How often the sweep runs: the longest an event waits for its place in the chain
/// when no other commit of its municipality comes along.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The sweep as a task of `tavle serve`.
pub fn spawn_sweeper(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&pool).await {
                tracing::error!(error = %e, "audit sweep failed");
            }
            tokio::time::sleep(SWEEP_EVERY).await;
        }
    })
}
