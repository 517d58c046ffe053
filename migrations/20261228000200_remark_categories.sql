-- The school's own list of remark categories (issue 17): each school uses Tavle's
-- standard categories (src/assessment/domain.rs, `RemarkCategory`, translated) unless
-- it takes one out of use, and may add categories of its own from its rules of order
-- and conduct (ordensreglement), named in bokmål and, if it likes, English. A
-- category is never deleted (remarks keep its code): it is taken out of use.
--
-- A row for a standard category only says whether the school uses it (no names); a
-- school's own category has a code `own_N` and its names.
CREATE TABLE remark_categories (
    tenant_id uuid NOT NULL,
    school_id uuid NOT NULL,
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    aspect text NOT NULL CHECK (aspect IN ('order', 'conduct')),
    name_nb text CHECK (length(name_nb) BETWEEN 1 AND 80),
    name_en text CHECK (length(name_en) BETWEEN 1 AND 80),
    active boolean NOT NULL DEFAULT true,
    changed_by uuid,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, school_id, code),
    FOREIGN KEY (tenant_id, school_id) REFERENCES schools (tenant_id, id),
    FOREIGN KEY (tenant_id, changed_by) REFERENCES persons (tenant_id, id),
    CHECK ((code LIKE 'own\_%') = (name_nb IS NOT NULL)),
    CHECK (name_en IS NULL OR name_nb IS NOT NULL)
);

ALTER TABLE remark_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE remark_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON remark_categories
    USING (tenant_id IS NOT DISTINCT FROM tavle_current_tenant())
    WITH CHECK (tenant_id IS NOT DISTINCT FROM tavle_current_tenant());
-- Taken out of use, never deleted.
GRANT SELECT, INSERT, UPDATE ON remark_categories TO tavle_app;

-- A remark may carry a school's own code (own_1, own_2, …).
ALTER TABLE remarks DROP CONSTRAINT remarks_category_check;
ALTER TABLE remarks ADD CONSTRAINT remarks_category_check CHECK (category ~ '^[a-z][a-z0-9_]{1,39}$');
