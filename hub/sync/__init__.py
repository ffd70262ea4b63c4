"""Integrator sync: batch writes into the owning source, idempotent, versioned, audited and fed out as changes."""
