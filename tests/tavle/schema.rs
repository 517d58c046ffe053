//! The schema's promises: every key leads with tenant_id (ready to distribute by
//! tenant), row-level security is on and forced everywhere, and within tenant A
//! nothing of tenant B can be seen or changed, even by naming B's ids.

use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::helpers::{cluster_url, spawn_app, unique_name};
use tavle::db;

/// Problems with the tenant key layout, one line each. Empty when the schema keeps
/// the rules.
async fn key_layout_problems(pool: &PgPool) -> Vec<String> {
    let mut problems = Vec::new();
    let tables: Vec<(String, bool, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::text, \
                EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' \
                        AND NOT a.attisdropped AND a.attnotnull), \
                c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' \
           AND c.relname NOT IN ('tenants', '_sqlx_migrations') ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, has_tenant, rls, forced, policies) in tables {
        if !has_tenant {
            problems.push(format!("{table}: no NOT NULL tenant_id column"));
        }
        if !rls || !forced || policies == 0 {
            problems.push(format!("{table}: row-level security not enabled, forced and with a policy"));
        }
    }
    // Primary, unique and foreign keys, and unique indexes, must lead with tenant_id.
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, \
                coalesce((SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = c.conkey[1]), '') \
         FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f') \
           AND c.conrelid::regclass::text NOT IN ('tenants', '_sqlx_migrations') \
         UNION ALL \
         SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, \
                coalesce((SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]), '') \
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
         WHERE t.relnamespace = 'public'::regnamespace AND i.indisunique \
           AND t.relname NOT IN ('tenants', '_sqlx_migrations')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, key, first) in keys {
        if first != "tenant_id" {
            problems.push(format!("{table}: key {key} leads with {first}, not tenant_id"));
        }
    }
    problems
}

#[tokio::test]
async fn every_key_leads_with_tenant_id_and_rls_is_forced() {
    let app = spawn_app().await;
    let problems = key_layout_problems(&app.owner).await;
    assert!(problems.is_empty(), "schema breaks the tenant rules:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn the_key_layout_lint_catches_a_bad_table() {
    let app = spawn_app().await;
    sqlx::query("CREATE TABLE careless (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
        .execute(&app.owner)
        .await
        .unwrap();
    let problems = key_layout_problems(&app.owner).await;
    assert!(problems.iter().any(|p| p.contains("careless: key careless_pkey leads with id")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("careless: row-level security")), "{problems:?}");
}

async fn tenant_tables(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_connection_with_no_tenant_sees_nothing() {
    let app = spawn_app().await;
    let tables = tenant_tables(&app.owner).await;
    assert!(tables.len() >= 14, "{tables:?}");
    let mut seen_by_owner = 0i64;
    for t in &tables {
        let sql = format!("/* all tenants: RLS test */ SELECT count(*) FROM {t}");
        match sqlx::query_scalar::<_, i64>(&sql).fetch_one(&app.db).await {
            Ok(n) => assert_eq!(n, 0, "{t} shows rows without a tenant"),
            // Tables the app may not read at all (the audit chain heads) hide even more.
            Err(e) => assert!(e.to_string().contains("permission denied"), "{t}: {e}"),
        }
        seen_by_owner += sqlx::query_scalar::<_, i64>(&sql).fetch_one(&app.owner).await.unwrap();
    }
    // The test means something only if there are rows to hide.
    assert!(seen_by_owner > 1000);
}

#[tokio::test]
async fn within_tenant_a_nothing_of_tenant_b_is_seen_or_changed() {
    let app = spawn_app().await;
    let a = app.tenant_id("fjordvik").await;
    let b = app.tenant_id("smaoy").await;
    let b_person: Uuid =
        sqlx::query_scalar("/* all tenants: RLS test */ SELECT id FROM persons WHERE tenant_id = $1 LIMIT 1")
            .bind(b)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    let b_school: Uuid =
        sqlx::query_scalar("/* all tenants: RLS test */ SELECT id FROM schools WHERE tenant_id = $1 LIMIT 1")
            .bind(b)
            .fetch_one(&app.owner)
            .await
            .unwrap();

    let mut tx = db::begin(&app.db, a).await.unwrap();
    // Every tenant table the application may read shows only A's rows (a table it
    // may not read at all, such as the audit chain heads, is refused outright).
    for t in tenant_tables(&app.owner).await {
        let readable: bool =
            sqlx::query_scalar("/* all tenants: RLS test */ SELECT has_table_privilege(current_user, $1, 'SELECT')")
                .bind(&t)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        if !readable {
            let refused = sqlx::query(&format!("/* all tenants: RLS test */ SELECT 1 FROM {t} LIMIT 1"))
                .fetch_optional(&mut *tx)
                .await;
            assert!(refused.is_err(), "{t} is not granted yet readable");
            tx.rollback().await.unwrap();
            tx = db::begin(&app.db, a).await.unwrap();
            continue;
        }
        let foreign: i64 =
            sqlx::query_scalar(&format!("/* all tenants: RLS test */ SELECT count(*) FROM {t} WHERE tenant_id <> $1"))
                .bind(a)
                .fetch_one(&mut *tx)
                .await
                .unwrap();
        assert_eq!(foreign, 0, "{t} leaks another tenant's rows");
    }
    let own: i64 = sqlx::query_scalar("/* all tenants: RLS test */ SELECT count(*) FROM persons")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert!(own > 1000);
    // Naming B's ids finds nothing and changes nothing.
    let found = sqlx::query("/* all tenants: RLS test */ SELECT 1 FROM persons WHERE id = $1")
        .bind(b_person)
        .fetch_optional(&mut *tx)
        .await
        .unwrap();
    assert!(found.is_none());
    let updated = sqlx::query(
        "/* all tenants: RLS test */ UPDATE persons SET given_name = 'Hacked' WHERE id = $1 AND tenant_id = $2",
    )
    .bind(b_person)
    .bind(b)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(updated.rows_affected(), 0);
    let deleted = sqlx::query("/* all tenants: RLS test */ DELETE FROM group_staff WHERE tenant_id = $1")
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected(), 0);
    tx.commit().await.unwrap();

    // Writing a row into B from A is refused by the policy's WITH CHECK.
    let mut tx = db::begin(&app.db, a).await.unwrap();
    let err = sqlx::query("/* all tenants: RLS test */ INSERT INTO subjects (tenant_id, code, name_nb, name_en) VALUES ($1, 'HACK', 'x', 'x')")
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);
    // Nor can A's row point at B's school (the foreign key leads with tenant_id).
    let mut tx = db::begin(&app.db, a).await.unwrap();
    let a_group_year: Uuid = sqlx::query_scalar("/* all tenants: RLS test */ SELECT id FROM school_years LIMIT 1")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query(
        "/* all tenants: RLS test */ INSERT INTO groups (tenant_id, school_id, school_year_id, kind, name) VALUES ($1, $2, $3, 'base', 'X')",
    )
    .bind(a)
    .bind(b_school)
    .bind(a_group_year)
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("foreign key"), "{err}");
    drop(tx);

    let name: String = sqlx::query("/* all tenants: RLS test */ SELECT given_name FROM persons WHERE id = $1")
        .bind(b_person)
        .fetch_one(&app.owner)
        .await
        .unwrap()
        .get(0);
    assert_ne!(name, "Hacked");
}

#[tokio::test]
async fn the_app_role_is_neither_owner_nor_superuser() {
    let app = spawn_app().await;
    db::check_app_role(&app.db).await.expect("tavle_app is fit to serve");
    let err = db::check_app_role(&app.owner).await.unwrap_err();
    assert!(err.to_string().contains("row-level security would not apply"));
}

/// A login that row-level security would not bind through a role it belongs to,
/// directly or not, is refused as well (issue 14, item 10): a member of a table's or a
/// function's owner, of a superuser role (even without inheriting: it could SET ROLE),
/// or of a role with BYPASSRLS.
#[tokio::test]
async fn a_login_in_the_owner_a_superuser_or_a_bypassrls_role_is_refused() {
    let app = spawn_app().await;
    let name = |what: &str| unique_name(what);
    let (owner, middle, function_owner) = (name("owner"), name("middle"), name("function_owner"));
    let (bypass, superuser) = (name("bypass"), name("super"));
    let (plain, via_owner, via_function_owner) = (name("plain"), name("via_owner"), name("via_function_owner"));
    let (via_bypass, via_super) = (name("via_bypass"), name("via_super"));
    for sql in [
        format!("CREATE ROLE {owner} NOLOGIN"),
        format!("CREATE ROLE {middle} NOLOGIN IN ROLE {owner}"),
        format!("CREATE ROLE {function_owner} NOLOGIN"),
        format!("CREATE ROLE {bypass} NOLOGIN BYPASSRLS"),
        format!("CREATE ROLE {superuser} NOLOGIN SUPERUSER"),
        format!("CREATE ROLE {plain} LOGIN IN ROLE tavle_app"),
        format!("CREATE ROLE {via_owner} LOGIN IN ROLE tavle_app, {middle}"),
        format!("CREATE ROLE {via_function_owner} LOGIN IN ROLE tavle_app, {function_owner}"),
        format!("CREATE ROLE {via_bypass} LOGIN IN ROLE tavle_app, {bypass}"),
        format!("CREATE ROLE {via_super} LOGIN NOINHERIT IN ROLE tavle_app, {superuser}"),
        // In this test's database a table and a function belong to ordinary roles.
        format!("ALTER TABLE subjects OWNER TO {owner}"),
        format!("ALTER FUNCTION tavle_sign_in_options() OWNER TO {function_owner}"),
    ] {
        sqlx::query(&sql).execute(&app.owner).await.unwrap();
    }
    let check = |login: String| {
        let url = cluster_url(&login, &app.db_name);
        async move {
            let pool = db::connect(&url, 1).await.unwrap();
            let verdict = db::check_app_role(&pool).await.map_err(|e| e.to_string());
            pool.close().await;
            verdict
        }
    };
    check(plain).await.expect("a login in tavle_app only is fit to serve");
    for (login, culprit) in
        [(via_owner, owner), (via_function_owner, function_owner), (via_bypass, bypass), (via_super, superuser)]
    {
        let err = check(login.clone()).await.expect_err(&login);
        assert!(err.contains("row-level security would not apply") && err.contains(&culprit), "{login}: {err}");
    }
}

/// What Citus cannot run, one line each (issue 16): a trigger on `tenants` (a reference
/// table: it would fire on every node's copy), a function taking a table's row type
/// (a trigger on a shard hands it the shard's type), a tenant policy written with `=`
/// (a pseudoconstant under outer joins), a policy with a subquery (Citus refuses it).
async fn distribution_problems(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'trigger ' || t.tgname || ' on tenants' FROM pg_trigger t \
         WHERE t.tgrelid = 'tenants'::regclass AND NOT t.tgisinternal \
         UNION ALL \
         SELECT 'function ' || p.proname || ' takes the row type of ' || c.relname \
         FROM pg_proc p CROSS JOIN LATERAL unnest(p.proargtypes) AS a(typ) \
         JOIN pg_class c ON c.reltype = a.typ AND c.relkind = 'r' \
         WHERE p.pronamespace = 'public'::regnamespace \
         UNION ALL \
         SELECT 'policy ' || policyname || ' on ' || tablename || ': ' || qual FROM pg_policies \
         WHERE schemaname = 'public' AND policyname = 'tenant_isolation' \
           AND qual <> '(NOT (tenant_id IS DISTINCT FROM tavle_current_tenant()))' \
         UNION ALL \
         SELECT 'policy ' || policyname || ' on ' || tablename || ' holds a subquery' FROM pg_policies \
         WHERE schemaname = 'public' AND (qual ~* '\\mselect\\M' OR with_check ~* '\\mselect\\M') \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn nothing_in_the_schema_is_what_citus_cannot_run() {
    let app = spawn_app().await;
    let problems = distribution_problems(&app.owner).await;
    assert!(problems.is_empty(), "not distributable:\n{}", problems.join("\n"));
    // The check sees each kind of problem.
    for sql in [
        "CREATE FUNCTION careless() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER careless AFTER INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION careless()",
        "CREATE FUNCTION careless_row(s schools) RETURNS text LANGUAGE sql AS $$ SELECT s.name $$",
        "ALTER POLICY tenant_isolation ON schools USING (tenant_id = tavle_current_tenant())",
        "CREATE POLICY careless ON terms FOR SELECT USING (EXISTS (SELECT 1 FROM tenants))",
    ] {
        sqlx::query(sql).execute(&app.owner).await.unwrap();
    }
    let problems = distribution_problems(&app.owner).await;
    assert_eq!(
        problems,
        [
            "function careless_row takes the row type of schools",
            "policy careless on terms holds a subquery",
            "policy tenant_isolation on schools: (tenant_id = tavle_current_tenant())",
            "trigger careless on tenants",
        ],
    );
}

#[tokio::test]
async fn the_audit_log_is_append_only_for_the_app() {
    let app = spawn_app().await;
    let a = app.tenant_id("fjordvik").await;
    let mut tx = db::begin(&app.db, a).await.unwrap();
    let err = sqlx::query("UPDATE audit_events SET action = 'read'").execute(&mut *tx).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
    drop(tx);
    let mut tx = db::begin(&app.db, a).await.unwrap();
    let err = sqlx::query("DELETE FROM audit_events").execute(&mut *tx).await.unwrap_err();
    assert!(err.to_string().contains("permission denied"), "{err}");
}

/// Names are stored in Unicode NFC (the search normalises its term the same way), so
/// no migration had to normalise existing rows: every name column of the demo data is
/// NFC already. Checked over every text column called `name` or `…_name`.
#[tokio::test]
async fn every_stored_name_is_in_unicode_nfc() {
    let app = spawn_app().await;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.data_type = 'text' \
           AND (c.column_name = 'name' OR c.column_name LIKE '%\\_name') ORDER BY 1, 2",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(columns.iter().any(|(t, c)| t == "persons" && c == "given_name"), "{columns:?}");
    let mut checked = 0i64;
    for (table, column) in &columns {
        let (rows, not_nfc): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count({column}), count(*) FILTER (WHERE normalize({column}, NFC) <> {column}) FROM {table}"
        ))
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert_eq!(not_nfc, 0, "{table}.{column}: {not_nfc} of {rows} not in NFC");
        checked += rows;
    }
    assert!(checked > 3000, "names were checked ({checked})");
}

#[tokio::test]
async fn the_distribution_plan_covers_every_table_in_key_order_and_plain_postgres_is_left_alone() {
    let app = spawn_app().await;
    let plan = tavle::db::distribute::plan(&app.owner).await.unwrap();
    let mut tenant = tenant_tables(&app.owner).await;
    let mut planned = plan.distributed.clone();
    tenant.sort();
    planned.sort();
    assert_eq!(planned, tenant, "every tenant table, once");
    assert!(plan.reference.contains(&"tenants".to_owned()), "{plan:?}");
    assert!(plan.reference.iter().all(|t| !tenant.contains(t) && !t.starts_with("_sqlx")), "{plan:?}");
    // Each table comes after the tenant tables its foreign keys name.
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND conrelid <> confrelid",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let at = |t: &str| plan.distributed.iter().position(|x| x == t);
    for (from, to) in &keys {
        if let (Some(f), Some(t)) = (at(from), at(to)) {
            assert!(t < f, "{from} references {to} but is distributed first");
        }
    }
    assert!(keys.len() > 20, "{keys:?}");
    // Without the citus extension nothing happens.
    assert!(matches!(
        tavle::db::distribute::distribute(&app.owner).await.unwrap(),
        tavle::db::distribute::Outcome::NoCitus
    ));
}
