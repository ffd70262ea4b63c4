"""The city's initial (legacy) schema: allowances, payments, funeral aid, homeless, housing, communities.

Revision ID: c0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


# The PID as clerks typed it, less dashes and spaces: a stored, indexed column the hub's
# city migration adds so that a citizen ID finds its rows without scanning the table.
PID_DIGITS = "replace(replace(pid, '-', ''), ' ', '')"
DECEASED_PID_DIGITS = "replace(replace(deceased_pid, '-', ''), ' ', '')"


def _allowance_columns() -> list[sa.Column]:
    return [
        sa.Column("reg_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pid", sa.String(17), nullable=False),
        sa.Column("pid_digits", sa.String(17), sa.Computed(PID_DIGITS, persisted=True)),
        sa.Column("prename", sa.String(32), nullable=False),
        sa.Column("fname", sa.String(100), nullable=False),
        sa.Column("lname", sa.String(100), nullable=False),
        sa.Column("birth_be", sa.String(10), nullable=False),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("addr", sa.String(255), nullable=False),
        sa.Column("reg_fy", sa.SmallInteger, nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("status", sa.CHAR(1), nullable=False),
        sa.Column("bank_acct", sa.String(20)),
        sa.Column("upd_dt", sa.DateTime, nullable=False),
        sa.Column("row_ver", sa.Integer, nullable=False),
    ]


def upgrade() -> None:
    op.create_table("tb_elder_allow", *_allowance_columns(), **MYSQL)
    op.create_index("ix_elder_allow_pid", "tb_elder_allow", ["pid_digits"])
    op.create_index("ix_elder_allow_dist", "tb_elder_allow", ["dist_id"])
    op.create_table(
        "tb_disab_allow", *_allowance_columns(), sa.Column("card_no", sa.String(20)), **MYSQL
    )
    op.create_index("ix_disab_allow_pid", "tb_disab_allow", ["pid_digits"])
    op.create_index("ix_disab_allow_dist", "tb_disab_allow", ["dist_id"])
    op.create_table(
        "tb_allow_pay",
        sa.Column("pay_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reg_kind", sa.CHAR(1), nullable=False),
        sa.Column("reg_id", sa.Integer, nullable=False),
        sa.Column("pay_ym", sa.CHAR(6), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("paid_dt", sa.DateTime),
        sa.Column("channel", sa.CHAR(1), nullable=False),
        sa.UniqueConstraint("reg_kind", "reg_id", "pay_ym", name="uq_allow_pay_month"),
        **MYSQL,
    )
    op.create_table(
        "tb_funeral_aid",
        sa.Column("aid_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("deceased_pid", sa.String(17), nullable=False),
        sa.Column("deceased_pid_digits", sa.String(17), sa.Computed(DECEASED_PID_DIGITS, persisted=True)),
        sa.Column("deceased_name", sa.String(200), nullable=False),
        sa.Column("applicant_pid", sa.String(17), nullable=False),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("death_be", sa.String(10), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("approved_dt", sa.DateTime),
        sa.Column("status", sa.CHAR(1), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_funeral_aid_pid", "tb_funeral_aid", ["deceased_pid_digits"])
    op.create_table(
        "tb_homeless_count",
        sa.Column("count_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("count_date", sa.Date, nullable=False),
        sa.Column("spot_desc", sa.String(255), nullable=False),
        sa.Column("male", sa.Integer, nullable=False),
        sa.Column("female", sa.Integer, nullable=False),
        sa.Column("unspecified", sa.Integer, nullable=False),
        **MYSQL,
    )
    op.create_index("ix_homeless_count_dist", "tb_homeless_count", ["dist_id"])
    op.create_table(
        "tb_homeless_person",
        sa.Column("hl_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pid", sa.String(17)),
        sa.Column("pid_digits", sa.String(17), sa.Computed(PID_DIGITS, persisted=True)),
        sa.Column("nickname", sa.String(100), nullable=False),
        sa.Column("sex", sa.CHAR(1), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.Column("referred_to", sa.String(100)),
        **MYSQL,
    )
    op.create_index("ix_homeless_person_dist", "tb_homeless_person", ["dist_id"])
    op.create_table(
        "tb_housing_proj",
        sa.Column("proj_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("proj_name", sa.String(255), nullable=False),
        sa.Column("units_total", sa.Integer, nullable=False),
        sa.Column("units_occupied", sa.Integer, nullable=False),
        sa.Column("opened_dt", sa.Date, nullable=False),
        **MYSQL,
    )
    op.create_table(
        "tb_housing_app",
        sa.Column("app_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("proj_id", sa.Integer, nullable=False),
        sa.Column("pid", sa.String(17), nullable=False),
        sa.Column("pid_digits", sa.String(17), sa.Computed(PID_DIGITS, persisted=True)),
        sa.Column("household_size", sa.SmallInteger, nullable=False),
        sa.Column("income_month", sa.Numeric(12, 2), nullable=False),
        sa.Column("applied_dt", sa.Date, nullable=False),
        sa.Column("status", sa.CHAR(1), nullable=False),
        **MYSQL,
    )
    op.create_index("ix_housing_app_pid", "tb_housing_app", ["pid_digits"])
    op.create_index("ix_homeless_person_pid", "tb_homeless_person", ["pid_digits"])
    op.create_index("ix_housing_app_proj", "tb_housing_app", ["proj_id"])
    op.create_table(
        "tb_community",
        sa.Column("comm_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dist_id", sa.SmallInteger, nullable=False),
        sa.Column("comm_name", sa.String(255), nullable=False),
        sa.Column("comm_type", sa.String(50), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        **MYSQL,
    )


def downgrade() -> None:
    for table in (
        "tb_community",
        "tb_housing_app",
        "tb_housing_proj",
        "tb_homeless_person",
        "tb_homeless_count",
        "tb_funeral_aid",
        "tb_allow_pay",
        "tb_disab_allow",
        "tb_elder_allow",
    ):
        op.drop_table(table)
