"""The live catalog of a store, normalised so that stores can be compared with each other and
with the catalog the migrations define (type families, nullability, lengths, indexes)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from profilemesh.warehouses import warehouse_of_dialect

_VARCHAR = re.compile(r"^varchar\((\d+)\)$")


def type_family(sql_type: Any) -> str:
    """Reflected SQLAlchemy type -> family. INTEGER and BIGINT share one, as Snowflake stores both
    as NUMBER(38,0); Snowflake's VARIANT is 'json'."""
    name = type(sql_type).__name__.upper()
    if name in ("VARIANT", "OBJECT", "ARRAY", "JSON", "JSONB"):
        return "json"
    if name.startswith("TIMESTAMP"):  # Snowflake's TIMESTAMP_NTZ/LTZ/TZ are not DateTime subclasses
        return "timestamp"
    if isinstance(sql_type, sa.Integer):
        return "integer"
    if isinstance(sql_type, sa.Float):
        return "float"
    if isinstance(sql_type, sa.Numeric):
        return "integer" if getattr(sql_type, "scale", None) == 0 else "float"
    if isinstance(sql_type, sa.DateTime):
        return "timestamp"
    if isinstance(sql_type, sa.String):
        return "string"
    if isinstance(sql_type, sa.Boolean):
        return "boolean"
    return name.lower()


def integer_bits(sql_type: Any) -> int | None:
    """How wide an integer column is (64 for BIGINT, 32 for INTEGER; Snowflake's NUMBER(38,0): 128), None
    for other types."""
    if isinstance(sql_type, sa.BigInteger):
        return 64
    if isinstance(sql_type, sa.SmallInteger):
        return 16
    if isinstance(sql_type, sa.Integer):
        return 32
    if (
        isinstance(sql_type, sa.Numeric)
        and not isinstance(sql_type, sa.Float)
        and getattr(sql_type, "scale", None) == 0
    ):
        return 128
    return None


def expected_family(logical: str, json_family: str) -> str:
    """The family a column of this logical type reflects as; `json` is the warehouse's (TEXT or VARIANT)."""
    t = logical.lower()
    if t in ("integer", "bigint", "identity"):
        return "integer"
    if t == "json":
        return json_family
    if t in ("float", "timestamp", "boolean"):
        return t
    return "string"


def expected_length(logical: str) -> int | None:
    match = _VARCHAR.match(logical.lower())
    return int(match.group(1)) if match else None


def live_table(conn: Connection, schema: str, identifier: str) -> dict[str, Any] | None:
    """{'columns': {name: {family, nullable, length}}, 'primary_key': [names], 'indexes': [names]} or None
    if absent."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(identifier, schema=schema):
        return None
    warehouse = warehouse_of_dialect(conn.dialect.name)
    columns = {}
    for column in inspector.get_columns(identifier, schema=schema):
        bits = integer_bits(column["type"])
        columns[column["name"].lower()] = {
            "family": type_family(column["type"]),
            "nullable": bool(column.get("nullable", True)),
            "length": getattr(column["type"], "length", None),
            "bits": 64 if bits is not None and warehouse.integers_are_64_bit else bits,
        }
    with warnings.catch_warnings():
        # duckdb-engine warns that it cannot reflect indexes; ProfileMesh creates none on DuckDB.
        warnings.simplefilter("ignore")
        try:
            indexes = sorted(
                str(ix["name"]) for ix in inspector.get_indexes(identifier, schema=schema) if ix.get("name")
            )
        except NotImplementedError:
            indexes = []
    primary_key = warehouse.primary_key(conn, schema, identifier)
    return {"columns": columns, "primary_key": primary_key, "indexes": indexes}


def live_catalog(conn: Connection, relations: dict[str, dict[str, str]], keys: list[str]) -> dict[str, Any]:
    """Live tables by logical key, for the keys given."""
    return {key: live_table(conn, relations[key]["schema"], relations[key]["identifier"]) for key in keys}


def compare(
    expected: dict[str, Any], live: dict[str, Any], relations: dict[str, dict[str, str]], json_family: str
) -> tuple[list[str], list[str]]:
    """Problems (the store does not conform) and warnings (extra columns), every one listed."""
    problems: list[str] = []
    warnings: list[str] = []
    for key, spec in expected.items():
        name = relations[key]["identifier"]
        table = live.get(key)
        if table is None:
            problems.append(f"table {name} is missing")
            continue
        for column, want in spec["columns"].items():
            have = table["columns"].get(column.lower())
            where = f"{name}.{column}"
            if have is None:
                problems.append(f"column {where} is missing")
                continue
            family = expected_family(want["type"], json_family)
            if have["family"] != family:
                problems.append(f"column {where} is {have['family']}, expected {family} ({want['type']})")
            bits = have.get("bits")
            if want["type"].lower() == "bigint" and bits is not None and bits < 64:
                problems.append(f"column {where} is a {bits}-bit integer, expected bigint")
            length = expected_length(want["type"])
            if length and have["length"] and have["length"] < length:
                problems.append(f"column {where} holds {have['length']} characters, expected {length}")
            if bool(want["nullable"]) != have["nullable"]:
                problems.append(
                    f"column {where} is {'nullable' if have['nullable'] else 'NOT NULL'}, "
                    f"expected {'nullable' if want['nullable'] else 'NOT NULL'}"
                )
        want_key = [c.lower() for c in spec.get("primary_key", [])]
        if want_key and sorted(table.get("primary_key", [])) != sorted(want_key):
            have_key = ", ".join(table.get("primary_key", [])) or "none"
            problems.append(f"table {name} is keyed by ({have_key}), expected ({', '.join(want_key)})")
        extra = sorted(set(table["columns"]) - {c.lower() for c in spec["columns"]})
        if extra:
            warnings.append(f"table {name} has columns ProfileMesh does not define: {', '.join(extra)}")
        for index in spec.get("indexes", []):
            if index["name"] not in table["indexes"]:
                problems.append(f"index {index['name']} on {name} is missing")
    return problems, warnings
