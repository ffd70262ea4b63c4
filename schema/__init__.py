"""The hub's GraphQL schema: strawberry types only; the resolvers live in resolvers/."""
