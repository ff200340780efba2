"""CLI command modules; each registers its commands on verify.app.app."""
