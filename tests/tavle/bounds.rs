//! Every enrolment, group membership, employment and guardianship the policy reads is
//! bounded by its dates at both ends: one that begins later, or has ended, gives no
//! access and puts no one on a list (issue 14, finding 8: a future SFO place opened
//! the pupil card, with the guardians' phone numbers, to SFO staff and billing).

use axum::http::StatusCode;
use time::Duration;
use uuid::Uuid;

use crate::helpers::{spawn_app, Browser, TestApp};

async fn id(app: &TestApp, sql: &str) -> Uuid {
    sqlx::query_scalar(sql).fetch_one(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn exec(app: &TestApp, sql: &str, binds: &[Uuid]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(&app.owner).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Frida, a pupil whose every tie to a school begins in three months or ended
/// yesterday: an enrolment at Solbakken from then (and one at Nordlys that ended), a
/// place in 4A, 4A NOR and Oskar's SFO group from then, Kari Nordmann as guardian with
/// parental responsibility from then, and Hilde Berg as one whose guardianship ended.
async fn pupil_of_the_future(app: &TestApp) -> (Uuid, Uuid, Uuid, Uuid) {
    let later = app.today + Duration::days(90);
    let ended = app.today;
    let tenant = app.tenant_id("fjordvik").await;
    let frida = id(
        app,
        &format!(
            "INSERT INTO persons (tenant_id, national_id, given_name, family_name, birth_date) \
             VALUES ('{tenant}', '01521750011', 'Frida', 'Framtid', '2017-12-01') RETURNING id"
        ),
    )
    .await;
    exec(app, "INSERT INTO pupils (tenant_id, person_id) VALUES ($1, $2)", &[tenant, frida]).await;
    let school = |name: &str| format!("(SELECT id FROM schools WHERE name = '{name}')");
    let group = |name: &str| {
        format!("(SELECT g.id FROM groups g WHERE g.school_id = {} AND g.name = '{name}')", school("Solbakken skole"))
    };
    let sfo = "(SELECT g.id FROM groups g JOIN group_memberships m ON m.group_id = g.id \
               JOIN persons p ON p.id = m.pupil_id WHERE g.kind = 'sfo' AND p.given_name = 'Oskar' \
               AND p.family_name = 'Nordmann' AND p.birth_date > '2005-01-01')";
    let sql = |s: String| s.replace("$later", &format!("'{later}'")).replace("$ended", &format!("'{ended}'"));
    exec(
        app,
        &sql(format!(
            "INSERT INTO enrolments (tenant_id, pupil_id, school_id, grade_level, from_date, to_date) VALUES \
             ($1, $2, {}, 4, $later, NULL), ($1, $2, {}, 3, $ended::date - 300, $ended)",
            school("Solbakken skole"),
            school("Nordlys oppvekstsenter")
        )),
        &[tenant, frida],
    )
    .await;
    for g in [group("4A"), group("4A NOR"), sfo.to_owned()] {
        exec(
            app,
            &sql(format!(
                "INSERT INTO group_memberships (tenant_id, group_id, pupil_id, from_date) VALUES ($1, {g}, $2, $later)"
            )),
            &[tenant, frida],
        )
        .await;
    }
    let kari = id(app, "SELECT id FROM persons WHERE given_name = 'Kari' AND family_name = 'Nordmann'").await;
    let hilde = id(app, "SELECT id FROM persons WHERE given_name = 'Hilde' AND family_name = 'Berg'").await;
    exec(
        app,
        &sql("INSERT INTO guardianships (tenant_id, pupil_id, guardian_id, parental_responsibility, lives_with, \
                  from_date, to_date) VALUES ($1, $2, $3, true, true, $later, NULL), \
                 ($1, $2, $4, true, true, $ended::date - 300, $ended)"
            .to_owned()),
        &[tenant, frida, kari, hilde],
    )
    .await;
    let solbakken = id(app, "SELECT id FROM schools WHERE name = 'Solbakken skole'").await;
    let class = id(app, &format!("SELECT {}", group("4A"))).await;
    let sfo_group = id(app, &format!("SELECT {sfo}")).await;
    (frida, solbakken, class, sfo_group)
}

#[tokio::test]
async fn a_tie_that_begins_later_or_has_ended_gives_nothing() {
    let app = spawn_app().await;
    let (frida, solbakken, class, sfo_group) = pupil_of_the_future(&app).await;
    let pupil_pages = [
        format!("/pupils/{frida}"),
        format!("/pupils/{frida}/timetable"),
        format!("/absence/children/{frida}"),
        format!("/absence/children/{frida}/leave"),
        format!("/absence/children/{frida}/overview"),
        format!("/absence/pupils/{frida}/review"),
    ];
    // The municipality's readers read every pupil of the municipality (the card and the
    // week); nobody else reaches Frida before she starts.
    let tenant_wide = ["municipal_director", "system_admin", "it_support"];
    for persona in [
        "office_clerk",
        "principal",
        "department_head",
        "teacher",
        "contact_teacher",
        "sfo_staff",
        "municipal_director",
        "system_admin",
        "it_support",
        "billing_officer",
        "dpo",
        "guardian",
        "pupil",
    ] {
        let mut b: Browser = app.sign_in_as(persona).await;
        for page in &pupil_pages {
            let res = app.get(&mut b, page).await;
            let card = page == &format!("/pupils/{frida}") || page == &format!("/pupils/{frida}/timetable");
            if card && tenant_wide.contains(&persona) {
                assert_eq!(res.status, StatusCode::OK, "{persona} {page}");
            } else {
                assert!(
                    matches!(res.status, StatusCode::NOT_FOUND | StatusCode::SEE_OTHER | StatusCode::OK)
                        && !res.body.contains("Framtid"),
                    "{persona} {page}: {}",
                    res.status
                );
                if res.status == StatusCode::OK || res.status == StatusCode::SEE_OTHER {
                    // A redirect or page that is not about Frida (e.g. the review's own refusal).
                    assert!(!res.location.as_deref().unwrap_or_default().contains(&frida.to_string()), "{persona}");
                }
            }
        }
        // Nor is she on any list.
        for list in [
            format!("/schools/{solbakken}/pupils"),
            format!("/absence/classes/{class}"),
            format!("/sfo/groups/{sfo_group}/attendance"),
        ] {
            let res = app.get(&mut b, &list).await;
            assert!(!res.body.contains("Framtid"), "{persona} sees Frida on {list}");
        }
    }
    // Kari's future guardianship does not make Frida her child yet.
    let mut kari = app.sign_in_as("guardian").await;
    let home = app.get(&mut kari, "/").await;
    assert!(!home.body.contains("Frida"), "{}", home.body);
}

/// An employment that begins later, or has ended, gives no role now.
#[tokio::test]
async fn an_employment_that_begins_later_or_has_ended_gives_no_role() {
    let app = spawn_app().await;
    let tenant = app.tenant_id("fjordvik").await;
    let (billing, _) = app.persona("billing_officer").await;
    let (sfo_staff, _) = app.persona("sfo_staff").await;
    let solbakken = id(&app, "SELECT id FROM schools WHERE name = 'Solbakken skole'").await;
    let nordlys = id(&app, "SELECT id FROM schools WHERE name = 'Nordlys oppvekstsenter'").await;
    let later = app.today + Duration::days(30);
    // The billing officer becomes Solbakken's office clerk next month; the SFO worker was
    // principal at Nordlys until today.
    sqlx::query(
        "INSERT INTO employments (tenant_id, staff_id, school_id, position_code, position_percentage, from_date, to_date) \
         VALUES ($1, $2, $3, '7065', 100, $5, NULL), ($1, $4, $6, '7950', 100, $7::date - 400, $7)",
    )
    .bind(tenant)
    .bind(billing)
    .bind(solbakken)
    .bind(sfo_staff)
    .bind(later)
    .bind(nordlys)
    .bind(app.today)
    .execute(&app.owner)
    .await
    .unwrap();
    let mut b = app.sign_in_as("billing_officer").await;
    assert_eq!(app.get(&mut b, &format!("/schools/{solbakken}/pupils")).await.status, StatusCode::NOT_FOUND);
    let mut s = app.sign_in_as("sfo_staff").await;
    assert_eq!(app.get(&mut s, &format!("/schools/{nordlys}/pupils")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut s, "/audit").await.status, StatusCode::NOT_FOUND);
    // On the day the future employment begins, it counts (the same rule, other side).
    sqlx::query("UPDATE employments SET from_date = $2 WHERE staff_id = $1 AND from_date = $3")
        .bind(billing)
        .bind(app.today)
        .bind(later)
        .execute(&app.owner)
        .await
        .unwrap();
    assert_eq!(app.get(&mut b, &format!("/schools/{solbakken}/pupils")).await.status, StatusCode::OK);
}

/// A child without a birth date in the register gives a guardian no access (the age
/// cannot be known, so it might be 18 or over), and the office's pupil list says who
/// lacks one (finding 12: `birth_date IS NULL` kept a guardian's access).
#[tokio::test]
async fn a_child_without_a_birth_date_gives_no_access_and_the_office_sees_who() {
    let app = spawn_app().await;
    let oskar = id(
        &app,
        "SELECT id FROM persons WHERE given_name = 'Oskar' AND family_name = 'Nordmann' AND birth_date > '2005-01-01'",
    )
    .await;
    let solbakken = id(&app, "SELECT id FROM schools WHERE name = 'Solbakken skole'").await;
    // The demo's newly arrived pupils with a DUF number have none yet.
    let missing: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM enrolments e JOIN persons p ON p.id = e.pupil_id \
         WHERE e.school_id = $1 AND e.to_date IS NULL AND e.from_date <= tavle_today() AND p.birth_date IS NULL",
    )
    .bind(solbakken)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let mut clerk = app.sign_in_as("office_clerk").await;
    let before = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils")).await;
    assert_eq!(before.html().count("#no-birth-date"), usize::from(missing > 0));
    let mut kari = app.sign_in_as("guardian").await;
    assert_eq!(app.get(&mut kari, &format!("/pupils/{oskar}")).await.status, StatusCode::OK);

    exec(&app, "UPDATE persons SET birth_date = NULL WHERE id = $1", &[oskar]).await;
    assert_eq!(app.get(&mut kari, &format!("/pupils/{oskar}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&mut kari, &format!("/absence/children/{oskar}")).await.status, StatusCode::NOT_FOUND);
    // Emma still has hers, so Kari keeps her session.
    assert_eq!(app.get(&mut kari, "/").await.status, StatusCode::OK);

    let list = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils")).await;
    let notice = list.html().select_texts("#no-birth-date");
    assert_eq!(notice.len(), 1, "{}", list.body);
    assert!(notice[0].starts_with(&format!("{} elever", missing + 1)), "{notice:?}");
    let only = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?missing=birth_date")).await;
    assert_eq!(only.status, StatusCode::OK);
    let listed = only.html().select_attrs("tbody th a", "href");
    assert_eq!(listed.len() as i64, missing + 1);
    assert!(listed.contains(&format!("/pupils/{oskar}")), "{listed:?}");
    let bad = app.get(&mut clerk, &format!("/schools/{solbakken}/pupils?missing=address")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.html().count("#missing-err"), 1);
    // A teacher, who does not keep the register, is not told.
    let mut teacher = app.sign_in_as("teacher").await;
    let theirs = app.get(&mut teacher, &format!("/schools/{solbakken}/pupils")).await;
    assert_eq!(theirs.html().count("#no-birth-date"), 0);
}
