"""Federation: a source that is down gives partial data and SOURCE_UNAVAILABLE, and the hub recovers."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub.app import create_app
from hub.bootstrap import migrate_all
from hub.databases import Databases
from hub.sources.city import tables as city
from hub.sources.ministry import tables as ministry
from tests import factories as f
from tests.backends import SERVERS, create_databases, drop_databases
from tests.conftest import settings_for
from tests.proxy import behind_proxy
from tests.tokens import mint

CID = f.citizen_id("110200345678")
QUERY = """
query($id: CitizenId!) {
  person(citizenId: $id) {
    citizenId sources firstName
    cases { caseId }
    elderlyAllowances { benefitId monthlyAmount }
  }
}
"""


@pytest.fixture(scope="module")
def planted(backend_kind, tmp_path_factory):
    async def setup():
        test_dbs = await create_databases(backend_kind, tmp_path_factory.mktemp("federation"))
        databases = Databases.from_settings(settings_for(test_dbs.urls))
        try:
            await migrate_all(databases)
            await f.insert(databases["ministry"], ministry.person, [f.person(CID)])
            await f.insert(databases["ministry"], ministry.welfare_case, [f.case(77, CID)])
            await f.insert(databases["city"], city.tb_elder_allow, [f.elder_allowance(CID, reg_id=1)])
        finally:
            await databases.dispose()
        return test_dbs

    test_dbs = asyncio.run(setup())
    yield test_dbs
    asyncio.run(drop_databases(test_dbs))


def _post(client, token):
    response = client.post(
        "/graphql", json={"query": QUERY, "variables": {"id": CID}},
        headers={"Authorization": f"Bearer {token}", "X-Purpose": "test"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _assert_city_unavailable(body):
    person = body["data"]["person"]
    assert person["citizenId"] == CID and person["firstName"] == "สมชาย"
    assert person["cases"] == [{"caseId": 77}]
    assert person["elderlyAllowances"] is None
    [error] = [e for e in body["errors"] if e["extensions"]["code"] == "SOURCE_UNAVAILABLE"]
    assert error["extensions"]["source"] == "city"
    assert error["path"] == ["person", "elderlyAllowances"]
    assert "127.0.0.1" not in str(body) and "mysql" not in str(body).lower()


def test_city_on_a_dead_port_gives_ministry_data_and_a_typed_error(planted):
    urls = dict(planted.urls)
    urls["city"] = "mysql+asyncmy://root@127.0.0.1:9/nowhere"
    settings = settings_for(urls, source_timeout=3)
    token = mint(settings, "ministry:read city:read pii:read")
    with TestClient(create_app(settings)) as client:
        _assert_city_unavailable(_post(client, token))


def test_city_server_stopped_mid_test_and_back(planted):
    if planted.kind != SERVERS:
        pytest.skip("needs the city on a database server (MariaDB)")
    with behind_proxy(planted.urls, "city", 3306) as (proxy, urls):
        settings = settings_for(urls, source_timeout=3)
        token = mint(settings, "ministry:read city:read pii:read")
        with TestClient(create_app(settings)) as client:
            healthy = _post(client, token)
            assert "errors" not in healthy
            assert healthy["data"]["person"]["elderlyAllowances"] == [{"benefitId": "E1", "monthlyAmount": "700.00"}]

            proxy.stop()  # the city's server goes away, pooled connections die with it
            _assert_city_unavailable(_post(client, token))
            assert client.get("/readyz").status_code == 503

            proxy.start()  # and comes back: the hub recovers without a restart
            recovered = _post(client, token)
            assert "errors" not in recovered, recovered
            assert recovered["data"]["person"]["elderlyAllowances"] == [{"benefitId": "E1", "monthlyAmount": "700.00"}]
            assert client.get("/readyz").status_code == 200


def test_pooled_ministry_connections_closed_by_the_server_are_replaced(planted):
    """PostgreSQL closes every connection of the ministry's database (a restart, an operator): the
    next request reads on fresh connections and answers in full, no error shown."""
    if planted.kind != SERVERS:
        pytest.skip("needs the ministry on a database server (PostgreSQL)")
    from tests.backends import POSTGRES_ADMIN, _admin

    name = sa.make_url(planted.urls["ministry"]).database
    settings = settings_for(planted.urls)
    token = mint(settings, "ministry:read city:read pii:read")
    with TestClient(create_app(settings)) as client:
        before = _post(client, token)
        assert "errors" not in before and before["data"]["person"]["cases"] == [{"caseId": 77}]
        for _ in range(5):  # the driver learns of the closing at different moments
            asyncio.run(_admin(POSTGRES_ADMIN, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                               f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
            after = _post(client, token)
            assert "errors" not in after, after
            assert after == before


def test_one_key_reads_what_several_keys_read(seeded_databases):
    """A lookup of one key runs as `key = value` (PostgreSQL's `= ANY` of one value costs it about
    twice as much), and finds exactly what the same key finds in a lookup of several."""
    from hub.federation import RequestSources, load_related, load_together, relation_statement
    from hub.sources.city import bindings as city_bindings
    from resolvers.persons import CITY_IDENTITY, MINISTRY_PERSON

    async def check():
        databases = Databases.from_settings(settings_for(seeded_databases.urls))
        sources = RequestSources(databases.engines, timeout=10)
        try:
            async with databases["city"].connect() as connection:
                holders = [row[0] for row in await connection.execute(
                    sa.select(city.tb_elder_allow.c.pid_digits).distinct().order_by(city.tb_elder_allow.c.pid_digits).limit(5))]
                registrations = [row[0] for row in await connection.execute(
                    sa.select(city.tb_allow_pay.c.reg_id).where(city.tb_allow_pay.c.reg_kind == "E")
                    .distinct().order_by(city.tb_allow_pay.c.reg_id).limit(5))]
            assert len(holders) == 5 and len(registrations) == 5
            async def registrations_of(keys):
                return (await load_together(sources["city"], CITY_IDENTITY, keys, None))[0]

            lookups = [
                (sources["ministry"], lambda keys: load_related(sources["ministry"], MINISTRY_PERSON, keys, None), holders),
                (sources["city"], registrations_of, holders),
                (sources["city"], lambda keys: load_related(sources["city"], city_bindings.ELDERLY_PAYMENTS, keys, None),
                 registrations),
            ]
            for _session, lookup, keys in lookups:
                together = await lookup(keys)
                found = 0
                for key in keys:
                    alone = await lookup([key])
                    if isinstance(together, list):  # load_together: one mapping per relation
                        assert [dict(g).get(key, []) for g in alone] == [g.get(key, []) for g in together]
                        found += sum(len(g.get(key, [])) for g in together)
                    else:
                        assert dict(alone).get(key, []) == together.get(key, [])
                        found += len(together.get(key, []))
                assert found >= len(keys)  # every key found something: the comparison is not of empties
            dialect = databases["ministry"].dialect
            one = str(relation_statement(MINISTRY_PERSON, None, dialect.name, True).compile(dialect=dialect))
            several = str(relation_statement(MINISTRY_PERSON, None, dialect.name).compile(dialect=dialect))
            assert "person.citizen_id = " in one and " IN " not in one and "ANY" not in one
            assert ("ANY" in several) == (dialect.name == "postgresql")
        finally:
            await sources.close()
            await databases.dispose()

    asyncio.run(check())


def test_followed_rows_are_ordered_as_each_database_orders_them(seeded_databases):
    """Rows read with their parents are put in the order the relation's own statement gives on
    the same database, NULLs included (first on SQLite and MariaDB, last on PostgreSQL)."""
    from hub.federation import _sort_key

    values = ["202403", None, "202401", "202402", None]
    union = " UNION ALL ".join(f"SELECT {'NULL' if v is None else repr(v)} AS v, {n} AS k"
                               for n, v in enumerate(values))

    async def check():
        databases = Databases.from_settings(settings_for(seeded_databases.urls))
        try:
            for name in ("ministry", "city"):
                engine = databases[name]
                async with engine.connect() as connection:
                    ordered = [tuple(row) for row in await connection.execute(
                        sa.text(f"SELECT v, k FROM ({union}) AS t ORDER BY v, k"))]
                rows = [(v, n) for n, v in enumerate(values)]
                nulls_first = engine.dialect.name != "postgresql"
                assert sorted(rows, key=lambda r: _sort_key(r, [0, 1], nulls_first)) == ordered, engine.dialect.name
        finally:
            await databases.dispose()

    asyncio.run(check())
