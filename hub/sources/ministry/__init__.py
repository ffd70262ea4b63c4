"""The ministry's database (MSDHS; national data, tidy conventions)."""
