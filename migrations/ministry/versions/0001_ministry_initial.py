"""The ministry's initial schema: persons, households, TPMAP assessments, cards, cases, grants, volunteers, centres.

Revision ID: m0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("household_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("house_code", sa.CHAR(11)),
        sa.Column("address_th", sa.String(255), nullable=False),
        sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
        sa.Column("in_bmn", sa.Boolean, nullable=False),
        sa.Column("has_welfare_card", sa.Boolean, nullable=False),
        sa.Column("logbook_stage", sa.SmallInteger),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("logbook_stage IN (1, 2, 3)", name="ck_household_logbook_stage"),
        **MYSQL,
    )
    op.create_index("ix_household_subdistrict", "household", ["subdistrict_code"])
    op.create_table(
        "person",
        sa.Column("citizen_id", sa.CHAR(13), primary_key=True),
        sa.Column("nationality", sa.CHAR(2), nullable=False),
        sa.Column("title_th", sa.String(32), nullable=False),
        sa.Column("first_name_th", sa.String(100), nullable=False),
        sa.Column("last_name_th", sa.String(100), nullable=False),
        sa.Column("sex", sa.CHAR(1), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("death_date", sa.Date),
        sa.Column("household_id", sa.BigInteger),
        sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IN ('M', 'F')", name="ck_person_sex"),
        **MYSQL,
    )
    op.create_index("ix_person_household", "person", ["household_id"])
    op.create_index("ix_person_subdistrict", "person", ["subdistrict_code"])
    op.create_table(
        "mpi_assessment",
        sa.Column("household_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("survey_year", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("indicator", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("deprived", sa.Boolean, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "disability_card",
        sa.Column("card_no", sa.String(20), primary_key=True),
        sa.Column("citizen_id", sa.CHAR(13), nullable=False),
        sa.Column("disability_type", sa.SmallInteger, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.CheckConstraint("disability_type BETWEEN 1 AND 7", name="ck_disability_card_type"),
        **MYSQL,
    )
    op.create_index("ix_disability_card_citizen", "disability_card", ["citizen_id"])
    op.create_table(
        "welfare_case",
        sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("citizen_id", sa.CHAR(13)),
        sa.Column("household_id", sa.BigInteger),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("centre_code", sa.String(10)),
        sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_welfare_case_citizen", "welfare_case", ["citizen_id"])
    op.create_index("ix_welfare_case_subdistrict", "welfare_case", ["subdistrict_code"])
    op.create_index("ix_welfare_case_household", "welfare_case", ["household_id"])
    op.create_table(
        "child_support_grant",
        sa.Column("grant_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("child_citizen_id", sa.CHAR(13), nullable=False),
        sa.Column("carer_citizen_id", sa.CHAR(13), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date),
        **MYSQL,
    )
    op.create_index("ix_child_support_child", "child_support_grant", ["child_citizen_id"])
    op.create_index("ix_child_support_carer", "child_support_grant", ["carer_citizen_id"])
    op.create_table(
        "volunteer",
        sa.Column("volunteer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("citizen_id", sa.CHAR(13), nullable=False),
        sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
        sa.Column("registered_on", sa.Date, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_volunteer_citizen", "volunteer", ["citizen_id"])
    op.create_table(
        "assistance_centre",
        sa.Column("centre_code", sa.String(10), primary_key=True),
        sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
        sa.Column("name_th", sa.String(255), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    for table in (
        "assistance_centre",
        "volunteer",
        "child_support_grant",
        "welfare_case",
        "disability_card",
        "mpi_assessment",
        "person",
        "household",
    ):
        op.drop_table(table)
