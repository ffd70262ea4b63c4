"""The ministry's tables as the hub reads them (migrations/ministry creates them)."""

import sqlalchemy as sa

from hub.sources.outbox import outbox_tables

metadata = sa.MetaData()

person = sa.Table(
    "person",
    metadata,
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
)

household = sa.Table(
    "household",
    metadata,
    sa.Column("household_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("house_code", sa.CHAR(11)),
    sa.Column("address_th", sa.String(255), nullable=False),
    sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
    sa.Column("in_bmn", sa.Boolean, nullable=False),
    sa.Column("has_welfare_card", sa.Boolean, nullable=False),
    sa.Column("logbook_stage", sa.SmallInteger),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

mpi_assessment = sa.Table(
    "mpi_assessment",
    metadata,
    sa.Column("household_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("survey_year", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("indicator", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("deprived", sa.Boolean, nullable=False),
)

disability_card = sa.Table(
    "disability_card",
    metadata,
    sa.Column("card_no", sa.String(20), primary_key=True),
    sa.Column("citizen_id", sa.CHAR(13), nullable=False),
    sa.Column("disability_type", sa.SmallInteger, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

welfare_case = sa.Table(
    "welfare_case",
    metadata,
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
)

child_support_grant = sa.Table(
    "child_support_grant",
    metadata,
    sa.Column("grant_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("child_citizen_id", sa.CHAR(13), nullable=False),
    sa.Column("carer_citizen_id", sa.CHAR(13), nullable=False),
    sa.Column("monthly_amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date),
)

volunteer = sa.Table(
    "volunteer",
    metadata,
    sa.Column("volunteer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("citizen_id", sa.CHAR(13), nullable=False),
    sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

assistance_centre = sa.Table(
    "assistance_centre",
    metadata,
    sa.Column("centre_code", sa.String(10), primary_key=True),
    sa.Column("subdistrict_code", sa.CHAR(6), nullable=False),
    sa.Column("name_th", sa.String(255), nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
)

sa.Index("ix_person_household", person.c.household_id)
sa.Index("ix_person_subdistrict", person.c.subdistrict_code)
sa.Index("ix_household_subdistrict", household.c.subdistrict_code)
sa.Index("ix_disability_card_citizen", disability_card.c.citizen_id)
sa.Index("ix_welfare_case_citizen", welfare_case.c.citizen_id)
sa.Index("ix_welfare_case_subdistrict", welfare_case.c.subdistrict_code)
sa.Index("ix_welfare_case_household", welfare_case.c.household_id)
sa.Index("ix_child_support_child", child_support_grant.c.child_citizen_id)
sa.Index("ix_child_support_carer", child_support_grant.c.carer_citizen_id)
sa.Index("ix_volunteer_citizen", volunteer.c.citizen_id)

# The hub's outbox, committed with each sync batch (see hub.sources.outbox).
hub_batch, hub_outbox = outbox_tables(metadata)
