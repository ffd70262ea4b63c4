"""The hub: one GraphQL view over the ministry's and the city's social-welfare databases."""
