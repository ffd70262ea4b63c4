"""The city's database (BMA; Bangkok only, legacy conventions)."""
