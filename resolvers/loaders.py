"""Per-request DataLoaders over the declarative relations, and the error shape of a source outage."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from hub.bindings import Relation
from hub.context import Context
from hub.federation import SourceUnavailable, load_related


def source_error(exc: SourceUnavailable) -> GraphQLError:
    return GraphQLError(
        f"the {exc.source} source is unavailable; fields from it are null",
        extensions={"code": "SOURCE_UNAVAILABLE", "source": exc.source},
    )


def relation_key(relation: Relation) -> tuple:
    return ("relation", relation.target.name, relation.by.key, relation.parent_field)


def relation_loader(context: Context, relation: Relation) -> DataLoader:
    """One loader per relation per request: every key asked for in one tick becomes one statement."""
    cache_key = relation_key(relation)
    loader = context.loaders.get(cache_key)
    if loader is None:
        session = context.sources[relation.target.source]

        async def batch(keys: list) -> list:
            grouped = await load_related(session, relation, keys, context.subject.districts)
            for records in grouped.values():
                context.saw(records)
            return [grouped.get(key, []) for key in keys]

        loader = context.loaders[cache_key] = DataLoader(load_fn=batch)
    return loader


def related(relation: Relation) -> Callable:
    """A resolver for a field that follows `relation` from its parent record."""

    async def resolve(root, info: strawberry.Info[Context]):
        key = getattr(root, relation.parent_field)
        if key is None:
            return [] if relation.many else None
        try:
            records = await relation_loader(info.context, relation).load(key)
        except SourceUnavailable as exc:
            raise source_error(exc) from None
        if relation.many:
            return records
        return records[0] if records else None

    resolve.__name__ = f"resolve_{relation.name}"
    # What the compiled execution path reads to load this field in one statement per level.
    resolve.relation_for = lambda root: relation
    resolve.relation = relation
    resolve.many = relation.many
    resolve.ministry_only = False
    return resolve
