#!/usr/bin/env python3
"""Every statement Tavle's application role ran in the test suite names its municipality.

Distributed by tenant (Citus), a statement reaches one shard only when each tenant
table it reads or writes is restricted by `tenant_id` to a bound value; otherwise it
runs on every shard, or fails when it joins tables that are not joined on `tenant_id`
(issue 16). The Rust suite records every distinct statement the role `tavle_app` ran
(`pg_stat_statements`, see tests/tavle/helpers.rs) into the file given as the first
argument; this check parses each one with PostgreSQL's own parser (libpg_query, through
pglast) and fails, naming the statement and the table, on:

  * a tenant table (one with a `tenant_id` column) referenced in a query level without
    `tenant_id = $n` for it, directly or through `tenant_id` equalities with another
    table of the same level that has one (a subquery, EXISTS or LATERAL is a level of
    its own: a correlation with the outer query does not count);
  * a JOIN onto a tenant table whose ON clause does not join it on `tenant_id` (or bind
    its `tenant_id` to a parameter);
  * an INSERT into a tenant table whose `tenant_id` is not a parameter (or a bound
    table's `tenant_id` in INSERT ... SELECT);
  * `ON CONFLICT ... DO UPDATE SET` calling a function that is not IMMUTABLE (`now()`:
    Citus refuses it; pass the time as a parameter or take it from EXCLUDED).

A statement that deliberately spans municipalities (a background job's claim of the
next e-mail of any municipality) says so with the comment `/* all tenants: <why> */`;
the check lists those and does not fail on them.
"""

import json
import sys

from pglast.parser import parse_sql_json

ALL_TENANTS = "/* all tenants:"


def conjuncts(expr):
    """The AND-ed parts of a condition."""
    if not expr:
        return []
    if "BoolExpr" in expr and expr["BoolExpr"]["boolop"] == "AND_EXPR":
        out = []
        for arg in expr["BoolExpr"]["args"]:
            out.extend(conjuncts(arg))
        return out
    return [expr]


def column(expr):
    """A column reference as a tuple of names, else None."""
    if expr and "ColumnRef" in expr:
        names = []
        for f in expr["ColumnRef"]["fields"]:
            if "String" not in f:
                return None
            names.append(f["String"]["sval"])
        return tuple(names)
    return None


def is_param(expr):
    if not expr:
        return False
    if "ParamRef" in expr:
        return True
    # $1::uuid
    if "TypeCast" in expr:
        return is_param(expr["TypeCast"]["arg"])
    return False


def equality(expr):
    if expr and "A_Expr" in expr:
        a = expr["A_Expr"]
        if a["kind"] == "AEXPR_OP" and [n["String"]["sval"] for n in a["name"]] == ["="]:
            return a.get("lexpr"), a.get("rexpr")
    return None


class Checker:
    def __init__(self, tenant_tables, not_immutable):
        self.tenant_tables = set(tenant_tables)
        self.not_immutable = set(not_immutable)

    def check(self, sql):
        problems = []
        for raw in json.loads(parse_sql_json(sql))["stmts"]:
            stmt = raw["stmt"]
            kind, node = next(iter(stmt.items()))
            if kind == "SelectStmt":
                self.select(node, set(), problems)
            elif kind == "InsertStmt":
                self.insert(node, set(), problems)
            elif kind == "UpdateStmt":
                self.update(node, set(), problems)
            elif kind == "DeleteStmt":
                self.delete(node, set(), problems)
        return problems

    # --- query levels -------------------------------------------------------

    def ctes(self, node, ctes, problems):
        ctes = set(ctes)
        for cte in (node.get("withClause") or {}).get("ctes", []):
            c = cte["CommonTableExpr"]
            self.any_statement(c["ctequery"], ctes, problems)
            ctes.add(c["ctename"])
        return ctes

    def any_statement(self, stmt, ctes, problems):
        kind, node = next(iter(stmt.items()))
        getattr(self, {"SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update",
                       "DeleteStmt": "delete"}[kind])(node, ctes, problems)

    def select(self, node, ctes, problems):
        ctes = self.ctes(node, ctes, problems)
        if node.get("op", "SETOP_NONE") != "SETOP_NONE":
            self.select(node["larg"], ctes, problems)
            self.select(node["rarg"], ctes, problems)
            return
        level = Level(self, ctes, problems)
        for item in node.get("fromClause", []):
            level.from_item(item)
        level.condition(node.get("whereClause"))
        level.finish()
        for key in ("targetList", "whereClause", "havingClause", "groupClause", "sortClause", "valuesLists",
                    "distinctClause", "limitCount", "limitOffset"):
            self.sublinks(node.get(key), ctes, problems)

    def insert(self, node, ctes, problems):
        ctes = self.ctes(node, ctes, problems)
        table = node["relation"]["relname"]
        cols = [c["ResTarget"]["name"] for c in node.get("cols", [])]
        source = (node.get("selectStmt") or {}).get("SelectStmt")
        if table in self.tenant_tables:
            if "tenant_id" not in cols:
                problems.append(f"INSERT INTO {table} without tenant_id")
            elif source is not None:
                i = cols.index("tenant_id")
                if source.get("valuesLists"):
                    for row in source["valuesLists"]:
                        if not is_param(row["List"]["items"][i]):
                            problems.append(f"INSERT INTO {table}: tenant_id is not a parameter")
                elif source.get("targetList"):
                    val = source["targetList"][i]["ResTarget"]["val"]
                    col = column(val)
                    if not (is_param(val) or (col and col[-1] == "tenant_id")):
                        problems.append(f"INSERT INTO {table} ... SELECT: tenant_id is not a parameter")
        if source is not None:
            self.select(source, ctes, problems)
        conflict = node.get("onConflictClause")
        if conflict and conflict.get("action") == "ONCONFLICT_UPDATE":
            for target in conflict.get("targetList", []):
                for name in self.functions(target):
                    problems.append(f"INSERT INTO {table} ... DO UPDATE SET calls {name}(), which is not IMMUTABLE")
            self.sublinks(conflict.get("whereClause"), ctes, problems)
        self.sublinks(node.get("returningList"), ctes, problems)

    def update(self, node, ctes, problems):
        ctes = self.ctes(node, ctes, problems)
        level = Level(self, ctes, problems)
        level.from_item({"RangeVar": node["relation"]})
        for item in node.get("fromClause", []):
            level.from_item(item)
        level.condition(node.get("whereClause"))
        level.finish()
        for key in ("targetList", "whereClause", "returningList"):
            self.sublinks(node.get(key), ctes, problems)

    def delete(self, node, ctes, problems):
        ctes = self.ctes(node, ctes, problems)
        level = Level(self, ctes, problems)
        level.from_item({"RangeVar": node["relation"]})
        for item in node.get("usingClause", []):
            level.from_item(item)
        level.condition(node.get("whereClause"))
        level.finish()
        for key in ("whereClause", "returningList"):
            self.sublinks(node.get(key), ctes, problems)

    # --- expressions ----------------------------------------------------------

    def sublinks(self, tree, ctes, problems):
        """Check every subquery inside an expression tree as a level of its own."""
        if isinstance(tree, list):
            for t in tree:
                self.sublinks(t, ctes, problems)
        elif isinstance(tree, dict):
            for key, value in tree.items():
                if key == "SubLink":
                    self.sublinks(value.get("testexpr"), ctes, problems)
                    self.select(value["subselect"]["SelectStmt"], ctes, problems)
                else:
                    self.sublinks(value, ctes, problems)

    def functions(self, tree):
        """The non-immutable functions an expression calls (CURRENT_DATE and the like too)."""
        found = []
        if isinstance(tree, list):
            for t in tree:
                found += self.functions(t)
        elif isinstance(tree, dict):
            for key, value in tree.items():
                if key == "FuncCall":
                    name = value["funcname"][-1]["String"]["sval"]
                    if name in self.not_immutable:
                        found.append(name)
                elif key == "SQLValueFunction":
                    found.append(value["op"].replace("SVFOP_", "").lower())
                found += self.functions(value)
        return found


class Level:
    """The relations of one query level and what binds their tenant_id."""

    def __init__(self, checker, ctes, problems):
        self.checker = checker
        self.ctes = ctes
        self.problems = problems
        self.tenant = {}  # alias -> table, tenant tables only
        self.aliases = []  # every alias of the level, tenant table or not
        self.bound = set()
        self.edges = []

    def from_item(self, item):
        if "RangeVar" in item:
            rv = item["RangeVar"]
            name = rv["relname"]
            alias = (rv.get("alias") or {}).get("aliasname", name)
            self.aliases.append(alias)
            if name in self.checker.tenant_tables and name not in self.ctes:
                self.tenant[alias] = name
            return [alias]
        if "JoinExpr" in item:
            j = item["JoinExpr"]
            left = self.from_item(j["larg"])
            right = self.from_item(j["rarg"])
            quals = j.get("quals")
            self.condition(quals)
            # A join onto a tenant table joins it on tenant_id (or binds it).
            for side, other in ((right, left), (left, right)):
                if len(side) != 1 or side[0] not in self.tenant:
                    continue
                # A join with `tenants` or a code list (a reference table under Citus)
                # is routed by the tenant table's own binding.
                if not any(o in self.tenant for o in other):
                    break
                if not self.joined(side[0], other, quals):
                    self.problems.append(
                        f"JOIN {self.tenant[side[0]]} {side[0]} is not joined on tenant_id")
                break
            self.checker.sublinks(quals, self.ctes, self.problems)
            return left + right
        if "RangeSubselect" in item:
            rs = item["RangeSubselect"]
            self.checker.select(rs["subquery"]["SelectStmt"], self.ctes, self.problems)
            alias = (rs.get("alias") or {}).get("aliasname")
            if alias:
                self.aliases.append(alias)
            return [alias] if alias else []
        if "RangeFunction" in item:
            self.checker.sublinks(item["RangeFunction"], self.ctes, self.problems)
            alias = (item["RangeFunction"].get("alias") or {}).get("aliasname")
            return [alias] if alias else []
        return []

    def joined(self, alias, others, quals):
        for c in conjuncts(quals):
            eq = equality(c)
            if not eq:
                continue
            left, right = (self.tenant_column(e) for e in eq)
            if (left == alias and (is_param(eq[1]) or right in others)) or \
               (right == alias and (is_param(eq[0]) or left in others)):
                return True
        return False

    def tenant_column(self, expr):
        """The alias whose tenant_id the expression is, else None."""
        col = column(expr)
        if not col or col[-1] != "tenant_id":
            return None
        if len(col) == 2:
            return col[0]
        if len(col) == 1 and len(self.aliases) == 1:
            return self.aliases[0]
        return None

    def condition(self, expr):
        for c in conjuncts(expr):
            eq = equality(c)
            if not eq:
                continue
            left, right = (self.tenant_column(e) for e in eq)
            if left and is_param(eq[1]):
                self.bound.add(left)
            elif right and is_param(eq[0]):
                self.bound.add(right)
            elif left and right:
                self.edges.append((left, right))

    def finish(self):
        reach = set(self.bound)
        changed = True
        while changed:
            changed = False
            for a, b in self.edges:
                if (a in reach) != (b in reach):
                    reach.update((a, b))
                    changed = True
        for alias, table in self.tenant.items():
            if alias not in reach:
                self.problems.append(f"{table} {alias}: tenant_id is not bound to a parameter")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-statements.py STATEMENTS.json (written by the Rust suite, see tests/tavle/helpers.rs)")
    with open(sys.argv[1]) as f:
        dump = json.load(f)
    if dump["server"]["evicted"]:
        sys.exit(f"pg_stat_statements evicted {dump['server']['evicted']} statements: raise pg_stat_statements.max")
    checker = Checker(dump["catalog"]["tenant_tables"], dump["catalog"]["not_immutable"])
    statements = sorted(set(dump["server"]["statements"]))
    failed, spanning = 0, []
    for sql in statements:
        if ALL_TENANTS in sql:
            spanning.append(sql)
            continue
        problems = checker.check(sql)
        if problems:
            failed += 1
            print("\n".join(f"  {p}" for p in dict.fromkeys(problems)))
            print(f"    in: {' '.join(sql.split())}\n")
    for sql in spanning:
        print(f"  spans municipalities on purpose: {' '.join(sql.split())[:160]}")
    print(f"{len(statements)} statements checked: {failed} do not name their municipality, "
          f"{len(spanning)} span municipalities on purpose")
    if len(statements) < 50:
        sys.exit("too few statements recorded: did the Rust suite run with TAVLE_STATEMENTS_OUT?")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
