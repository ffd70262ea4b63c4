"""The city's legacy tables as the hub reads them (migrations/city creates them).

The shapes are kept as the city's systems have them: PIDs as typed by clerks, Buddhist-Era
date strings, pay months as BE 'YYYYMM', status letters, and the city's own district numbers.
"""

import sqlalchemy as sa

from hub.sources.outbox import outbox_tables

metadata = sa.MetaData()


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


tb_elder_allow = sa.Table("tb_elder_allow", metadata, *_allowance_columns())

tb_disab_allow = sa.Table(
    "tb_disab_allow", metadata, *_allowance_columns(), sa.Column("card_no", sa.String(20))
)

tb_allow_pay = sa.Table(
    "tb_allow_pay",
    metadata,
    sa.Column("pay_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reg_kind", sa.CHAR(1), nullable=False),
    sa.Column("reg_id", sa.Integer, nullable=False),
    sa.Column("pay_ym", sa.CHAR(6), nullable=False),
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("paid_dt", sa.DateTime),
    sa.Column("channel", sa.CHAR(1), nullable=False),
    sa.UniqueConstraint("reg_kind", "reg_id", "pay_ym", name="uq_allow_pay_month"),
)

tb_funeral_aid = sa.Table(
    "tb_funeral_aid",
    metadata,
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
)

tb_homeless_count = sa.Table(
    "tb_homeless_count",
    metadata,
    sa.Column("count_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dist_id", sa.SmallInteger, nullable=False),
    sa.Column("count_date", sa.Date, nullable=False),
    sa.Column("spot_desc", sa.String(255), nullable=False),
    sa.Column("male", sa.Integer, nullable=False),
    sa.Column("female", sa.Integer, nullable=False),
    sa.Column("unspecified", sa.Integer, nullable=False),
)

tb_homeless_person = sa.Table(
    "tb_homeless_person",
    metadata,
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
)

tb_housing_proj = sa.Table(
    "tb_housing_proj",
    metadata,
    sa.Column("proj_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dist_id", sa.SmallInteger, nullable=False),
    sa.Column("proj_name", sa.String(255), nullable=False),
    sa.Column("units_total", sa.Integer, nullable=False),
    sa.Column("units_occupied", sa.Integer, nullable=False),
    sa.Column("opened_dt", sa.Date, nullable=False),
)

tb_housing_app = sa.Table(
    "tb_housing_app",
    metadata,
    sa.Column("app_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("proj_id", sa.Integer, nullable=False),
    sa.Column("pid", sa.String(17), nullable=False),
    sa.Column("pid_digits", sa.String(17), sa.Computed(PID_DIGITS, persisted=True)),
    sa.Column("household_size", sa.SmallInteger, nullable=False),
    sa.Column("income_month", sa.Numeric(12, 2), nullable=False),
    sa.Column("applied_dt", sa.Date, nullable=False),
    sa.Column("status", sa.CHAR(1), nullable=False),
)

tb_community = sa.Table(
    "tb_community",
    metadata,
    sa.Column("comm_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dist_id", sa.SmallInteger, nullable=False),
    sa.Column("comm_name", sa.String(255), nullable=False),
    sa.Column("comm_type", sa.String(50), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
)

sa.Index("ix_elder_allow_pid", tb_elder_allow.c.pid_digits)
sa.Index("ix_elder_allow_dist", tb_elder_allow.c.dist_id)
sa.Index("ix_disab_allow_pid", tb_disab_allow.c.pid_digits)
sa.Index("ix_disab_allow_dist", tb_disab_allow.c.dist_id)
sa.Index("ix_funeral_aid_pid", tb_funeral_aid.c.deceased_pid_digits)
sa.Index("ix_homeless_count_dist", tb_homeless_count.c.dist_id)
sa.Index("ix_homeless_person_dist", tb_homeless_person.c.dist_id)
sa.Index("ix_housing_app_pid", tb_housing_app.c.pid_digits)
sa.Index("ix_homeless_person_pid", tb_homeless_person.c.pid_digits)
sa.Index("ix_housing_app_proj", tb_housing_app.c.proj_id)

# The hub's outbox, committed with each sync batch (see hub.sources.outbox).
hub_batch, hub_outbox = outbox_tables(metadata)
