"""Resolvers: read the request context, call the sources, return schema types. No HTTP here."""
